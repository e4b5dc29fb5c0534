/** Helpers shared by the alert tests. */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseConfig } from "../../core/config";
import { RawConfig, RolloutConfig } from "../../core/configSchema";
import { MONITORING_FILE_NAMES } from "../../core/alerts";
import { requireTools } from "../support/tools";

export function testConfig(raw: RawConfig = {}, stack = "staging"): RolloutConfig {
  return parseConfig({ appImage: "ghcr.io/valuecanvas/app:phase3", ...raw }, { stack });
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a tool; never throws on a non-zero exit (the test asserts on it). */
export function runTool(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === "string") return reject(err);
      const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/**
 * Expand the Go templates the rules' annotations use, as Prometheus would for
 * one alert, so that promtool tests can state the exact expected annotations.
 */
export function expandAnnotation(
  template: string,
  labels: Record<string, string>,
  value: number,
  queries: Record<string, number> = {},
): string {
  const out = template
    .replace(
      /\{\{ with query "([^"]+)" \}\}\{\{ \. \| first \| value \| printf "%\.0f" \}\}\{\{ else \}\}no data\{\{ end \}\}/g,
      (_m, q: string) => (q in queries ? queries[q].toFixed(0) : "no data"),
    )
    .replace(/\{\{ \$labels\.([a-z_]+) \}\}/g, (_m, l: string) => labels[l] ?? "")
    .replace(/\{\{ printf "%\.2f" \$value \}\}/g, value.toFixed(2))
    .replace(/\{\{ printf "%\.0f" \$value \}\}/g, value.toFixed(0));
  if (out.includes("{{")) throw new Error(`unexpanded template in test helper: ${out}`);
  return out;
}

/**
 * The real amtool and a temporary folder holding `files` (the rendered monitoring files), for a `before`
 * hook; `routes(labels, receiver?)` runs `amtool config routes test` on its alertmanager.yml; `remove` for `after`.
 */
export function amtoolFixture(ctx: Mocha.Context, prefix: string, files: Record<string, string>): { amtool: string; dir: string; routes: (labels: Record<string, string>, receiver?: string) => Promise<RunResult>; remove: () => void } {
  const amtool = requireTools(ctx, "amtool").amtool;
  const dir = tmpDir(prefix);
  writeFiles(dir, files);
  return {
    amtool,
    dir,
    routes: (labels, receiver) =>
      runTool(amtool, [
        "config",
        "routes",
        "test",
        `--config.file=${MONITORING_FILE_NAMES.alertmanager}`,
        ...(receiver ? [`--verify.receivers=${receiver}`] : []),
        ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
      ], { cwd: dir }),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
