/**
 * npm run verify [-- --skip-tests] [--only <ids...>] [--skip <ids...>] [--project-dir <dir>] [--list]
 *
 * The guide's verify-phase3-integration.sh for this project: type-check, tests,
 * every stack file against the schema, squawk on the migrations, promtool on
 * the rendered rules, the workflow validator. One line per check with a mark,
 * then a summary; a check still running after a few seconds shows progress on
 * stderr (the tests step: its passing and failing counts so far). Exit 0 when every check that ran passed, 1 on any failure,
 * 2 on a bad option. The checks are tools/verify.ts.
 */
import * as path from "node:path";
import { Command, CommanderError } from "commander";
import { parseErrorExitCode, strictCli } from "./convention";
import { formatOutcome, formatProgress, runChecks, summarize, verifyChecks } from "../tools/verify";
import { PROJECT_DIR } from "../program/projectDir";

interface Opts {
  skipTests?: boolean;
  only?: string[];
  skip?: string[];
  projectDir: string;
  list?: boolean;
}

export function createVerifyCli(): Command {
  return new Command("verify")
    .description("Verify the project: types, tests, stack files, migrations, alert rules, workflows")
    .option("--skip-tests", "do not run npm test (CI runs it separately; the test suite runs verify this way)")
    .option("--only <ids...>", "run only these checks (see --list); `stack` selects every stack:<name> check")
    .option("--skip <ids...>", "leave these checks out")
    .option("--project-dir <dir>", "the project to verify", PROJECT_DIR)
    .option("--list", "list the checks and exit")
    .action(async (opts: Opts) => {
      const projectDir = path.resolve(opts.projectDir);
      const all = verifyChecks(projectDir);
      const ids = all.map((c) => c.id);
      const matches = (sel: string, id: string) => sel === id || (sel === "stack" && id.startsWith("stack:"));
      for (const sel of [...(opts.only ?? []), ...(opts.skip ?? [])]) {
        if (!ids.some((id) => matches(sel, id))) {
          throw new CommanderError(2, "verify.unknownCheck", `unknown check "${sel}"; checks are: ${ids.join(", ")} (or "stack" for every stack file)`);
        }
      }
      if (opts.list) {
        for (const c of all) process.stdout.write(`${c.id.padEnd(18)} ${c.title}\n`);
        return;
      }
      const selected = all.filter(
        (c) => (!opts.only || opts.only.some((s) => matches(s, c.id))) && !(opts.skip ?? []).some((s) => matches(s, c.id)),
      );
      process.stdout.write(`verify: ${projectDir}\n`);
      // Progress of a long check goes to stderr, so stdout stays one line per check and the summary.
      const outcomes = await runChecks(selected, { projectDir, skipTests: Boolean(opts.skipTests) }, (o) => process.stdout.write(formatOutcome(o) + "\n"), {
        onProgress: (p) => process.stderr.write(formatProgress(p) + "\n"),
      });
      const s = summarize(outcomes);
      process.stdout.write(s.text + "\n");
      process.exitCode = s.ok ? 0 : 1;
    });
}

/** Parse and run; returns the exit code of a parse error (2; 0 for --help), or undefined when the checks ran (they set process.exitCode). */
export async function main(argv: string[], io: { err(s: string): void; out?(s: string): void } = { err: (s) => process.stderr.write(s) }): Promise<number | undefined> {
  try {
    await strictCli(createVerifyCli().exitOverride().configureOutput({ writeErr: io.err, ...(io.out ? { writeOut: io.out } : {}) })).parseAsync(argv);
    return undefined;
  } catch (e: unknown) {
    if (e instanceof CommanderError) {
      if (e.code === "verify.unknownCheck") io.err(`verify: ${e.message}\n`);
      return parseErrorExitCode(e);
    }
    io.err(`verify: ${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    if (code !== undefined) process.exitCode = code;
  });
}
