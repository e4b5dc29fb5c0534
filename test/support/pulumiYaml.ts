/**
 * Pulumi's own stack-file reader for the tests: tools/yamlcheck, a small Go
 * program on Pulumi's sdk/v3 `workspace` package (the loader the CLI runs).
 * `$YAMLCHECK_BIN` names a built binary (.ci/run builds it once); otherwise
 * it is built here with Go (cached by Go's build cache). Where neither is
 * possible the suite is skipped, and under CI=true it fails.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const TOOL_DIR = path.join(__dirname, "..", "..", "tools", "yamlcheck");
const BUILT = path.join(TOOL_DIR, ".bin", "yamlcheck");
export const PROJECT_FILE = path.join(__dirname, "..", "..", "Pulumi.yaml");

function goBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/local/go/bin", "/usr/lib/go/bin"].filter(Boolean);
  for (const d of dirs) {
    const p = path.join(d, "go");
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

/** In a mocha `before`: the yamlcheck binary, or a skip (a failure under CI=true). */
export function requireYamlcheck(ctx: Mocha.Context): string {
  const given = process.env.YAMLCHECK_BIN;
  if (given) {
    if (!fs.existsSync(given)) throw new Error(`YAMLCHECK_BIN=${given} does not exist`);
    return given;
  }
  const go = goBinary();
  if (!go) {
    const msg = "Go is not installed: the differential test needs it to build tools/yamlcheck (Pulumi's own stack-file loader)";
    if (process.env.CI === "true") throw new Error(`${msg} (CI=true: a missing tool is a failure)`);
    console.warn(`      skipped: ${msg}`);
    ctx.skip();
  }
  // -mod=readonly: go.mod and go.sum pin every module; nothing is resolved anew.
  execFileSync(go as string, ["build", "-mod=readonly", "-o", BUILT, "."], { cwd: TOOL_DIR, stdio: ["ignore", "inherit", "inherit"] });
  return BUILT;
}

/** One config value as Pulumi's loader read it. */
export interface PulumiValue {
  secure: boolean;
  object: boolean;
  /** The string the program receives (secure values still encrypted). */
  text: string;
  value: unknown;
}

export interface PulumiReading {
  file: string;
  ok: boolean;
  error?: string;
  config?: Record<string, PulumiValue>;
  top?: Record<string, unknown>;
}

/** Read stack files with Pulumi's loader, in one process. */
export function pulumiRead(bin: string, files: string[]): PulumiReading[] {
  const out = execFileSync(bin, ["--project", PROJECT_FILE], { input: files.join("\n") + "\n", encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const rows = out.split("\n").filter(Boolean).map((l) => JSON.parse(l) as PulumiReading);
  if (rows.length !== files.length) throw new Error(`yamlcheck read ${rows.length} of ${files.length} files`);
  return rows;
}
