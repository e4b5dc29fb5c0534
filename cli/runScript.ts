/**
 * The common entry point of the scripts (cli/*.ts): parse with the project's CLI convention
 * (cli/convention.ts: an unknown option before a missing one, with a suggestion), and report an error in one line.
 * Exit codes: 0, or 2 for a usage error (unknown option or command, missing or bad argument), 1 for any other error.
 */
import { Command, CommanderError } from "commander";
import { parseErrorExitCode, strictCli } from "./convention";

export interface ScriptIo {
  err(s: string): void;
  /** Where --help goes (default: stdout). */
  out?(s: string): void;
}

/** Parse `argv` and run the action; returns the exit code (for tests; `runScript` sets process.exitCode). */
export function runScriptMain(name: string, cli: Command, argv: string[], io: ScriptIo = { err: (s) => process.stderr.write(s) }): number {
  try {
    strictCli(cli.exitOverride().configureOutput({ writeErr: io.err, ...(io.out ? { writeOut: io.out } : {}) })).parse(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return parseErrorExitCode(e); // commander has printed its message
    io.err(`${name}: ${(e as Error).message}\n`);
    return 1;
  }
}

export function runScript(name: string, cli: Command): void {
  const code = runScriptMain(name, cli, process.argv);
  if (code !== 0) process.exitCode = code;
}

export interface ExitIo {
  err(s: string): void;
  exit(code: number): void;
}

/**
 * The entry point of a script whose async main returns its exit code and whose process must end
 * when it does (an open connection or pool would otherwise keep it alive): exits with that code,
 * or with 1 after one line "<name>: unexpected error: …", the error's stack or message, when main throws.
 */
export function exitWithMain(
  name: string,
  main: () => Promise<number>,
  detail: "stack" | "message",
  io: ExitIo = { err: (s) => process.stderr.write(s), exit: (code) => process.exit(code) },
): Promise<void> {
  return main().then(
    (code) => io.exit(code),
    (err: unknown) => {
      io.err(`${name}: unexpected error: ${err instanceof Error ? err[detail] : String(err)}\n`);
      io.exit(1);
    },
  );
}
