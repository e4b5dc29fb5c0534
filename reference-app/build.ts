/**
 * Builds the reference app into a self-contained directory that runs with a
 * plain `node` (Debian trixie's nodejs 20) and needs no network:
 *
 *   <outDir>/reference-app/src/main.js   the app, compiled by the project's tsc
 *   <outDir>/lib/*.js                    the project modules it shares (bucketing, stages, proxy timings)
 *   <outDir>/node_modules/...            `pg` and its runtime dependencies, copied from this
 *                                        checkout's lockfile-pinned install (npm ci)
 *   <outDir>/package.json                the staged packages and versions
 *
 * The Dockerfile (build context reference-app/) copies reference-app/dist/,
 * so run this first: `npm run refapp:build`. Tests build into a temporary
 * directory with the same function, so they run what the image runs.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const REPO_ROOT = path.resolve(__dirname, "..");
export const APP_DIR = __dirname;
export const DEFAULT_OUT_DIR = path.join(APP_DIR, "dist");
/** The npm packages the app requires at run time (and, through the lockfile, theirs). */
export const RUNTIME_PACKAGES = ["pg"] as const;
/** Where main.js lands under the output directory. */
export const MAIN_REL = path.join("reference-app", "src", "main.js");

interface LockPackage {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  dev?: boolean;
  optional?: boolean;
}

/**
 * The lockfile paths (`node_modules/x`, possibly nested) of `roots` and every
 * package they depend on at run time, resolved the way node resolves them:
 * the nearest `node_modules/<name>` up from the dependent package. Optional
 * dependencies are included when the lockfile has them.
 */
export function runtimeClosure(lock: { packages: Record<string, LockPackage> }, roots: readonly string[]): string[] {
  const found = new Set<string>();
  const resolve = (from: string, name: string): string | undefined => {
    let base = from;
    for (;;) {
      const candidate = base === "" ? `node_modules/${name}` : `${base}/node_modules/${name}`;
      if (lock.packages[candidate]) return candidate;
      if (base === "") return undefined;
      const i = base.lastIndexOf("/node_modules/");
      base = i < 0 ? "" : base.slice(0, i);
    }
  };
  const visit = (from: string, name: string, optional: boolean) => {
    const at = resolve(from, name);
    if (at === undefined) {
      if (optional) return;
      throw new Error(`package-lock.json: ${name} (needed by ${from || "the app"}) is not in the lockfile`);
    }
    if (found.has(at)) return;
    found.add(at);
    const p = lock.packages[at];
    for (const dep of Object.keys(p.dependencies ?? {})) visit(at, dep, false);
    for (const dep of Object.keys(p.optionalDependencies ?? {})) visit(at, dep, true);
  };
  for (const r of roots) visit("", r, false);
  return [...found].sort();
}

export interface BuildResult {
  outDir: string;
  main: string;
  /** Staged npm packages: lockfile path → version. */
  packages: Record<string, string>;
}

/** Compile the app and stage its runtime packages into `outDir` (emptied first). */
export async function buildReferenceApp(outDir: string = DEFAULT_OUT_DIR): Promise<BuildResult> {
  fs.rmSync(outDir, { recursive: true, force: true });
  const tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  try {
    await run(process.execPath, [tsc, "-p", path.join(APP_DIR, "tsconfig.json"), "--outDir", outDir], { cwd: REPO_ROOT });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`tsc failed for reference-app:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }

  const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, LockPackage> };
  const packages: Record<string, string> = {};
  for (const at of runtimeClosure(lock, RUNTIME_PACKAGES)) {
    const want = lock.packages[at].version;
    const src = path.join(REPO_ROOT, at);
    // An optional package (pg-cloudflare) that npm did not install here is not needed on this platform.
    if (lock.packages[at].optional && !fs.existsSync(src)) continue;
    const have = fs.existsSync(path.join(src, "package.json"))
      ? (JSON.parse(fs.readFileSync(path.join(src, "package.json"), "utf8")) as { version?: string }).version
      : undefined;
    if (have !== want) {
      throw new Error(`${at}: the lockfile pins ${want}, the installed copy is ${have ?? "missing"}; run npm ci first`);
    }
    fs.cpSync(src, path.join(outDir, at), { recursive: true, dereference: true });
    packages[at] = want as string;
  }
  fs.writeFileSync(
    path.join(outDir, "package.json"),
    JSON.stringify({ name: "valuecanvas-reference-app", private: true, main: MAIN_REL, stagedPackages: packages }, null, 2) + "\n",
  );
  return { outDir, main: path.join(outDir, MAIN_REL), packages };
}

if (require.main === module) {
  buildReferenceApp().then(
    (r) => process.stdout.write(`reference-app built: ${path.relative(REPO_ROOT, r.main)} with ${Object.keys(r.packages).length} npm packages\n`),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
