/**
 * `npx rollout <command>`: gate each stage on evidence, advance and roll back
 * through stack config, rehearse the whole rollout locally.
 *
 *   rollout status   --stack <s>   configured vs deployed stage, live metrics, exposure, verdict
 *   rollout gate     --stack <s>   the guide's criteria for the current stage → verdict + exit code
 *   rollout advance  --stack <s>   gate, then on PROCEED write the next stage into Pulumi.<s>.yaml
 *   rollout rollback --stack <s>   one stage back (gradual) or both flags off (--immediate)
 *   rollout hold     --stack <s> --reason <why>   write a hold into Pulumi.<s>.yaml: the gate says PAUSE while it is there
 *   rollout release  --stack <s>   remove the hold (nothing to release: exit 0)
 *   rollout drill                  embedded PostgreSQL, simulated traffic, the gate at every stage
 *   rollout report   --stack <s> --out <file>.html   the guide's dashboard for the rollout so far (docs/report.md)
 *   rollout sandbox [--stop]       a drill stopped mid-rollout, its PostgreSQL left running, to try the commands on
 *   rollout propose  --stack <s>   scheduled: on PROCEED open the next stage's pull request (cli/propose.ts); never merges
 *   rollout responder --stack <s> --repo <o/n>   the relay: Alertmanager's webhook -> a rollback pull request (cli/responder.ts)
 *
 * Exit codes: 0 PROCEED / success, 1 error, 2 usage error, 3 WAIT, 4 PAUSE, 5 ROLLBACK.
 * `--json` prints exactly one JSON object on stdout.
 *
 * `createRolloutCli()` only parses: its actions record what to run, so tests
 * and docs can parse command lines without running anything. `main()` runs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { RolloutConfig } from "../core/configSchema";
import { DEFAULT_INJECT_STAGE, EXPECTED_VERDICT, INJECTS, Inject } from "../core/injects";
import { GateInputError, VERDICT_EXIT_CODES } from "../core/gate";
import { formatGate, formatGateVerbose } from "../core/gateText";
import type { LiveViews } from "../db/rolloutStore";
import type { Assessment } from "../db/assessment";
import type { RolloutReport } from "../core/report/model";
import { ENV_NAMES, STAGES, Stage, flagsOn, isStage, rolloutState, sameState } from "../core/stages";
import { changeBranch, changeSubject, formatSteps, reviewSteps } from "../core/workflow";
import { strictCli } from "./convention";
import { formatDrill, formatEdit, formatHeader, formatStatus, formatSwarm } from "./rolloutText";
import { DEFAULT_DOCKER_HOST, dockerTarget, engineSettings } from "../core/swarmCheck";
import { swarmRunning } from "../core/rollout";
import { LABEL_PREFIX } from "../program/labels";
import { DEFAULT_SANDBOX_STAGE, SANDBOX_STAGES, SANDBOX_URL_ENV, STOP_ARGV, TriedCommand, TryCommand, formatSandbox, sandboxCommands, withProjectDir } from "../core/sandboxCommands";
import { shellCommand } from "../core/shell";
import { NamedError } from "../core/namedError";
import { PROJECT_DIR } from "../program/projectDir";

// What a command needs to run (the database, the stack editor, the drill, the report) is loaded when it runs,
// not to parse the command line: `rollout --help` and a usage error answer without loading them (bench/cli.ts).
const load = {
  store: (): typeof import("../db/rolloutStore") => require("../db/rolloutStore") as typeof import("../db/rolloutStore"),
  assessment: (): typeof import("../db/assessment") => require("../db/assessment") as typeof import("../db/assessment"),
  reportData: (): typeof import("../db/reportData") => require("../db/reportData") as typeof import("../db/reportData"),
  reportHtml: (): typeof import("../core/report/html") => require("../core/report/html") as typeof import("../core/report/html"),
  reportModel: (): typeof import("../core/report/model") => require("../core/report/model") as typeof import("../core/report/model"),
  transitions: (): typeof import("../core/transitions") => require("../core/transitions") as typeof import("../core/transitions"),
  stackEdit: (): typeof import("../stack/stackEdit") => require("../stack/stackEdit") as typeof import("../stack/stackEdit"),
  stackFile: (): typeof import("../stack/stackFile") => require("../stack/stackFile") as typeof import("../stack/stackFile"),
  stackFileError: (): typeof import("../stack/stackFileError") => require("../stack/stackFileError") as typeof import("../stack/stackFileError"),
  drill: (): typeof import("../drill/drill") => require("../drill/drill") as typeof import("../drill/drill"),
  sandbox: (): typeof import("../drill/sandbox") => require("../drill/sandbox") as typeof import("../drill/sandbox"),
  propose: (): typeof import("./propose") => require("./propose") as typeof import("./propose"),
  github: (): typeof import("../ci/github") => require("../ci/github") as typeof import("../ci/github"),
  git: (): typeof import("../ci/git") => require("../ci/git") as typeof import("../ci/git"),
  redact: (): typeof import("../core/redact") => require("../core/redact") as typeof import("../core/redact"),
  config: (): typeof import("../core/config") => require("../core/config") as typeof import("../core/config"),
  stackEditError: (): typeof import("../stack/stackEditError") => require("../stack/stackEditError") as typeof import("../stack/stackEditError"),
  migrate: (): typeof import("../db/migrate") => require("../db/migrate") as typeof import("../db/migrate"),
  swarmService: (): typeof import("../program/swarmService") => require("../program/swarmService") as typeof import("../program/swarmService"),
};

/** Exit codes (README "rollout"): each verdict has its own. */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  WAIT: VERDICT_EXIT_CODES.WAIT,
  PAUSE: VERDICT_EXIT_CODES.PAUSE,
  ROLLBACK: VERDICT_EXIT_CODES.ROLLBACK,
} as const;

/** Bad arguments found after parsing (e.g. no database URL anywhere). */
export class UsageError extends NamedError {}

/** The stack file and the deployed state disagree in a way that makes the command unsafe. */
export class StateError extends NamedError {}

// ---------------------------------------------------------------------------
// Parsing

interface CommonOptions {
  stack: string;
  projectDir?: string;
  json: boolean;
}
interface DbOptions extends CommonOptions {
  databaseUrl?: string;
  /** status, gate, advance: the full text. */
  verbose?: boolean;
}
export type Invocation =
  | { command: "status"; options: DbOptions }
  | { command: "gate"; options: DbOptions }
  | { command: "advance"; options: DbOptions & { to?: Stage; force: boolean; reason?: string; dryRun: boolean } }
  | { command: "rollback"; options: CommonOptions & { immediate: boolean; dryRun: boolean } }
  | { command: "hold"; options: CommonOptions & { reason: string; by?: string; dryRun: boolean } }
  | { command: "release"; options: CommonOptions & { dryRun: boolean } }
  | {
      command: "drill";
      options: { stack: string; projectDir?: string; json: boolean; inject?: Inject; injectAt?: Stage; databaseUrl?: string; seed?: number; report?: string };
    }
  | { command: "report"; options: DbOptions & { out: string } }
  | { command: "sandbox"; options: SandboxOptions }
  | { command: "propose"; options: ProposeCliOptions }
  | { command: "responder"; options: ResponderCliOptions };

interface ResponderCliOptions extends CommonOptions {
  repo: string;
  apiUrl: string;
  serverUrl: string;
  base: string;
  listen: { host: string; port: number };
  githubTokenFile: string;
  bearerTokenFile: string;
}

/** Where the service's Docker secrets are mounted (components/responder.ts declares them there). */
export const RESPONDER_SECRET_FILES = { githubToken: "/run/secrets/responder-github-token", bearerToken: "/run/secrets/responder-bearer-token" } as const;

interface ProposeCliOptions extends DbOptions {
  dryRun: boolean;
  repo?: string;
  apiUrl?: string;
  remote: string;
  base: string;
}

interface SandboxOptions {
  stack: string;
  at: Stage;
  inject?: Inject;
  seed?: number;
  stop: boolean;
  json: boolean;
}

const invocations = new WeakMap<Command, Invocation>();

/** What the last `parse` of a command line built by createRolloutCli() asked for. */
export function parsedInvocation(cli: Command): Invocation | undefined {
  return invocations.get(cli);
}

function parseStage(v: string): Stage {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !isStage(n)) throw new InvalidArgumentError(`"${v}" is not a stage; allowed: ${STAGES.join(", ")}`);
  return n;
}

/** A report file: any path that ends in .html. */
function parseHtmlFile(v: string): string {
  if (!/\.html?$/i.test(v) || path.basename(v).replace(/\.html?$/i, "") === "") {
    throw new InvalidArgumentError(`"${v}" is not an HTML file name; allowed: a path ending in .html, e.g. rollout-report.html`);
  }
  return v;
}

/** A stage a sandbox may stop at: mid-rollout. */
function parseSandboxStage(v: string): Stage {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !isStage(n) || !SANDBOX_STAGES.includes(n)) {
    throw new InvalidArgumentError(`"${v}" is not a mid-rollout stage; allowed: ${SANDBOX_STAGES.join(", ")}`);
  }
  return n;
}

function parseSeed(v: string): number {
  if (!/^\d{1,9}$/.test(v)) throw new InvalidArgumentError(`"${v}" is not a seed; allowed: an integer from 0 to 999999999`);
  return Number(v);
}

/** GitHub's REST API, when neither --api-url nor GITHUB_API_URL says otherwise. */
const DEFAULT_GITHUB_API = "https://api.github.com";

/** A git remote or branch name that cannot be read as an option or a range: letters, digits, ".", "_", "-" (and "/" inside a branch). */
function parseGitName(what: "remote" | "branch"): (v: string) => string {
  const re = what === "remote" ? /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/ : /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;
  return (v) => {
    if (!re.test(v) || v.includes("..") || v.endsWith("/") || v.endsWith(".lock")) {
      throw new InvalidArgumentError(`"${v}" is not a ${what} name; allowed: letters, digits, ".", "_", "-"${what === "branch" ? ' and "/"' : ""}, starting with a letter or digit`);
    }
    return v;
  };
}

const DB_URL_HELP =
  "PostgreSQL URL of the monitoring database (default: $ROLLOUT_DATABASE_URL, then $DATABASE_URL; prefer the environment, a URL on the command line is visible to other users)";

/** The rollout command line. Parsing records the invocation; nothing runs. */
export function createRolloutCli(): Command {
  const root = new Command("rollout")
    .description("Gate each canary stage on evidence, advance and roll back through stack config, rehearse the rollout locally")
    .exitOverride()
    .showHelpAfterError(helpHint(undefined))
    .addHelpText(
      "after",
      `\nExit codes: 0 PROCEED (or success), 1 error, 2 usage error, 3 WAIT, 4 PAUSE, 5 ROLLBACK.\nStart with: npx rollout drill`,
    );
  const record = (inv: Invocation): void => {
    invocations.set(root, inv);
  };

  const common = (c: Command) =>
    c
      .requiredOption("--stack <name>", "stack name: reads Pulumi.<name>.yaml")
      .option("--project-dir <path>", "folder with the Pulumi.<stack>.yaml files (default: this project's folder)")
      .option("--json", "print one JSON object on stdout", false);
  const db = (c: Command) => c.option("--database-url <url>", DB_URL_HELP);
  const verbose = (c: Command) =>
    c.option("--verbose", "also print every bound with its confidence, the α plan, the looks (status: the history and the 24 h views too)", false);

  verbose(db(common(root.command("status").description("Configured and deployed stage, live metrics by version, exposure check, verdict")))).action(
    (o: DbOptions) => record({ command: "status", options: o }),
  );

  verbose(db(
    common(
      root
        .command("gate")
        .description("Evaluate the guide's criteria for the deployed stage; the verdict is the exit code (0 PROCEED, 3 WAIT, 4 PAUSE, 5 ROLLBACK)"),
    ),
  )).action((o: DbOptions) => record({ command: "gate", options: o }));

  verbose(db(common(root.command("advance").description("Run the gate; on PROCEED write the next stage into Pulumi.<stack>.yaml (as `pulumi config set` would)"))))
    .option("--to <stage>", `target stage (default: the next one); one of ${STAGES.join(", ")}`, parseStage)
    .option("--force", "allow skipping stages (requires --reason; the reason is recorded in the stack file)", false)
    .option("--reason <text>", "why a stage is skipped (with --force)")
    .option("--dry-run", "print the change without writing the file", false)
    .action((o: DbOptions & { to?: Stage; force: boolean; reason?: string; dryRun: boolean }) => {
      if (o.force && (o.reason === undefined || o.reason.trim() === "")) {
        throw new UsageError(`--force needs --reason "<why>": a skipped stage is recorded with its reason`);
      }
      record({ command: "advance", options: o });
    });

  common(root.command("rollback").description("Step back one stage (gradual, down to 0), or --immediate: both flags off (the guide's immediate rollback)"))
    .option("--immediate", "turn both flags off, leave the percentage (critical issues)", false)
    .option("--dry-run", "print the change without writing the file", false)
    .action((o: CommonOptions & { immediate: boolean; dryRun: boolean }) => record({ command: "rollback", options: o }));

  common(root.command("hold").description("Hold the rollout for what no metric sees (the guide's \"critical bugs reported\"): write who, when and why into Pulumi.<stack>.yaml; the gate says PAUSE until `rollout release`"))
    .requiredOption("--reason <text>", "why (the bug, a link); written into the stack file, one line")
    .option("--by <name>", "who holds (default: $GIT_AUTHOR_NAME, else git's user.name, else $USER)")
    .option("--dry-run", "print the change without writing the file", false)
    .action((o: CommonOptions & { reason: string; by?: string; dryRun: boolean }) => {
      if (o.reason.trim() === "") throw new UsageError(`--reason is empty: a hold says why (which bug, a link)`);
      record({ command: "hold", options: o });
    });

  common(root.command("release").description("Remove the hold from Pulumi.<stack>.yaml (a reviewed change, like the hold); with no hold, says so and exits 0"))
    .option("--dry-run", "print the change without writing the file", false)
    .action((o: CommonOptions & { dryRun: boolean }) => record({ command: "release", options: o }));

  root
    .command("drill")
    .description("Rehearse the whole rollout locally: embedded PostgreSQL, migrations, simulated traffic and the gate at every stage")
    .option("--stack <name>", "stack whose thresholds and gate settings to use", "prod")
    .option("--project-dir <path>", "folder with the Pulumi.<stack>.yaml files (default: this project's folder)")
    .addOption(new Option("--inject <fault>", "make one stage misbehave").choices([...INJECTS]))
    .option("--inject-at <stage>", `stage where the fault is injected (default ${DEFAULT_INJECT_STAGE})`, parseStage)
    .option("--database-url <url>", "use this PostgreSQL server (a fresh database on it) instead of an embedded one")
    .option("--seed <n>", "seed of the simulated traffic", parseSeed)
    .option("--report <file>", "also write the rehearsal's rollout report (HTML, see `rollout report`) to this file", parseHtmlFile)
    .option("--json", "print one JSON object on stdout", false)
    .action((o: { stack: string; projectDir?: string; json: boolean; inject?: Inject; injectAt?: Stage; databaseUrl?: string; seed?: number; report?: string }) => {
      if (o.injectAt !== undefined && o.inject === undefined) throw new UsageError("--inject-at needs --inject");
      if (o.injectAt !== undefined && o.injectAt === STAGES[0]) {
        throw new UsageError(`--inject-at ${o.injectAt}: no traffic runs on the new path there; allowed: ${STAGES.slice(1).join(", ")}`);
      }
      record({ command: "drill", options: o });
    });

  root
    .command("sandbox")
    .description("A drill stopped mid-rollout whose PostgreSQL keeps running, with a scratch copy of the stack files: prints the URL and the commands to try; --stop ends it")
    .option("--stack <name>", "stack whose stack file, thresholds and gate settings to use", "prod")
    .option("--at <stage>", `the stage where the rollout stops, soaked; one of ${SANDBOX_STAGES.join(", ")}`, parseSandboxStage, DEFAULT_SANDBOX_STAGE)
    .addOption(new Option("--inject <fault>", "make that stage misbehave (its gate then says PAUSE or ROLLBACK)").choices([...INJECTS]))
    .option("--seed <n>", "seed of the simulated traffic", parseSeed)
    .option("--stop", "stop the running sandbox: its PostgreSQL, its data and the scratch copy", false)
    .option("--json", "print one JSON object on stdout", false)
    .action((o: SandboxOptions, cmd: Command) => {
      if (o.stop) {
        const others = ["stack", "at", "inject", "seed"].filter((k) => cmd.getOptionValueSource(k) === "cli");
        if (others.length > 0) {
          throw new UsageError(`--stop takes no other option (got ${others.map((k) => `--${k}`).join(", ")}): it stops the sandbox that is running, whatever it was started with`);
        }
      }
      record({ command: "sandbox", options: o });
    });

  db(
    common(
      root
        .command("report")
        .description("Write the rollout report: one self-contained HTML file with the guide's four key metrics per stage and the gate's verdict for each"),
    ),
  )
    .requiredOption("--out <file>", "where to write the report (a path ending in .html)", parseHtmlFile)
    .action((o: DbOptions & { out: string }) => record({ command: "report", options: o }));

  db(
    common(
      root
        .command("propose")
        .description(
          "For a schedule: when the deployed stage's gate says PROCEED and no proposal is open, push rollout/<stack>-<next> with the edit `advance` makes and open its pull request; comment on, label and close stale proposals. Never merges. The token: $GITHUB_TOKEN",
        ),
    ),
  )
    .option("--dry-run", "decide and print what it would do; write, push and change nothing on GitHub", false)
    .option("--repo <owner/name>", "the GitHub repository (default: $GITHUB_REPOSITORY)")
    .option("--api-url <url>", `GitHub's REST API (default: $GITHUB_API_URL, else ${DEFAULT_GITHUB_API})`)
    .option("--remote <name>", "the git remote of that repository in the --project-dir checkout", parseGitName("remote"), "origin")
    .option("--base <branch>", "the branch the stack files are deployed from", parseGitName("branch"), "main")
    .action((o: ProposeCliOptions) => record({ command: "propose", options: o }));

  common(
    root
      .command("responder")
      .description(
        "The relay Alertmanager's critical alerts are sent to: an immediate-rollback pull request per alert (SessionIsolationFailure; HighErrorRate/HighLatency on the new path), a comment when it resolves; merged at once for contamination only when the stack sets rollback.autoMergeOnContamination. Runs until stopped. Tokens from files only",
      ),
  )
    .requiredOption("--repo <owner/name>", "the GitHub repository the stack files live in")
    .option("--api-url <url>", "GitHub's REST API", DEFAULT_GITHUB_API)
    .option("--server-url <url>", "GitHub's web address, for the runbook link in the evidence", "https://github.com")
    .option("--base <branch>", "the branch the stack files are deployed from", parseGitName("branch"), "main")
    .option("--listen <host:port>", "where to listen for Alertmanager", parseListen, { host: "127.0.0.1", port: 9095 })
    .option("--github-token-file <path>", "the GitHub token, a file only its owner may read (a Docker secret)", RESPONDER_SECRET_FILES.githubToken)
    .option("--bearer-token-file <path>", "the token Alertmanager sends as Authorization: Bearer, a file only its owner may read", RESPONDER_SECRET_FILES.bearerToken)
    .action((o: ResponderCliOptions) => record({ command: "responder", options: o }));

  // A usage error is its line and where the help is, not the whole help (issue 24).
  for (const sub of root.commands) sub.showHelpAfterError(helpHint(sub.name()));
  return strictCli(root);
}

/** The line after a usage error: where to read the command's help. */
export function helpHint(command: string | undefined): string {
  return `run 'rollout ${command === undefined ? "" : `${command} `}--help'`;
}

/** The subcommand a command line names (its first word that is one), for a usage error's hint and JSON. */
function commandOf(cli: Command, argv: string[]): string | undefined {
  const names = new Set(cli.commands.map((c) => c.name()));
  return argv.slice(2).find((a) => names.has(a));
}

// ---------------------------------------------------------------------------
// Running

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const stdio: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

function databaseUrlOf(o: DbOptions): string {
  const url = o.databaseUrl ?? process.env.ROLLOUT_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) {
    throw new UsageError("no database: pass --database-url <postgres://...> or set ROLLOUT_DATABASE_URL (the monitoring database: replica or primary)");
  }
  return url;
}

/** The rollout report's data: every recorded stage, judged as `rollout gate` judges it, printed as it prints it. */
function readReport(c: Parameters<ReturnType<typeof load.reportData>["readRolloutReport"]>[0], stack: string, cfg: RolloutConfig, asOf?: Date): Promise<RolloutReport> {
  const { judgeStage } = load.assessment();
  return load.reportData().readRolloutReport(c, {
    stack,
    asOf,
    thresholds: cfg.thresholds,
    soakHours: cfg.gate.soakHours,
    configured: { stage: cfg.canaryPercentage, flags: rolloutState(cfg) },
    hold: cfg.hold,
    judge: (s: Parameters<typeof judgeStage>[1]) => {
      const g = judgeStage(cfg, s);
      return { verdict: g.verdict, evidence: formatGateVerbose(g), gate: g };
    },
  });
}

/** Write the report's HTML (creating the folder); the JSON summary for --json and the PR comment. */
function writeReport(file: string, r: RolloutReport): Record<string, unknown> {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, load.reportHtml().renderReportHtml(r));
  return { out: file, asOf: r.asOf, lastRecordAt: r.lastRecordAt, notes: r.notes, hold: r.hold ?? null, thresholds: r.thresholds, stages: load.reportModel().stageSummaries(r) };
}

/** Everything status/gate/advance need, from the database the options name (db/assessment.ts). */
async function assess(o: DbOptions, cfg: RolloutConfig, withViews: boolean): Promise<Assessment & { views?: LiveViews }> {
  const c = await load.store().connect(databaseUrlOf(o));
  try {
    return await load.assessment().assessStack(c, o.stack, cfg, withViews);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** JSON-friendly: Dates as ISO strings, non-finite numbers as null. */
function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === "number" && !Number.isFinite(x) ? null : x), 2) + "\n";
}

// ---------------------------------------------------------------------------
// Commands

interface Outcome {
  exitCode: number;
  text: string;
  json: Record<string, unknown>;
}

/**
 * What Swarm runs for this stack (issue 22, fact 4): the engine found as the program finds it (the stack's
 * `docker:context` / `docker:host`, else DOCKER_CONTEXT / DOCKER_HOST, else the local socket), the app
 * service by its role label, its tasks read by program/swarmService.ts and interpreted by core/rollout.ts.
 */
async function readSwarm(allConfig: Record<string, unknown>): Promise<Parameters<typeof formatSwarm>[0]> {
  const str = (k: string) => (typeof allConfig[k] === "string" ? (allConfig[k] as string) : undefined);
  const settings = engineSettings({ context: str("docker:context"), host: str("docker:host") }, process.env);
  let engine = settings.context ?? settings.host ?? DEFAULT_DOCKER_HOST;
  try {
    const t = dockerTarget(settings);
    engine = t.kind === "cli" ? (t.context ? `context ${t.context}` : (t.host ?? engine)) : t.host;
    const { findServices, readSwarmService } = load.swarmService();
    const names = await findServices(t, `${LABEL_PREFIX}/role=app`);
    const services = [];
    for (const n of names) {
      const { service, tasks } = await readSwarmService(t, n);
      services.push(swarmRunning(service, tasks, ROLLOUT_ENV));
    }
    return { engine, services };
  } catch (e) {
    return { engine, unreachable: (e as Error).message };
  }
}
const ROLLOUT_ENV = [ENV_NAMES.canaryPercentage, ENV_NAMES.statelessOrchestration, ENV_NAMES.safeJsonParser];

async function runStatus(o: DbOptions): Promise<Outcome> {
  const { sc, cfg } = load.stackFile().loadStack(o.projectDir ?? PROJECT_DIR, o.stack);
  const a = await assess(o, cfg, o.verbose === true || o.json);
  const swarm = await readSwarm(sc.allConfig);
  const text = formatStatus(a, o.stack, o.verbose === true, swarm);
  return { exitCode: EXIT.ok, text, json: { command: "status", stack: o.stack, ...a, swarm } };
}

async function runGate(o: DbOptions): Promise<Outcome> {
  const { cfg } = load.stackFile().loadStack(o.projectDir ?? PROJECT_DIR, o.stack);
  const a = await assess(o, cfg, false);
  let text = formatHeader(a, o.stack, o.verbose === true) + formatGate(a.gate, "own", o.verbose === true);
  // The hint names the same stack files the gate read: a sandbox's scratch copy, not this project's.
  const target = shellCommand(["--stack", o.stack, ...(o.projectDir === undefined ? [] : ["--project-dir", o.projectDir])]);
  if (a.gate.suggestedCommand) text += `next: npx ${a.gate.suggestedCommand} ${target}\n`;
  if (a.gate.advice) text += `next: ${a.gate.advice}; npx rollout status ${target}\n`;
  return {
    exitCode: a.gate.exitCode,
    text,
    json: { command: "gate", stack: o.stack, verdict: a.gate.verdict, exitCode: a.gate.exitCode, configured: a.configured, deployed: a.deployed, deployedSince: a.deployedSince, notes: a.notes, gate: a.gate },
  };
}

/**
 * The commands that take an edit through review, the RUNBOOK's workflow (core/workflow.ts): branch, check,
 * commit, push, pull request; the merge runs pulumi up. The message (which may carry --reason) is shell-quoted, never pasted.
 */
export function commitCommands(stack: string, file: string, message: string, branch: string): string[] {
  return formatSteps(reviewSteps({ stack, file, message, branch }));
}

async function runAdvance(o: DbOptions & { to?: Stage; force: boolean; reason?: string; dryRun: boolean }): Promise<Outcome> {
  const { cfg } = load.stackFile().loadStack(o.projectDir ?? PROJECT_DIR, o.stack);
  const actor = actorName(undefined, o.projectDir ?? PROJECT_DIR);
  // Refuse a bad request (a skip without --force) before touching the database.
  // The note's texts (reason, actor) are checked here too, so a bad one fails before any database work.
  const { planAdvance } = load.transitions();
  planAdvance(cfg, { to: o.to, force: o.force, reason: o.reason, actor });
  const a = await assess(o, cfg, false);
  if (a.deployedFromRecords && !sameState(a.configured, a.deployed)) {
    throw new StateError(`${a.notes.join("; ")}. Apply or revert that change before advancing again`);
  }
  if (a.gate.verdict !== "PROCEED") {
    const text = formatHeader(a, o.stack, o.verbose === true) + formatGate(a.gate, "own", o.verbose === true) + `not advancing: the gate says ${a.gate.verdict}; Pulumi.${o.stack}.yaml is unchanged\n`;
    return { exitCode: a.gate.exitCode, text, json: { command: "advance", stack: o.stack, advanced: false, verdict: a.gate.verdict, gate: a.gate, notes: a.notes } };
  }
  const r = load.stackEdit().editAdvance(
    o.projectDir ?? PROJECT_DIR,
    o.stack,
    { to: o.to, force: o.force, reason: o.reason, actor, date: a.asOf.toISOString().slice(0, 10) },
    { dryRun: o.dryRun },
  );
  const file = path.basename(r.file);
  const msg = `${changeSubject(o.stack, r.plan.summary)}${o.force ? ` (forced: ${o.reason})` : ""}`;
  const text = formatHeader(a, o.stack, o.verbose === true) + formatGate(a.gate, "own", o.verbose === true) + formatEdit(r, commitCommands(o.stack, file, msg, changeBranch(o.stack, { kind: "advance", to: r.plan.to.canaryPercentage })));
  return {
    exitCode: EXIT.ok,
    text,
    json: { command: "advance", stack: o.stack, advanced: r.written, verdict: a.gate.verdict, from: r.plan.from, to: r.plan.to, changes: r.plan.changes, note: r.plan.note ?? null, diff: r.diff, file, gate: a.gate },
  };
}

function runRollback(o: CommonOptions & { immediate: boolean; dryRun: boolean }): Outcome {
  const r = load.stackEdit().editStack(o.projectDir ?? PROJECT_DIR, o.stack, load.stackEdit().rollbackPlan(o.immediate), { dryRun: o.dryRun });
  const file = path.basename(r.file);
  const text = formatEdit(
    r,
    commitCommands(o.stack, file, changeSubject(o.stack, r.plan.summary), changeBranch(o.stack, o.immediate ? { kind: "immediate-rollback" } : { kind: "rollback", to: r.plan.to.canaryPercentage })),
  );
  return {
    exitCode: EXIT.ok,
    text,
    json: { command: "rollback", stack: o.stack, immediate: o.immediate, written: r.written, from: r.plan.from, to: r.plan.to, changes: r.plan.changes, diff: r.diff, file },
  };
}

/**
 * Who acts, for the records an edit writes into the stack file (a hold's `by`, a forced skip's note): `explicit`
 * (--by) if given, else $GIT_AUTHOR_NAME, else git's user.name in the project folder, else $USER; undefined when
 * none is set. The one rule for both; read here, at the I/O edge. core/transitions.ts checks the name (ACTOR_RE)
 * before anything is written.
 */
function actorName(explicit: string | undefined, projectDir: string): string | undefined {
  if (explicit !== undefined) return explicit;
  const env = process.env.GIT_AUTHOR_NAME;
  if (env !== undefined && env !== "") return env;
  try {
    const name = load.git().runGit(projectDir, ["config", "user.name"]).trim();
    if (name !== "") return name;
  } catch {
    // no git, or no user.name: $USER next
  }
  const user = process.env.USER;
  return user !== undefined && user !== "" ? user : undefined;
}

/** The hold's time: this machine's clock, ISO 8601 UTC to the second (the schema's form, core/configSchema.ts holdTime). */
function holdClock(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function runHold(o: CommonOptions & { reason: string; by?: string; dryRun: boolean }): Outcome {
  const dir = o.projectDir ?? PROJECT_DIR;
  const { planHold } = load.transitions();
  const by = actorName(o.by, dir);
  if (by === undefined) throw new UsageError(`who is holding? pass --by "<name>" (no $GIT_AUTHOR_NAME, git user.name or $USER here)`);
  const at = holdClock();
  const r = load.stackEdit().editStack(dir, o.stack, (c) => planHold(c, { reason: o.reason, by, at }), { dryRun: o.dryRun });
  const file = path.basename(r.file);
  const hold = r.plan.hold?.kind === "set" ? r.plan.hold.hold : null;
  const text =
    formatEdit(r, commitCommands(o.stack, file, `rollout(${o.stack}): ${r.plan.summary}`, changeBranch(o.stack, { kind: "hold" }))) +
    `once merged: rollout gate says PAUSE and rollout advance writes nothing until a reviewed rollout release removes the hold; nothing is deployed for it (no resource changes)\n`;
  return { exitCode: EXIT.ok, text, json: { command: "hold", stack: o.stack, written: r.written, hold, state: r.plan.to, diff: r.diff, file } };
}

function runRelease(o: CommonOptions & { dryRun: boolean }): Outcome {
  const dir = o.projectDir ?? PROJECT_DIR;
  const { planRelease, RefusedError } = load.transitions();
  const { cfg } = load.stackFile().loadStack(dir, o.stack);
  if (!cfg.hold) {
    const file = `Pulumi.${o.stack}.yaml`;
    return { exitCode: EXIT.ok, text: `stack ${o.stack} has no hold: nothing to release; ${file} is unchanged\n`, json: { command: "release", stack: o.stack, released: false, written: false, hold: null, file } };
  }
  const was = cfg.hold;
  const r = load.stackEdit().editStack(dir, o.stack, (c) => {
    const p = planRelease(c);
    if (p === undefined) throw new RefusedError(`the hold went while the file was read: nothing to release`);
    return p;
  }, { dryRun: o.dryRun });
  const file = path.basename(r.file);
  const text = formatEdit(r, commitCommands(o.stack, file, `rollout(${o.stack}): ${r.plan.summary}`, changeBranch(o.stack, { kind: "release" })));
  return { exitCode: EXIT.ok, text, json: { command: "release", stack: o.stack, released: true, written: r.written, hold: was, diff: r.diff, file } };
}

async function runReport(o: DbOptions & { out: string }): Promise<Outcome> {
  const { cfg } = load.stackFile().loadStack(o.projectDir ?? PROJECT_DIR, o.stack);
  const c = await load.store().connect(databaseUrlOf(o));
  let summary: Record<string, unknown>;
  try {
    summary = writeReport(o.out, await readReport(c, o.stack, cfg));
  } finally {
    await c.end().catch(() => undefined);
  }
  const stages = summary.stages as ReturnType<ReturnType<typeof load.reportModel>["stageSummaries"]>;
  let text = `wrote ${o.out}: ${stages.length} stage${stages.length === 1 ? "" : "s"} of stack ${o.stack}\n`;
  for (const s of stages) text += `  ${s.label}: ${s.verdict}\n`;
  for (const n of summary.notes as string[]) text += `note: ${n}\n`;
  return { exitCode: EXIT.ok, text, json: { command: "report", stack: o.stack, ...summary } };
}

async function runDrillCommand(o: Extract<Invocation, { command: "drill" }>["options"], io: Io): Promise<Outcome> {
  const { sc, cfg } = load.stackFile().loadStack(o.projectDir ?? PROJECT_DIR, o.stack);
  let report: Record<string, unknown> | undefined;
  const r = await load.drill().runDrill({
    stackFile: { file: sc.file, text: sc.text },
    thresholds: cfg.thresholds,
    gate: cfg.gate,
    stack: o.stack,
    inject: o.inject,
    injectAt: o.injectAt,
    databaseUrl: o.databaseUrl,
    seed: o.seed,
    progress: (l) => io.err(`drill: ${l}\n`),
    onFinished: o.report === undefined ? undefined : async (c, asOf) => {
      report = writeReport(o.report as string, await readReport(c, o.stack, cfg, asOf));
    },
  });
  const text = formatDrill(r) + (report ? `report: ${o.report} (open it in a browser)\n` : "");
  return { exitCode: r.ok ? EXIT.ok : EXIT.error, text, json: { command: "drill", expectedVerdict: o.inject ? EXPECTED_VERDICT[o.inject] : "PROCEED", ...r, ...(report ? { report } : {}) } };
}

/**
 * Run the commands a sandbox prints, once, on a throw-away copy of its scratch
 * stack files, to learn the exit code each gives now: the real CLI (main), so
 * the printed code is the one the command gives, not a guess.
 */
async function rehearse(cmds: TryCommand[], projectDir: string, url: string): Promise<TriedCommand[]> {
  const copy = fs.mkdtempSync(path.join(path.dirname(projectDir), "rehearsal-"));
  try {
    fs.cpSync(projectDir, copy, { recursive: true });
    const quiet: Io = { out: () => {}, err: () => {} };
    const out: TriedCommand[] = [];
    const cli = createRolloutCli();
    const takesUrl = (sub: string) => cli.commands.find((c) => c.name() === sub)?.options.some((x) => x.long === "--database-url") === true;
    for (const [i, c] of withProjectDir(cmds, copy).entries()) {
      const args = c.argv.slice(2); // after "npx rollout"
      const code = await main(["node", "rollout", ...args, ...(takesUrl(args[0]) ? ["--database-url", url] : [])], quiet);
      out.push({ ...cmds[i], exitCode: code });
    }
    return out;
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

async function runSandbox(o: SandboxOptions, io: Io): Promise<Outcome> {
  const { STATE_FILE, readSandbox, sandboxDir, sandboxPostmaster, startSandbox, stopSandbox } = load.sandbox();
  const dir = sandboxDir();
  if (o.stop) {
    const r = await stopSandbox(dir);
    const stoppedPid = r.server.kind === "stopped" ? r.server.pid : null;
    const json = { command: "sandbox", action: "stop", dir, existed: r.existed, stoppedPid, refused: r.server.kind === "refused" ? { pid: r.server.pid, reason: r.server.reason } : null, stack: r.state?.stack ?? null };
    if (!r.existed) return { exitCode: EXIT.ok, text: `rollout sandbox: no sandbox is running (there is no ${path.join(dir, STATE_FILE)}): nothing to stop\n`, json };
    const text =
      r.server.kind === "stopped"
        ? `rollout sandbox: stopped PostgreSQL (pid ${r.server.pid}) and removed ${dir} (its data and the scratch copy)\n`
        : r.server.kind === "refused"
          ? `rollout sandbox: refused to signal pid ${r.server.pid}, which its postmaster.pid names: that process is not the sandbox's PostgreSQL (${r.server.reason}), so the file is stale; removed ${dir}\n`
          : `rollout sandbox: its PostgreSQL was not running; removed ${dir}\n`;
    return { exitCode: EXIT.ok, text, json };
  }
  // Everything that can be refused is checked before anything is made.
  const { cfg } = load.stackFile().loadStack(PROJECT_DIR, o.stack);
  const existing = readSandbox(dir);
  if (existing) {
    const pid = await sandboxPostmaster(dir);
    throw new StateError(
      pid === undefined
        ? `a sandbox folder is left in ${dir}, its PostgreSQL no longer running: remove it with: npx rollout sandbox --stop`
        : `a sandbox is already running (PostgreSQL pid ${pid}${existing.state?.port ? ` on 127.0.0.1:${existing.state.port}` : ""}, state in ${path.join(dir, STATE_FILE)}): stop it first with: npx rollout sandbox --stop`,
    );
  }
  const started = await startSandbox({
    dir,
    sourceDir: PROJECT_DIR,
    stack: o.stack,
    stage: o.at,
    inject: o.inject,
    seed: o.seed,
    thresholds: cfg.thresholds,
    gate: cfg.gate,
    progress: (l) => io.err(`sandbox: ${l}\n`),
  });
  const s = started.state;
  const last = started.drill.stages[started.drill.stages.length - 1];
  let commands: TriedCommand[];
  try {
    commands = await rehearse(sandboxCommands(o.stack, s.projectDir, last.verdict), s.projectDir, s.url);
  } catch (err) {
    await stopSandbox(dir).catch(() => undefined);
    throw err;
  }
  const summary = {
    stack: o.stack,
    stage: last.stage,
    flagsOn: flagsOn(last.flags),
    verdict: last.verdict,
    inject: o.inject ?? null,
    database: `${started.drill.database}, pid ${s.pid}`,
    url: s.url,
    dir,
    projectDir: s.projectDir,
    stateFile: started.stateFile,
    commands,
    asOf: new Date().toISOString(),
  };
  return {
    exitCode: EXIT.ok,
    text: formatSandbox(summary),
    json: {
      command: "sandbox",
      action: "start",
      ...summary,
      port: s.port,
      pid: s.pid,
      env: { [SANDBOX_URL_ENV]: s.url },
      commands: commands.map((c) => ({ ...c, text: shellCommand(c.argv) })),
      stop: { argv: [...STOP_ARGV], text: shellCommand(STOP_ARGV) },
      stages: started.drill.stages.map((x) => ({ stage: x.stage, verdict: x.verdict, injected: x.injected })),
    },
  };
}

/**
 * `rollout propose`: the token from GITHUB_TOKEN only (a command-line argument is visible to other users),
 * the repository and API from the options or the Actions environment, the gate as `rollout gate` runs it.
 */
async function runProposeCommand(o: ProposeCliOptions, io: Io): Promise<Outcome> {
  databaseUrlOf(o); // a missing database is a usage error before anything is fetched
  const token = process.env.GITHUB_TOKEN;
  if (token === undefined || token.trim() === "") throw new UsageError("GITHUB_TOKEN is not set: the GitHub token is read from that environment variable only (in the workflow, from a secret)");
  const repository = o.repo ?? process.env.GITHUB_REPOSITORY;
  if (repository === undefined || repository === "") throw new UsageError("no repository: pass --repo <owner/name> or set GITHUB_REPOSITORY");
  const { STACK_NAME_RE } = require("../stack/projectFiles") as typeof import("../stack/projectFiles");
  if (!STACK_NAME_RE.test(o.stack)) throw new UsageError(`"${o.stack}" is not a stack name: use letters, digits, "_", "." and "-"`);
  const { gitHubPullRequests } = load.github();
  const github = gitHubPullRequests({ repository, token: token.trim(), baseUrl: o.apiUrl ?? process.env.GITHUB_API_URL ?? DEFAULT_GITHUB_API, warn: (l) => io.err(`rollout propose: GitHub: ${l}\n`) });
  const { GITHUB_SERVER_URL: server, GITHUB_RUN_ID: run } = process.env;
  const p = load.propose();
  const r = await p.runPropose(
    { stack: o.stack, repoDir: o.projectDir ?? PROJECT_DIR, remote: o.remote, base: o.base, repository, dryRun: o.dryRun, runUrl: server && run ? `${server}/${repository}/actions/runs/${run}` : undefined },
    (cfg) => assess(o, cfg, false),
    github,
  );
  return { exitCode: EXIT.ok, text: p.formatPropose(r), json: { command: "propose", ...r } };
}

/** `--listen host:port` (an IPv4 address or a name, a port 1-65535). */
function parseListen(v: string): { host: string; port: number } {
  const m = /^([A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new InvalidArgumentError(`"${v}" is not host:port; allowed: an address or host name, ":", a port 1-65535 (e.g. 0.0.0.0:9095)`);
  return { host: m[1], port };
}

/** `rollout responder`: the relay, until SIGTERM or SIGINT. Its tokens from files only (Docker secrets), never env or argv. */
async function runResponderCommand(o: ResponderCliOptions, io: Io): Promise<Outcome> {
  const { STACK_NAME_RE } = require("../stack/projectFiles") as typeof import("../stack/projectFiles");
  if (!STACK_NAME_RE.test(o.stack)) throw new UsageError(`"${o.stack}" is not a stack name: use letters, digits, "_", "." and "-"`);
  const r = require("./responder") as typeof import("./responder");
  const { gitHubFiles, gitHubPullRequests, splitRepository } = load.github();
  splitRepository(o.repo);
  const githubToken = r.readSecretFile(o.githubTokenFile, "--github-token-file");
  const bearerToken = r.readSecretFile(o.bearerTokenFile, "--bearer-token-file");
  const secrets = [githubToken, bearerToken];
  const log = (line: string) => io.err(`${load.redact().redact(line, secrets)}\n`);
  const gh = { repository: o.repo, token: githubToken, baseUrl: o.apiUrl, warn: (l: string) => log(`responder: GitHub: ${l}`) };
  const relay = await r.startResponder(
    { stack: o.stack, repository: o.repo, base: o.base, stackPath: `Pulumi.${o.stack}.yaml`, runbookUrl: `${o.serverUrl.replace(/\/+$/, "")}/${o.repo}/blob/${o.base}/docs/alerts.md`, bearerToken, secrets, log, host: o.listen.host, port: o.listen.port },
    gitHubPullRequests(gh),
    gitHubFiles(gh),
  );
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      resolve();
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  await relay.close();
  return { exitCode: EXIT.ok, text: "responder: stopped\n", json: { command: "responder", stopped: true } };
}

/**
 * The exit code of an error: 2 for a usage error or a refused request, 1 otherwise. An error class is looked
 * up only when its module is loaded (the command that threw it has loaded it), so an error loads nothing more.
 */
function exitCodeOf(err: unknown): number {
  if (err instanceof UsageError || err instanceof InvalidArgumentError) return EXIT.usage;
  if (wasLoaded("../core/transitions") && err instanceof load.transitions().RefusedError) return EXIT.usage;
  return EXIT.error;
}

/** Whether a module has been loaded: an error of its class can only come from a module that is. */
function wasLoaded(id: string): boolean {
  return require.cache[require.resolve(id)] !== undefined;
}

/** An error the commands raise on purpose (its message is the whole story), not a bug (whose stack is shown). */
function isKnownError(err: unknown): boolean {
  if (err instanceof StateError || err instanceof UsageError || err instanceof GateInputError) return true;
  return (
    (wasLoaded("../stack/stackFileError") && err instanceof load.stackFileError().StackFileError) ||
    (wasLoaded("../core/config") && err instanceof load.config().ConfigError) ||
    (wasLoaded("../db/rolloutStore") && err instanceof load.store().DatabaseError) ||
    (wasLoaded("../stack/stackEditError") && err instanceof load.stackEditError().StackEditError) ||
    (wasLoaded("../db/migrate") && err instanceof load.migrate().MigrationError) ||
    (wasLoaded("../core/transitions") && err instanceof load.transitions().RefusedError) ||
    (wasLoaded("../drill/sandbox") && err instanceof load.sandbox().SandboxError) ||
    (wasLoaded("../ci/github") && err instanceof load.github().GitHubError) ||
    (wasLoaded("./responder") && err instanceof (require("./responder") as typeof import("./responder")).SecretFileError) ||
    (wasLoaded("../ci/git") && err instanceof load.git().GitError)
  );
}

/** Run a command line; returns the exit code. Prints to `io`. */
export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const cli = createRolloutCli();
  const wantsJson = argv.includes("--json");
  cli.configureOutput({ writeOut: io.out, writeErr: io.err });
  for (const sub of cli.commands) sub.configureOutput({ writeOut: io.out, writeErr: io.err });
  try {
    cli.parse(argv);
  } catch (err) {
    const command = commandOf(cli, argv) ?? null;
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return EXIT.ok; // --help, --version
      if (wantsJson) io.out(toJson({ ok: false, exitCode: EXIT.usage, command, error: { type: "UsageError", message: err.message } }));
      return EXIT.usage;
    }
    const code = exitCodeOf(err);
    io.err(`rollout${command === null ? "" : ` ${command}`}: ${(err as Error).message}\n${code === EXIT.usage ? `${helpHint(command ?? undefined)}\n` : ""}`);
    if (wantsJson) io.out(toJson({ ok: false, exitCode: code, command, error: { type: (err as Error).name, message: (err as Error).message } }));
    return code;
  }
  const inv = parsedInvocation(cli);
  if (!inv) {
    io.err(cli.helpInformation());
    return EXIT.usage;
  }
  try {
    let outcome: Outcome;
    switch (inv.command) {
      case "status":
        outcome = await runStatus(inv.options);
        break;
      case "gate":
        outcome = await runGate(inv.options);
        break;
      case "advance":
        outcome = await runAdvance(inv.options);
        break;
      case "rollback":
        outcome = runRollback(inv.options);
        break;
      case "hold":
        outcome = runHold(inv.options);
        break;
      case "release":
        outcome = runRelease(inv.options);
        break;
      case "drill":
        outcome = await runDrillCommand(inv.options, io);
        break;
      case "report":
        outcome = await runReport(inv.options);
        break;
      case "sandbox":
        outcome = await runSandbox(inv.options, io);
        break;
      case "propose":
        outcome = await runProposeCommand(inv.options, io);
        break;
      case "responder":
        outcome = await runResponderCommand(inv.options, io);
        break;
    }
    io.out(inv.options.json ? toJson({ ok: outcome.exitCode === EXIT.ok, exitCode: outcome.exitCode, ...outcome.json }) : outcome.text);
    return outcome.exitCode;
  } catch (err) {
    const known = isKnownError(err);
    const code = exitCodeOf(err);
    const raw = known ? (err as Error).message : `unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
    // propose holds the GitHub token: whatever failed, its text never carries it.
    const message = inv.command === "propose" ? load.redact().redact(raw, [process.env.GITHUB_TOKEN ?? ""].filter((t) => t !== "")) : raw;
    io.err(`rollout ${inv.command}: ${message}\n${err instanceof UsageError ? `${helpHint(inv.command)}\n` : ""}`);
    if (inv.options.json) io.out(toJson({ ok: false, exitCode: code, command: inv.command, error: { type: (err as Error).name ?? "Error", message } }));
    return code;
  }
}

/** Entry point for the `rollout` bin (bin/rollout.cjs) and `ts-node cli/rollout.ts`. */
export function runMain(argv: string[] = process.argv): void {
  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`rollout: unexpected error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = EXIT.error;
    },
  );
}

if (require.main === module) runMain();
