/**
 * The project's import graph, pure: file texts in, edges out. Used by CI to
 * tell program code from tooling (ci/changes.ts `programPaths`) and by
 * test/layout.test.ts to refuse import cycles.
 *
 * Imports are read with the TypeScript compiler's own pre-processor
 * (`ts.preProcessFile`), not regexes: `import … from`, `import type … from`,
 * `export … from`, side-effect `import "…"`, dynamic `import()`, `require()`
 * and `import("…")` type queries all count; strings and comments do not.
 * Only relative specifiers ("./", "../") are project files; packages are not.
 */
import * as path from "node:path";
import * as ts from "typescript";

/** Repository-relative, "/"-separated paths to file texts. */
export type FileTexts = ReadonlyMap<string, string>;

export interface ImportGraph {
  /** Each file to the project files it imports (sorted, deduplicated). */
  edges: Map<string, string[]>;
  /**
   * Relative specifiers that match no given file, as the repository path they
   * point at (e.g. `lib/data.json`): a file the importer needs that is not a
   * `.ts` text given here.
   */
  unresolved: Map<string, string[]>;
}

/** The relative module specifiers a TypeScript text imports, type-only ones included. */
export function relativeSpecifiers(text: string): string[] {
  const info = ts.preProcessFile(text, true, true);
  return [...info.importedFiles, ...info.referencedFiles]
    .map((f) => f.fileName)
    .filter((s) => s.startsWith("./") || s.startsWith("../") || s === "." || s === "..");
}

/**
 * The file a relative specifier in `from` names, among `files`, as Node's and
 * TypeScript's resolution would find it: the path itself, `.ts`, or
 * `/index.ts`. Undefined when none is given.
 */
export function resolveSpecifier(from: string, spec: string, files: FileTexts): string | undefined {
  const target = joinPath(from, spec);
  const stem = target.replace(/\.(c|m)?js$/, "");
  for (const c of [target, `${stem}.ts`, `${stem}.d.ts`, `${target}/index.ts`]) if (files.has(c)) return c;
  return undefined;
}

/** `spec` relative to the directory of `from`, repository-relative with "/" separators. */
export function joinPath(from: string, spec: string): string {
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
}

/** The import graph of `files` (only edges between given files; the rest are `unresolved`). */
export function importGraph(files: FileTexts): ImportGraph {
  const edges = new Map<string, string[]>();
  const unresolved = new Map<string, string[]>();
  for (const [file, text] of files) {
    const to = new Set<string>();
    const missing = new Set<string>();
    for (const spec of relativeSpecifiers(text)) {
      const hit = resolveSpecifier(file, spec, files);
      if (hit === undefined) missing.add(joinPath(file, spec));
      else to.add(hit);
    }
    edges.set(file, [...to].sort());
    if (missing.size > 0) unresolved.set(file, [...missing].sort());
  }
  return { edges, unresolved };
}

/** Every file reachable from `entries` (themselves included), sorted. */
export function reachable(graph: ImportGraph, entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const todo = entries.filter((e) => graph.edges.has(e));
  while (todo.length > 0) {
    const f = todo.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const g of graph.edges.get(f) ?? []) if (!seen.has(g)) todo.push(g);
  }
  return [...seen].sort();
}

/**
 * One import cycle in `edges`, as the files around it with the first repeated
 * at the end (`["a.ts", "b.ts", "a.ts"]`), or undefined when there is none.
 * Deterministic: files and edges are visited in sorted order.
 */
export function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string): string[] | undefined => {
    state.set(f, "open");
    stack.push(f);
    for (const g of [...(edges.get(f) ?? [])].sort()) {
      const s = state.get(g);
      if (s === "open") return [...stack.slice(stack.indexOf(g)), g];
      if (s === undefined) {
        const found = visit(g);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(f, "done");
    return undefined;
  };
  for (const f of [...edges.keys()].sort()) {
    if (state.has(f)) continue;
    const found = visit(f);
    if (found) return found;
  }
  return undefined;
}
