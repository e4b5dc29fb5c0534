/**
 * Build one stack's pull-request comment (preview + gate verdict) and the
 * check's decision.
 *
 *   npm run --silent ci:pr-comment -- --stack prod --changes changes.json \
 *     --preview-outcome success [--preview-env PREVIEW_OUTPUT] \
 *     [--gate-json gate.json --gate-exit 3 --gate-stderr gate.err] \
 *     [--timeline timeline.json --author-env PR_AUTHOR] [--gate-config-env GATE_CONFIG_NOTE] [--secret-env ROLLOUT_DATABASE_URL ...] \
 *     [--report-json report.json] [--report-url-env REPORT_URL] \
 *     --out comment.md [--github-output "$GITHUB_OUTPUT"]
 *
 * Thin: the logic is ci/comment.ts. Writes the markdown to --out and
 * `status=pass|blocked|overridden`, `verdict=` and `message=` lines to
 * --github-output. Exit 0 whatever the verdict (a later step enforces it, after
 * the comment is posted); 1 on bad input.
 */
import * as fs from "node:fs";
import { Command, InvalidArgumentError } from "commander";
import { OVERRIDE_LABEL, buildStackReview } from "../ci/comment";
import type { Detection } from "../ci/detect";
import { OverrideStatus, overrideStatus } from "../ci/override";
import { runScript } from "./runScript";

function exitCode(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 255) throw new InvalidArgumentError(`"${v}" is not a process exit code (0-255)`);
  return n;
}

function readIfExists(file: string | undefined): string | undefined {
  return file !== undefined && fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
}

interface Opts {
  stack: string;
  changes: string;
  previewOutcome?: string;
  previewEnv: string;
  gateJson?: string;
  gateExit?: number;
  gateStderr?: string;
  timeline?: string;
  authorEnv: string;
  gateConfigEnv: string;
  overrideLabel: string;
  secretEnv: string[];
  runUrl?: string;
  reportJson?: string;
  reportUrlEnv: string;
  out: string;
  githubOutput?: string;
}

export function createPrCommentCli(env: NodeJS.ProcessEnv = process.env): Command {
  return new Command("pr-comment")
    .description("Build a stack's rollout review comment (preview + gate verdict) and the check's decision")
    .requiredOption("--stack <stack>", "the stack")
    .requiredOption("--changes <file>", "the output of `changed-stacks --json`")
    .option("--preview-outcome <outcome>", "the preview step's outcome (success, failure, cancelled, skipped)")
    .option("--preview-env <name>", "environment variable holding the preview output", "PREVIEW_OUTPUT")
    .option("--gate-json <file>", "stdout of `rollout gate --json`")
    .option("--gate-exit <code>", "exit code of `rollout gate`", exitCode)
    .option("--gate-stderr <file>", "stderr of `rollout gate`")
    .option("--gate-config-env <name>", "environment variable holding where the gate's thresholds came from (ci:gate-config's note)", "GATE_CONFIG_NOTE")
    .option("--timeline <file>", "the pull request's timeline or events JSON (GitHub REST): who applied the override label")
    .option("--author-env <name>", "environment variable holding the pull request author's login", "PR_AUTHOR")
    .option("--override-label <label>", "label that lets a non-PROCEED verdict pass", OVERRIDE_LABEL)
    .option("--secret-env <names...>", "environment variables whose values must never appear in the comment", [])
    .option("--run-url <url>", "link to the workflow run")
    .option("--report-json <file>", "stdout of `rollout report --json`: the comment's per-stage charts")
    .option("--report-url-env <name>", "environment variable holding the link to the HTML report (the workflow's artifact)", "REPORT_URL")
    .requiredOption("--out <file>", "where to write the comment's markdown")
    .option("--github-output <file>", "append status=, verdict= and message= lines (GitHub Actions $GITHUB_OUTPUT)")
    .action((opts: Opts) => {
      const detection = JSON.parse(fs.readFileSync(opts.changes, "utf8")) as Detection;
      const decision = detection.stacks.find((s) => s.stack === opts.stack);
      if (!decision) {
        throw new Error(`stack "${opts.stack}" is not among the changed stacks in ${opts.changes}: ${detection.stacks.map((s) => s.stack).join(", ") || "(none)"}`);
      }
      const gateStdout = readIfExists(opts.gateJson);
      if (gateStdout !== undefined && opts.gateExit === undefined) throw new Error("--gate-json needs --gate-exit");
      let override: OverrideStatus | undefined;
      if (opts.timeline !== undefined) {
        const author = env[opts.authorEnv];
        if (!author) throw new Error(`--timeline needs the pull request's author in ${opts.authorEnv}`);
        override = overrideStatus(fs.readFileSync(opts.timeline, "utf8"), author, opts.overrideLabel);
      }
      const review = buildStackReview({
        stack: opts.stack,
        reasons: decision.reasons,
        canarySummary: decision.canary.summary,
        hold: decision.canary.hold,
        raised: decision.canary.raised,
        preview: opts.previewOutcome ? { outcome: opts.previewOutcome, output: env[opts.previewEnv] ?? "" } : undefined,
        gate: gateStdout !== undefined && opts.gateExit !== undefined
          ? { exitCode: opts.gateExit, stdout: gateStdout, stderr: readIfExists(opts.gateStderr) }
          : undefined,
        gateConfigNote: env[opts.gateConfigEnv] || undefined,
        override,
        jump: decision.jump,
        credentialRotation: decision.canary.credentialRotation,
        secrets: opts.secretEnv.map((n) => env[n] ?? "").filter(Boolean),
        runUrl: opts.runUrl,
        report: { json: readIfExists(opts.reportJson), url: env[opts.reportUrlEnv] || undefined },
      });
      fs.writeFileSync(opts.out, review.markdown);
      if (opts.githubOutput) {
        fs.appendFileSync(
          opts.githubOutput,
          `status=${review.decision.status}\nverdict=${review.decision.verdict ?? ""}\nmarker=${review.marker}\nmessage=${review.decision.message.replace(/\n/g, " ")}\n`,
        );
      }
      process.stdout.write(`${review.decision.message}\n`);
    });
}

if (require.main === module) runScript("pr-comment", createPrCommentCli());
