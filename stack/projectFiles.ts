/**
 * Which files Pulumi reads as the project file and the stack files, and the
 * one rule this project holds them to (issue 21, finding 1). Pure: the names
 * and texts are passed in (stack/stackFile.ts reads a folder, ci/detect.ts a
 * commit).
 *
 * Pulumi's loader (sdk/v3 go/common/workspace, `findProjectInDir`) takes the
 * first of `Pulumi.json`, `Pulumi.yaml`, `Pulumi.yml` that exists (in the
 * order of `encoding.Exts`: .json first), then reads `Pulumi.<stack><the
 * project file's extension>`. So a pull request that adds `Pulumi.json` and
 * `Pulumi.prod.json` makes Pulumi deploy a config no `.yaml` reader sees.
 *
 * The rule: at the top of the project, the only names starting with
 * "Pulumi" (any case: a case-insensitive file system reads `pulumi.JSON` as
 * well) are `Pulumi.yaml` and `Pulumi.<stack>.yaml`. Every other such name
 * (`Pulumi.json`, `Pulumi.yml`, `Pulumi.<stack>.json`, `Pulumi.<stack>.yml`,
 * `Pulumi.<stack>.deploy.yaml` deployment settings, `PulumiPlugin.yaml`,
 * `PulumiPolicy.yaml`, ...) is refused, naming the file. The Go differential
 * (test/program/project-files-differential.test.ts, tools/yamlcheck --dirs)
 * checks that whatever this accepts, Pulumi reads exactly those two files.
 */
import { parseDocument } from "yaml";
import { YamlSubsetError, lineEndOf } from "../core/yamlSubset";
import { StackFileError } from "./stackFileError";

export const PROJECT_FILE = "Pulumi.yaml";

/** Stack names as Pulumi allows them in a file name. */
export const STACK_NAME_RE = /^[A-Za-z0-9_.-]{1,100}$/;

const STACK_FILE_RE = /^Pulumi\.([^/]+)\.yaml$/;

/** The stack a top-level name is the stack file of (`Pulumi.<stack>.yaml`), or undefined. */
export function stackOfFileName(name: string): string | undefined {
  const s = STACK_FILE_RE.exec(name)?.[1];
  return s !== undefined && STACK_NAME_RE.test(s) && !s.endsWith(".deploy") ? s : undefined;
}

/** Why a top-level name is refused, or undefined when it is allowed (or is no Pulumi file at all). */
export function pulumiNameProblem(name: string): string | undefined {
  if (!/^pulumi/i.test(name)) return undefined;
  if (name === PROJECT_FILE || stackOfFileName(name) !== undefined) return undefined;
  const ext = /\.(json|yml)$/i.exec(name)?.[1];
  if (/^pulumi\.(json|yml|yaml)$/i.test(name))
    return `Pulumi's loader reads it as the project file${/^pulumi\.json$/i.test(name) ? " before Pulumi.yaml" : ""}, and plan, rollout and CI read only Pulumi.yaml`;
  if (ext) return `Pulumi reads Pulumi.<stack>.${ext} as a stack file when the project file is Pulumi.${ext}; plan, rollout and CI read only Pulumi.<stack>.yaml`;
  if (/\.deploy\.yaml$/i.test(name)) return "a Pulumi Deployments settings file; nothing here reviews it";
  return "Pulumi treats names starting with Pulumi as its own files; only Pulumi.yaml and Pulumi.<stack>.yaml are allowed";
}

/**
 * Refuse a set of top-level names (a folder's, or a commit's `git ls-tree`)
 * holding any Pulumi file other than `Pulumi.yaml` and `Pulumi.<stack>.yaml`.
 * `where` says whose names they are, for the message.
 */
export function checkPulumiFileNames(names: readonly string[], where: string): void {
  const bad = names.map((n) => ({ n, why: pulumiNameProblem(n) })).filter((b) => b.why !== undefined);
  if (bad.length === 0) return;
  throw new StackFileError(
    bad.map((b) => `${where}: ${b.n} is not allowed: ${b.why}. Allowed: Pulumi.yaml and Pulumi.<stack>.yaml; remove ${b.n}`).join("\n"),
  );
}

/** Top-level keys of `Pulumi.yaml` that do not change which config a stack gets. */
const PROJECT_KEYS = ["name", "runtime", "description", "main", "author", "website", "license"] as const;
const PROJECT_KEY_PROBLEMS: Record<string, string> = {
  config: "project-level config applies to every stack that does not set the key itself, and plan, rollout and CI read only the stack files: set each key in Pulumi.<stack>.yaml",
  stackConfigDir: "Pulumi then reads the stack files from another folder than plan, rollout and CI",
  environment: "it imports Pulumi ESC environments, whose config the project cannot see",
};

/**
 * Runtime options the nodejs runtime accepts that keep what is loaded as
 * CI's program-code set assumes (`main`, read as TypeScript): only
 * `typescript: true`. Others change what runs (`nodeargs: --require x.js`
 * loads a module nobody imports; `typescript: false` loads main as
 * JavaScript; `tsconfig`, `packagemanager` change the build or install).
 */
const RUNTIME_OPTIONS: Readonly<Record<string, readonly unknown[]>> = { typescript: [true, false] };

/**
 * The one JavaScript `main:` accepted: the shipped shim that runs the
 * compiled program (issue 22: no TypeScript compilation when `up` starts).
 * It loads `dist/index.js`, built by `npm ci` from COMPILED_SOURCE and what it
 * imports (tools/build.cjs, tsconfig.build.json), or COMPILED_SOURCE itself
 * through ts-node when the build is stale (bin/load.cjs). So CI derives the
 * program code from COMPILED_SOURCE, and the shim and its build are program
 * data (ci/changes.ts PROGRAM_DATA). It needs `typescript: false` (Pulumi
 * must not register ts-node around a .cjs), and `typescript: false` needs it.
 */
export const COMPILED_MAIN = "bin/program.cjs";
/** The TypeScript source COMPILED_MAIN runs, compiled or not. */
export const COMPILED_SOURCE = "index.ts";

/** What the project file says about the program: the module Pulumi loads. */
export interface ProjectInfo {
  /** `main:` as written, or undefined. */
  main: string | undefined;
}

/** A repository path `main:` may name: relative, normalized, a `.ts` file. */
const MAIN_RE = /^(?!\/)(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9_./-]+\.ts$/;

/**
 * Check the project file (`Pulumi.yaml`): its characters are those a stack
 * file may hold (no NEL, lone CR, ... to hide a key behind); it has no key
 * that gives a stack config from elsewhere than its stack file; its runtime
 * is nodejs with no option that changes what is loaded; and `main:`, when
 * set, names a TypeScript file by a plain relative path (what CI derives the
 * program code from). Returns what it read.
 */
export function checkProjectFile(file: string, text: string): ProjectInfo {
  try {
    lineEndOf(text);
  } catch (e) {
    if (e instanceof YamlSubsetError) throw new StackFileError(`${file} line ${e.line}, column ${e.column}: ${e.reason}`);
    throw e;
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new StackFileError(`${file} is not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
  const top: unknown = doc.toJS();
  if (typeof top !== "object" || top === null || Array.isArray(top)) throw new StackFileError(`${file} must be a YAML mapping`);
  const project = top as Record<string, unknown>;
  for (const k of Object.keys(project)) {
    const problem = PROJECT_KEY_PROBLEMS[k];
    if (problem) throw new StackFileError(`${file}: the key "${k}" is not accepted: ${problem}`);
    if (!(PROJECT_KEYS as readonly string[]).includes(k)) throw new StackFileError(`${file}: unknown key "${k}": allowed ${PROJECT_KEYS.join(", ")}`);
  }
  const typescript = checkRuntime(file, project.runtime);
  const main = project.main;
  if (main === COMPILED_MAIN) {
    if (typescript !== false) {
      throw new StackFileError(`${file}: main: ${COMPILED_MAIN} needs runtime.options.typescript: false (it is JavaScript that runs the compiled ${COMPILED_SOURCE})`);
    }
    return { main };
  }
  if (main !== undefined && (typeof main !== "string" || !MAIN_RE.test(main))) {
    throw new StackFileError(
      `${file}: main: ${JSON.stringify(main)} is not accepted: allowed ${COMPILED_MAIN} (the compiled program) or a relative path to a .ts file without "." or ".." segments (e.g. index.ts), so CI can derive the program code from what it loads`,
    );
  }
  if (typescript === false) {
    throw new StackFileError(`${file}: runtime.options.typescript: false is accepted only with main: ${COMPILED_MAIN}: Pulumi would load ${JSON.stringify(main ?? "the package's main")} as JavaScript, which CI's program-code set does not follow`);
  }
  return { main: main as string | undefined };
}

/** Checks the runtime; returns `runtime.options.typescript` as set (undefined when not set). */
function checkRuntime(file: string, runtime: unknown): boolean | undefined {
  if (runtime === "nodejs") return undefined;
  if (typeof runtime !== "object" || runtime === null || Array.isArray(runtime)) {
    throw new StackFileError(`${file}: runtime: ${JSON.stringify(runtime)} is not accepted: allowed nodejs`);
  }
  const r = runtime as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (k !== "name" && k !== "options") throw new StackFileError(`${file}: runtime.${k} is not accepted: allowed runtime.name and runtime.options`);
  }
  if (r.name !== "nodejs") throw new StackFileError(`${file}: runtime.name: ${JSON.stringify(r.name)} is not accepted: allowed nodejs`);
  if (r.options === undefined || r.options === null) return undefined;
  if (typeof r.options !== "object" || Array.isArray(r.options)) throw new StackFileError(`${file}: runtime.options must be a mapping`);
  for (const [k, v] of Object.entries(r.options as Record<string, unknown>)) {
    const allowed = RUNTIME_OPTIONS[k];
    if (!allowed) {
      throw new StackFileError(
        `${file}: runtime.options.${k} is not accepted: it can change what the program loads, which CI's program-code set would not see; allowed: ${Object.entries(RUNTIME_OPTIONS).map(([o, vs]) => `${o}: ${vs.join(" | ")}`).join(", ")}`,
      );
    }
    if (!allowed.includes(v)) {
      throw new StackFileError(`${file}: runtime.options.${k}: ${JSON.stringify(v)} is not accepted: allowed ${allowed.map((a) => JSON.stringify(a)).join(" | ")}`);
    }
  }
  const ts = (r.options as Record<string, unknown>).typescript;
  return typeof ts === "boolean" ? ts : undefined;
}

/**
 * The module `pulumi up` loads, by repository path: `main:` when set, else
 * the `main` field of package.json (Node resolves the project folder through
 * it), else `index.ts`. Throws when that is not a .ts file.
 */
export function programEntry(project: ProjectInfo, packageJsonText: string | undefined): string {
  if (project.main === COMPILED_MAIN) return COMPILED_SOURCE;
  if (project.main !== undefined) return project.main;
  if (packageJsonText !== undefined) {
    let pkgMain: unknown;
    try {
      pkgMain = (JSON.parse(packageJsonText) as { main?: unknown }).main;
    } catch {
      throw new StackFileError("package.json is not valid JSON: CI cannot tell which module the program loads");
    }
    if (pkgMain !== undefined) {
      if (typeof pkgMain !== "string" || !MAIN_RE.test(pkgMain.replace(/^\.\//, ""))) {
        throw new StackFileError(`package.json: main: ${JSON.stringify(pkgMain)} is not accepted while Pulumi.yaml sets no main: allowed a relative path to a .ts file`);
      }
      return pkgMain.replace(/^\.\//, "");
    }
  }
  return "index.ts";
}
