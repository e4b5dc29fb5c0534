/**
 * `npm run verify`: the guide's verify-phase3-integration.sh for this project.
 * A data-driven list of checks, each one line with a pass/fail mark:
 *
 *   typecheck        tsc --noEmit -p .
 *   tests            npm test (skippable: --skip-tests)
 *   stack:<name>     every Pulumi.<stack>.yaml against the schema (stack/stackFile.ts + core/config.ts)
 *   squawk           squawk on the migrations (tools/squawk.ts runSquawk)
 *   promtool         promtool check config (which also checks the rules it loads) and
 *                    promtool check rules on each stack's rendered files (core/alerts renderMonitoringFiles):
 *                    a scrape interval or `for:` Prometheus would refuse fails here
 *   action-validator every .github/workflows/*.yml through @action-validator/cli
 *
 * A check whose module, export, tool or input files are missing FAILS and says
 * what is missing: nothing not-yet-built passes silently.
 *
 * A check that runs longer than a few seconds shows progress while it runs
 * (runChecks' `progress`): a line after PROGRESS.firstAfterMs, then one every
 * PROGRESS.everyMs, with what the check has said so far (the tests step: the
 * counts of passing and failing tests, read from mocha's output as it streams).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RolloutConfig } from "../core/configSchema";
import { listStacks, readStackFile, stackConfigOf } from "../stack/stackFile";

export type CheckStatus = "pass" | "fail" | "skip";

export interface CheckResult {
  status: CheckStatus;
  /** One line (the first line is shown on the check's line; the rest indented below on failure). */
  detail: string;
}

export interface VerifyContext {
  projectDir: string;
  skipTests: boolean;
  /** Where a running check says how far it is (shown on its next progress line). */
  progress?: (note: string) => void;
}

/** What a check needs before it can run. Missing → the check fails naming it. */
export interface Requirement {
  /** A module (path relative to the project, without extension) and the export the check calls. */
  module?: { path: string; export: string; owner: string };
  /** An executable: a path relative to the project, or a name looked up on PATH. */
  tool?: { name: string; relPath?: string; install: string };
  /** Input files: a glob-free directory and the extension its files must have, at least one. */
  files?: { dir: string; ext: string };
}

export interface Check {
  id: string;
  title: string;
  requires: Requirement[];
  run(ctx: VerifyContext): CheckResult | Promise<CheckResult>;
}

// ---------------------------------------------------------------------------
// Requirements

/** Load a module of the project by relative path; undefined when the file is missing. */
export function loadProjectModule(projectDir: string, rel: string): Record<string, unknown> | undefined {
  const base = path.join(projectDir, rel);
  const candidates = [`${base}.ts`, path.join(base, "index.ts"), `${base}.js`];
  if (!candidates.some((c) => fs.existsSync(c))) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(base) as Record<string, unknown>;
}

const SEARCH_PATH = ["/usr/local/bin", "/usr/bin", "/usr/sbin", "/usr/local/sbin", "/bin"];

export function findExecutable(projectDir: string, tool: NonNullable<Requirement["tool"]>): string | undefined {
  const candidates = tool.relPath
    ? [path.join(projectDir, tool.relPath)]
    : [...(process.env.PATH ?? "").split(":").filter(Boolean), ...SEARCH_PATH].map((d) => path.join(d, tool.name));
  return candidates.find((c) => {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return fs.statSync(c).isFile();
    } catch {
      return false;
    }
  });
}

/** Why a requirement is not met, or undefined when it is. */
export function unmet(projectDir: string, req: Requirement): string | undefined {
  if (req.module) {
    const { path: rel, export: name, owner } = req.module;
    let mod: Record<string, unknown> | undefined;
    try {
      mod = loadProjectModule(projectDir, rel);
    } catch (e) {
      return `${rel} does not load: ${(e as Error).message.split("\n")[0]}`;
    }
    if (!mod) return `${rel}.ts is missing (${owner}): not landed yet`;
    if (typeof mod[name] !== "function") return `${rel} has no exported function ${name} (${owner})`;
  }
  if (req.tool && !findExecutable(projectDir, req.tool)) {
    return `${req.tool.relPath ?? req.tool.name} not found; install with: ${req.tool.install}`;
  }
  if (req.files) {
    const dir = path.join(projectDir, req.files.dir);
    const found = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(req.files!.ext)) : [];
    if (found.length === 0) return `no *${req.files.ext} files in ${req.files.dir}/`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Helpers

/**
 * Run a tool (argument array, no shell) without blocking, so progress lines can
 * be shown while it runs; `onOutput` sees its output as it arrives.
 */
function run(cmd: string, args: string[], cwd: string, onOutput?: (chunk: string) => void): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    let out = "";
    let err = "";
    let failure = "";
    const child = spawn(cmd, args, { cwd, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      out += d;
      onOutput?.(d);
    });
    child.stderr.on("data", (d: Buffer) => (err += d.toString("utf8")));
    child.on("error", (e) => (failure = e.message));
    child.on("close", (code) => resolve({ ok: code === 0 && failure === "", output: `${out}${err}${failure}`.trim() }));
  });
}

/**
 * How far a mocha run is, from its spec reporter's output as it streams (fed
 * chunk by chunk; each line is read once): "12 passing, 1 failing so far".
 */
export function mochaProgress(): { push(chunk: string): void; summary(): string } {
  let partial = "";
  let passing = 0;
  let failing = 0;
  let pending = 0;
  return {
    push(chunk) {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) {
        if (/^\s+✔ /.test(l)) passing++;
        else if (/^\s+\d+\) /.test(l)) failing++;
        else if (/^\s+- /.test(l)) pending++;
      }
    },
    summary: () => `${passing} passing, ${failing} failing${pending ? `, ${pending} pending` : ""} so far`,
  };
}

function tail(text: string, lines = 15): string {
  return text.split("\n").slice(-lines).join("\n");
}

/** A stack's config through the one schema, secrets as placeholders. */
export function stackConfig(projectDir: string, stack: string): RolloutConfig {
  return stackConfigOf(readStackFile(projectDir, stack));
}

const TSC = { name: "tsc", relPath: "node_modules/.bin/tsc", install: "npm ci" };
const NPM = { name: "npm", install: "install Node.js 20 (npm comes with it)" };
const PROMTOOL = { name: "promtool", install: "apt-get update && apt-get install -y prometheus" };
const ACTION_VALIDATOR = { name: "action-validator", relPath: "node_modules/.bin/action-validator", install: "npm ci" };

interface SquawkModule {
  runSquawk(opts: { dir?: string }): { status: "passed" | "failed" | "unavailable"; summary: string; files: string[] };
}
interface AlertsModule {
  renderMonitoringFiles(config: RolloutConfig, secrets: Record<string, string>, opts?: { stack?: string }): Record<string, string>;
  SECRET_PLACEHOLDERS?: Record<string, string>;
  MONITORING_FILE_NAMES?: { rules?: string; prometheus?: string };
}

/**
 * action-validator prints a JSON report whose errors nest (oneOf alternatives);
 * keep the distinct leaf errors, "path: detail", as a few lines.
 */
export function validatorErrors(output: string, max = 8): string {
  const start = output.indexOf("{");
  const end = output.lastIndexOf("}");
  let report: unknown;
  try {
    report = start >= 0 ? JSON.parse(output.slice(start, end + 1)) : undefined;
  } catch {
    report = undefined;
  }
  if (!report) return tail(output);
  const leaves = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (typeof v !== "object" || v === null) return;
    const o = v as { errors?: unknown; states?: unknown; detail?: string; title?: string; path?: string; code?: string };
    if (o.errors || o.states) {
      walk(o.errors);
      walk(o.states);
      return;
    }
    if (o.code) leaves.add(`${o.path || "(file)"}: ${o.detail ?? o.title ?? o.code}`);
  };
  walk(report);
  const list = [...leaves];
  return list.length === 0 ? tail(output) : list.slice(0, max).join("; ") + (list.length > max ? `; and ${list.length - max} more` : "");
}

// ---------------------------------------------------------------------------
// The checks

/** The checks, in order. Stack-file checks are one per stack file found. */
export function verifyChecks(projectDir: string): Check[] {
  const stacks = fs.existsSync(projectDir) ? listStacks(projectDir) : [];
  const stackChecks: Check[] = stacks.map((stack) => ({
    id: `stack:${stack}`,
    title: `Pulumi.${stack}.yaml against the schema`,
    requires: [],
    run: (ctx) => {
      const cfg = stackConfig(ctx.projectDir, stack);
      return { status: "pass", detail: `canaryPercentage ${cfg.canaryPercentage}, flags ${cfg.enableStatelessOrchestration}/${cfg.enableSafeJsonParser}, image ${cfg.appImage}` };
    },
  }));
  if (stackChecks.length === 0) {
    stackChecks.push({
      id: "stack-files",
      title: "stack files against the schema",
      requires: [],
      run: () => ({ status: "fail", detail: `no Pulumi.<stack>.yaml in ${projectDir}` }),
    });
  }

  return [
    {
      id: "typecheck",
      title: "tsc --noEmit -p .",
      requires: [{ tool: TSC }],
      run: async (ctx) => {
        const r = await run(path.join(ctx.projectDir, TSC.relPath), ["--noEmit", "-p", "."], ctx.projectDir);
        return r.ok ? { status: "pass", detail: "no type errors" } : { status: "fail", detail: `type errors:\n${tail(r.output)}` };
      },
    },
    {
      id: "tests",
      title: "npm test",
      requires: [{ tool: NPM }],
      run: async (ctx) => {
        if (ctx.skipTests) return { status: "skip", detail: "skipped (--skip-tests)" };
        const progress = mochaProgress();
        const r = await run("npm", ["test", "--silent"], ctx.projectDir, (chunk) => {
          progress.push(chunk);
          ctx.progress?.(progress.summary());
        });
        const passing = /(\d+) passing/.exec(r.output)?.[1];
        const failing = /(\d+) failing/.exec(r.output)?.[1];
        const pending = /(\d+) pending/.exec(r.output)?.[1];
        const counts = [passing && `${passing} passing`, failing && `${failing} failing`, pending && `${pending} pending`].filter(Boolean).join(", ");
        return r.ok ? { status: "pass", detail: counts || "passed" } : { status: "fail", detail: `${counts || "failed"}\n${tail(r.output, 25)}` };
      },
    },
    ...stackChecks,
    {
      id: "squawk",
      title: "squawk on the migrations",
      requires: [
        { module: { path: "tools/squawk", export: "runSquawk", owner: "the database issue's squawk runner" } },
        { files: { dir: "sql", ext: ".sql" } },
      ],
      run: (ctx) => {
        const mod = loadProjectModule(ctx.projectDir, "tools/squawk") as unknown as SquawkModule;
        const r = mod.runSquawk({ dir: path.join(ctx.projectDir, "sql") });
        // An unavailable binary is a failure here: verify must not pass without the linter.
        return { status: r.status === "passed" ? "pass" : "fail", detail: r.summary };
      },
    },
    {
      id: "promtool",
      title: "promtool check config and rules on the rendered files",
      requires: [
        { module: { path: "core/alerts/index", export: "renderMonitoringFiles", owner: "the alerts issue's renderer" } },
        { tool: PROMTOOL },
      ],
      run: async (ctx) => {
        const mod = loadProjectModule(ctx.projectDir, "core/alerts/index") as unknown as AlertsModule;
        const promtool = findExecutable(ctx.projectDir, PROMTOOL)!;
        const rulesName = mod.MONITORING_FILE_NAMES?.rules ?? "valuecanvas.rules.yml";
        const promName = mod.MONITORING_FILE_NAMES?.prometheus ?? "prometheus.yml";
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "verify-rules-"));
        try {
          const failures: string[] = [];
          let rules = 0;
          for (const stack of stacks) {
            let files: Record<string, string>;
            try {
              files = mod.renderMonitoringFiles(stackConfig(ctx.projectDir, stack), mod.SECRET_PLACEHOLDERS ?? {}, { stack });
            } catch (e) {
              failures.push(`${stack}: cannot render: ${(e as Error).message}`);
              continue;
            }
            for (const name of [rulesName, promName]) {
              if (typeof files[name] !== "string") return { status: "fail", detail: `renderMonitoringFiles returned no ${name}` };
            }
            // Each stack's files in their own directory: prometheus.yml loads the rule file by its relative name.
            const stackDir = path.join(dir, stack);
            fs.mkdirSync(stackDir);
            for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(stackDir, name), text);
            ctx.progress?.(`stack ${stack}`);
            const c = await run(promtool, ["check", "config", path.join(stackDir, promName)], stackDir);
            if (!c.ok) failures.push(`${stack}: promtool check config ${promName}: ${tail(c.output)}`);
            const r = await run(promtool, ["check", "rules", path.join(stackDir, rulesName)], stackDir);
            const n = /SUCCESS: (\d+) rules found/.exec(r.output)?.[1];
            if (r.ok) rules += Number(n ?? 0);
            else failures.push(`${stack}: promtool check rules ${rulesName}: ${tail(r.output)}`);
          }
          if (stacks.length === 0) return { status: "fail", detail: "no stack files to render rules for" };
          return failures.length === 0
            ? { status: "pass", detail: `${stacks.length} stacks (${stacks.join(", ")}), ${promName} valid, ${rules} rules` }
            : { status: "fail", detail: failures.join("\n") };
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      },
    },
    {
      id: "action-validator",
      title: "action-validator on .github/workflows",
      requires: [{ tool: ACTION_VALIDATOR }, { files: { dir: ".github/workflows", ext: ".yml" } }],
      run: async (ctx) => {
        const bin = path.join(ctx.projectDir, ACTION_VALIDATOR.relPath);
        const dir = path.join(ctx.projectDir, ".github/workflows");
        const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml")).sort();
        const failures: string[] = [];
        for (const f of files) {
          ctx.progress?.(f);
          const r = await run(bin, [path.join(".github/workflows", f)], ctx.projectDir);
          if (!r.ok) failures.push(`${f}: ${validatorErrors(r.output)}`);
        }
        return failures.length === 0
          ? { status: "pass", detail: `${files.length} workflows valid (${files.join(", ")})` }
          : { status: "fail", detail: failures.join("\n") };
      },
    },
  ];
}

// ---------------------------------------------------------------------------
// Running

export interface CheckOutcome extends CheckResult {
  id: string;
  title: string;
  seconds: number;
}

export const MARKS: Record<CheckStatus, string> = { pass: "✔", fail: "✘", skip: "–" };

export function formatOutcome(o: CheckOutcome): string {
  const [first, ...rest] = o.detail.split("\n");
  const line = `${MARKS[o.status]} ${o.id.padEnd(18)} ${o.title}: ${first}${o.status === "skip" ? "" : ` (${o.seconds.toFixed(1)} s)`}`;
  return [line, ...rest.map((l) => `      ${l}`)].join("\n");
}

export function summarize(outcomes: readonly CheckOutcome[]): { text: string; ok: boolean } {
  const n = (s: CheckStatus) => outcomes.filter((o) => o.status === s).length;
  const failed = outcomes.filter((o) => o.status === "fail").map((o) => o.id);
  const ok = failed.length === 0 && outcomes.length > 0;
  return {
    ok,
    text: `verify: ${n("pass")} passed, ${n("fail")} failed, ${n("skip")} skipped` + (failed.length ? ` — failed: ${failed.join(", ")}` : ""),
  };
}

/** When a running check shows progress: first after a few seconds, then at a steady pace. */
export const PROGRESS = { firstAfterMs: 5_000, everyMs: 15_000 } as const;

export interface CheckProgress {
  id: string;
  title: string;
  seconds: number;
  /** What the check last said about how far it is, if anything. */
  note?: string;
}

export interface ProgressOptions {
  onProgress: (p: CheckProgress) => void;
  firstAfterMs?: number;
  everyMs?: number;
}

/** `… tests              npm test: running for 45 s (312 passing, 0 failing so far)` */
export function formatProgress(p: CheckProgress): string {
  return `… ${p.id.padEnd(18)} ${p.title}: running for ${p.seconds.toFixed(0)} s${p.note ? ` (${p.note})` : ""}`;
}

/** Run checks in order; a check's requirements are checked first; a throw is a failure. */
export async function runChecks(
  checks: readonly Check[],
  ctx: VerifyContext,
  onOutcome: (o: CheckOutcome) => void = () => {},
  progress?: ProgressOptions,
): Promise<CheckOutcome[]> {
  const out: CheckOutcome[] = [];
  for (const c of checks) {
    const start = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - start) / 1e9;
    let note: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    if (progress) {
      const tick = () => {
        progress.onProgress({ id: c.id, title: c.title, seconds: elapsed(), ...(note === undefined ? {} : { note }) });
        timer = setTimeout(tick, progress.everyMs ?? PROGRESS.everyMs);
      };
      timer = setTimeout(tick, progress.firstAfterMs ?? PROGRESS.firstAfterMs);
    }
    let result: CheckResult;
    const missing = c.requires.map((r) => unmet(ctx.projectDir, r)).filter((m): m is string => m !== undefined);
    if (missing.length > 0) {
      result = { status: "fail", detail: `cannot run: ${missing.join("; ")}` };
    } else {
      try {
        result = await c.run({ ...ctx, progress: (n) => ((note = n), ctx.progress?.(n)) });
      } catch (e) {
        result = { status: "fail", detail: (e as Error).message };
      } finally {
        clearTimeout(timer);
      }
    }
    clearTimeout(timer);
    const o = { id: c.id, title: c.title, ...result, seconds: elapsed() };
    out.push(o);
    onOutcome(o);
  }
  return out;
}
