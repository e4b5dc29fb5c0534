/**
 * `rollout sandbox`: which commands it prints to try against the sandbox, and
 * how it prints them. Pure: no I/O, no clock, no environment (the caller runs
 * each command once, on a throw-away copy, to learn its exit code).
 */
import type { Verdict } from "./gate";
import { shellCommand } from "./shell";
import { STAGES, Stage } from "./stages";

/** The stage a sandbox stops at unless told otherwise: the first gradual stage, soaked. */
export const DEFAULT_SANDBOX_STAGE: Stage = STAGES[2];

/** Where a sandbox may stop: mid-rollout, strictly between the first and the last stage. */
export const SANDBOX_STAGES: readonly Stage[] = STAGES.slice(1, -1);

/** The environment variable the printed commands read the sandbox's database from (as every `rollout` command does). */
export const SANDBOX_URL_ENV = "ROLLOUT_DATABASE_URL";

/** The command that stops the sandbox. */
export const STOP_ARGV: readonly string[] = ["npx", "rollout", "sandbox", "--stop"];

export interface TryCommand {
  /** The words of the command, `npx` first. */
  argv: string[];
  /** What it shows. */
  purpose: string;
}

export interface TriedCommand extends TryCommand {
  exitCode: number;
}

/**
 * The commands to try, in order, against a sandbox of `stack` whose scratch
 * stack files are in `projectDir` and whose gate says `verdict`. `advance`
 * writes into the scratch copy on PROCEED; the rollback that follows is the
 * one the verdict calls for (immediate on ROLLBACK, gradual otherwise).
 */
export function sandboxCommands(stack: string, projectDir: string, verdict: Verdict): TryCommand[] {
  const rollout = (sub: string, ...more: string[]) => ["npx", "rollout", sub, "--stack", stack, "--project-dir", projectDir, ...more];
  return [
    { argv: rollout("status"), purpose: "configured vs deployed stage, live metrics, the verdict" },
    { argv: rollout("gate"), purpose: "the verdict for the deployed stage, as the exit code" },
    { argv: rollout("advance"), purpose: verdict === "PROCEED" ? "writes the next stage into the scratch copy" : "refuses: the gate does not say PROCEED" },
    verdict === "ROLLBACK"
      ? { argv: rollout("rollback", "--immediate"), purpose: "both flags off in the scratch copy" }
      : { argv: rollout("rollback"), purpose: "one stage back in the scratch copy" },
  ];
}

/** The same commands with the project folder replaced (to rehearse them on a copy). */
export function withProjectDir(cmds: readonly TryCommand[], projectDir: string): TryCommand[] {
  return cmds.map((c) => {
    const argv = [...c.argv];
    const i = argv.indexOf("--project-dir");
    if (i >= 0) argv[i + 1] = projectDir;
    return { ...c, argv };
  });
}

const VERDICT_OF_CODE: Readonly<Record<number, string>> = { 0: "", 3: "WAIT", 4: "PAUSE", 5: "ROLLBACK" };

/** `# exit 4 (PAUSE): refuses: ...`, the comment printed after a command. */
export function exitComment(c: TriedCommand): string {
  const v = VERDICT_OF_CODE[c.exitCode];
  return `# exit ${c.exitCode}${v ? ` (${v})` : ""}: ${c.purpose}`;
}

export interface SandboxSummary {
  stack: string;
  stage: Stage;
  flagsOn: boolean;
  verdict: Verdict;
  inject: string | null;
  database: string;
  url: string;
  dir: string;
  projectDir: string;
  stateFile: string;
  commands: TriedCommand[];
  asOf: string;
}

/** What `rollout sandbox` prints: where it is, the URL, the commands with their exit codes, the stop command. */
export function formatSandbox(s: SandboxSummary): string {
  const lines = s.commands.map((c) => shellCommand(c.argv));
  const width = Math.max(...lines.map((l) => l.length));
  let t = `rollout sandbox: stack ${s.stack} stopped mid-rollout at ${s.stage}% (flags ${s.flagsOn ? "on" : "off"})` +
    `${s.inject ? `, with ${s.inject} injected` : ""}; its gate says ${s.verdict}\n`;
  t += `  database: ${s.database}, left running with the drill's rollout records and traffic\n`;
  t += `  url:      ${s.url}\n`;
  t += `  stack files: a scratch copy in ${s.projectDir} (no tracked file is touched)\n`;
  t += `  state:    ${s.stateFile}\n\n`;
  t += `Try these, in this order (each line's exit code, as of ${s.asOf}, after the #):\n`;
  t += `  ${shellCommand(["export", `${SANDBOX_URL_ENV}=${s.url}`])}\n`;
  s.commands.forEach((c, i) => (t += `  ${lines[i].padEnd(width)}  ${exitComment(c)}\n`));
  t += `\nStop it (stops PostgreSQL, removes ${s.dir}):\n  ${shellCommand(STOP_ARGV)}\n`;
  return t;
}
