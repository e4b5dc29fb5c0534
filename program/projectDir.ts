/**
 * The project's folder, the one that holds Pulumi.yaml: `..` of a module's folder when it runs from its
 * TypeScript source (cli/rollout.ts), `../..` when it runs compiled (dist/cli/rollout.js, tools/build.cjs).
 * Every path to the project's own files (stack files, sql/, docs/) starts here, never at `__dirname`.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The nearest folder at or above `from` holding Pulumi.yaml (throws when there is none: not a checkout). */
export function findProjectDir(from: string): string {
  for (let d = path.resolve(from); ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, "Pulumi.yaml"))) return d;
    if (path.dirname(d) === d) throw new Error(`no Pulumi.yaml in ${from} or any folder above it: not this project's checkout`);
  }
}

export const PROJECT_DIR = findProjectDir(path.join(__dirname, ".."));
