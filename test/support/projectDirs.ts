/**
 * Project folders with every name Pulumi's loader could read as the project
 * or a stack file (issue 21, finding 1), for the project-file tests and the
 * Go differential (tools/yamlcheck --dirs). Each entry is the folder's files
 * and whether stack/projectFiles.ts must accept it.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const PROJECT_YAML = "name: valuecanvas\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nmain: index.ts\n";
export const STACK_AT = (pct: number) => `config:\n  valuecanvas:canaryPercentage: "${pct}"\n`;
const PROJECT_JSON = JSON.stringify({ name: "valuecanvas", runtime: "nodejs", main: "index.ts" });
const STACK_JSON = JSON.stringify({ config: { "valuecanvas:canaryPercentage": "100" } });

export interface ProjectDir {
  name: string;
  files: Record<string, string>;
  /** The refusal's message, or undefined when the folder is accepted. */
  refused?: RegExp;
}

const exts = ["yaml", "yml", "json"] as const;
const text = (ext: string, kind: "project" | "stack") =>
  ext === "json" ? (kind === "project" ? PROJECT_JSON : STACK_JSON) : kind === "project" ? PROJECT_YAML : STACK_AT(ext === "yaml" ? 0 : 100);

/** Every pairing of a project file extension with stack file extensions, beside the real pair or alone, and other Pulumi names. */
export const PROJECT_DIRS: readonly ProjectDir[] = [
  { name: "Pulumi.yaml and Pulumi.prod.yaml only", files: { "Pulumi.yaml": PROJECT_YAML, "Pulumi.prod.yaml": STACK_AT(0) } },
  ...exts.flatMap((p) =>
    exts.flatMap((s): ProjectDir[] => {
      if (p === "yaml" && s === "yaml") return [];
      const added = { [`Pulumi.${p}`]: text(p, "project"), [`Pulumi.prod.${s}`]: text(s, "stack") };
      const bad = p !== "yaml" ? `Pulumi.${p}` : `Pulumi.prod.${s}`;
      return [
        { name: `Pulumi.${p} and Pulumi.prod.${s} beside the YAML pair`, files: { "Pulumi.yaml": PROJECT_YAML, "Pulumi.prod.yaml": STACK_AT(0), ...added }, refused: new RegExp(`${bad.replace(/\./g, "\\.")} is not allowed`) },
        { name: `Pulumi.${p} and Pulumi.prod.${s} alone`, files: added, refused: new RegExp(`${bad.replace(/\./g, "\\.")} is not allowed`) },
      ];
    }),
  ),
  { name: "a lower-case pulumi.json (a case-insensitive file system reads it)", files: { "Pulumi.yaml": PROJECT_YAML, "Pulumi.prod.yaml": STACK_AT(0), "pulumi.json": PROJECT_JSON }, refused: /pulumi\.json is not allowed/ },
  { name: "a deployment settings file", files: { "Pulumi.yaml": PROJECT_YAML, "Pulumi.prod.yaml": STACK_AT(0), "Pulumi.prod.deploy.yaml": "settings: {}\n" }, refused: /Pulumi\.prod\.deploy\.yaml is not allowed: a Pulumi Deployments settings file/ },
  { name: "a PulumiPlugin.yaml", files: { "Pulumi.yaml": PROJECT_YAML, "Pulumi.prod.yaml": STACK_AT(0), "PulumiPlugin.yaml": "runtime: nodejs\n" }, refused: /PulumiPlugin\.yaml is not allowed/ },
  { name: "main: re-pointed to another module", files: { "Pulumi.yaml": PROJECT_YAML.replace("main: index.ts", "main: program/other.ts"), "Pulumi.prod.yaml": STACK_AT(0) } },
  { name: "main: outside the repository", files: { "Pulumi.yaml": PROJECT_YAML.replace("main: index.ts", "main: ../elsewhere/index.ts"), "Pulumi.prod.yaml": STACK_AT(0) }, refused: /main: "\.\.\/elsewhere\/index\.ts" is not accepted/ },
  { name: "main: a folder", files: { "Pulumi.yaml": PROJECT_YAML.replace("main: index.ts", "main: program/"), "Pulumi.prod.yaml": STACK_AT(0) }, refused: /main: "program\/" is not accepted/ },
  { name: "runtime.options.nodeargs (loads a module nobody imports)", files: { "Pulumi.yaml": PROJECT_YAML.replace("typescript: true", "typescript: true\n    nodeargs: --require ./evil.js"), "Pulumi.prod.yaml": STACK_AT(0) }, refused: /runtime\.options\.nodeargs is not accepted/ },
  { name: "runtime.options.typescript false", files: { "Pulumi.yaml": PROJECT_YAML.replace("typescript: true", "typescript: false"), "Pulumi.prod.yaml": STACK_AT(0) }, refused: /runtime\.options\.typescript: false is accepted only with main: bin\/program\.cjs/ },
  { name: "runtime python", files: { "Pulumi.yaml": "name: valuecanvas\nruntime: python\n", "Pulumi.prod.yaml": STACK_AT(0) }, refused: /runtime: "python" is not accepted/ },
  { name: "plain runtime: nodejs and no main", files: { "Pulumi.yaml": "name: valuecanvas\nruntime: nodejs\n", "Pulumi.prod.yaml": STACK_AT(0), "Pulumi.staging.yaml": STACK_AT(10) } },
];

/** Write each folder under `root` (one sub-folder each, numbered); returns their paths in order. */
export function writeProjectDirs(root: string, dirs: readonly ProjectDir[] = PROJECT_DIRS): string[] {
  return dirs.map((d, i) => {
    const dir = path.join(root, `case-${i}`);
    fs.mkdirSync(dir, { recursive: true });
    for (const [f, t] of Object.entries(d.files)) fs.writeFileSync(path.join(dir, f), t);
    return dir;
  });
}
