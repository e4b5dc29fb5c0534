/**
 * External tools the tests run for real (nginx, promtool, amtool, prometheus,
 * the postgres exporter). Where a tool is missing on a developer's machine the
 * suite is skipped with the command that installs it; under CI=true a missing
 * tool is a failure, never a skip.
 */
import * as fs from "node:fs";

/** Debian package that provides each tool, as `.ci/run` installs it. */
export const TOOL_PACKAGES = {
  nginx: "nginx",
  promtool: "prometheus",
  prometheus: "prometheus",
  amtool: "prometheus-alertmanager",
  // Debian names the Alertmanager server binary after its package.
  "prometheus-alertmanager": "prometheus-alertmanager",
  "prometheus-postgres-exporter": "prometheus-postgres-exporter",
} as const;
export type Tool = keyof typeof TOOL_PACKAGES;

const SEARCH_PATH = ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"];

/** Absolute path of a tool, or undefined when it is not installed. */
export function findTool(tool: Tool): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":"), ...SEARCH_PATH].filter(Boolean);
  for (const d of dirs) {
    const p = `${d}/${tool}`;
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

export function installCommand(tools: Tool[]): string {
  return `apt-get update && apt-get install -y ${[...new Set(tools.map((t) => TOOL_PACKAGES[t]))].join(" ")}`;
}

/**
 * In a mocha `before`: returns the tools' paths, or skips the suite (printing
 * the install command) when one is missing. Under CI=true, throws instead.
 */
export function requireTools(ctx: Mocha.Context, ...tools: Tool[]): Record<Tool, string> {
  const found = {} as Record<Tool, string>;
  const missing: Tool[] = [];
  for (const t of tools) {
    const p = findTool(t);
    if (p) found[t] = p;
    else missing.push(t);
  }
  if (missing.length > 0) {
    const msg = `missing ${missing.join(", ")}; install with: ${installCommand(missing)}`;
    if (process.env.CI === "true") throw new Error(`${msg} (CI=true: a missing tool is a failure)`);
    console.warn(`      skipped: ${msg}`);
    ctx.skip();
  }
  return found;
}
