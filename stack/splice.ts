/**
 * The byte-exact splice of a stack file's text. The file is located with the
 * `yaml` Document API (node ranges) and only the changed values' characters
 * are replaced, so comments, key order, blank lines and `secure:` values stay
 * byte-identical. A key the file does not have yet is added as one new line
 * after the last `valuecanvas:` key. A hold (`rollout hold`) is a nested
 * mapping written by the `yaml` serializer (every string double-quoted, on one
 * line) and spliced in the same way; `rollout release` removes its lines.
 * Pure: text in, text out.
 */
import { Document, isMap, isScalar, parseDocument, Scalar } from "yaml";
import { CONFIG_NAMESPACE } from "../core/configSchema";
import { ConfigChange, HoldEdit, HOLD_KEY } from "../core/transitions";
import { YamlSubsetError, lineEndOf } from "../core/yamlSubset";
import { StackEditError } from "./stackEditError";
import { StackFileError } from "./stackFileError";

function renderScalar(value: string, old: Scalar | undefined): string {
  if (old?.type === Scalar.PLAIN && /^[A-Za-z0-9._-]+$/.test(value)) return value;
  if (old?.type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  return JSON.stringify(value);
}

/**
 * Apply `changes` to a stack file's text. Pure. Only the changed values'
 * characters differ (plus one line per added key, and the note).
 */
export function editStackText(file: string, text: string, changes: ConfigChange[], note?: string, hold?: HoldEdit): string {
  let eol: string;
  try {
    eol = lineEndOf(text);
  } catch (e) {
    if (e instanceof YamlSubsetError) throw new StackFileError(`${file} line ${e.line}, column ${e.column}: ${e.reason}`);
    throw e;
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new StackFileError(`${file} is not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
  const cfg = doc.get("config", true);
  if (cfg !== undefined && cfg !== null && !(isMap(cfg) && !cfg.flow)) {
    throw new StackEditError(`${file}: "config:" is not a block mapping; edit it with "pulumi config set" instead`);
  }
  type Splice = { start: number; end: number; text: string };
  const splices: Splice[] = [];
  const added: string[] = [];
  const lineStart = (pos: number) => text.lastIndexOf("\n", pos - 1) + 1;
  const lineEnd = (pos: number) => {
    const i = text.indexOf("\n", pos);
    return i < 0 ? text.length : i + 1;
  };
  let indent = "  ";
  let insertAt = -1;
  if (isMap(cfg)) {
    for (const item of cfg.items) {
      if (isScalar(item.key) && item.key.range) {
        indent = text.slice(lineStart(item.key.range[0]), item.key.range[0]);
        if (String(item.key.value).startsWith(`${CONFIG_NAMESPACE}:`)) {
          const v = item.value as { range?: [number, number, number] | null } | null;
          insertAt = lineEnd(Math.max(item.key.range[1], v?.range ? v.range[1] - 1 : 0));
        }
      }
    }
    if (insertAt < 0 && cfg.range) insertAt = lineEnd(cfg.range[0]);
  }
  for (const ch of changes) {
    const key = `${CONFIG_NAMESPACE}:${ch.key}`;
    const pair = isMap(cfg) ? cfg.items.find((it) => isScalar(it.key) && it.key.value === key) : undefined;
    if (pair && isScalar(pair.value) && pair.value.range) {
      const [s, e] = pair.value.range;
      splices.push({ start: s, end: e, text: renderScalar(ch.value, pair.value) });
      if (ch.key === "canaryPercentage" && note !== undefined && isScalar(pair.key) && pair.key.range) {
        const ls = lineStart(pair.key.range[0]);
        splices.push({ start: ls, end: ls, text: `${indent}# ${note}${eol}` });
      }
    } else if (pair) {
      throw new StackEditError(`${file}: ${key} is not a plain value; edit it with "pulumi config set" instead`);
    } else {
      if (ch.key === "canaryPercentage" && note !== undefined) added.push(`${indent}# ${note}${eol}`);
      added.push(`${indent}${key}: ${JSON.stringify(ch.value)}${eol}`);
    }
  }
  if (hold !== undefined) {
    const key = `${CONFIG_NAMESPACE}:${HOLD_KEY}`;
    const pair = isMap(cfg) ? cfg.items.find((it) => isScalar(it.key) && it.key.value === key) : undefined;
    const v = pair?.value as { range?: [number, number, number] | null } | null | undefined;
    if (pair && isScalar(pair.key) && pair.key.range) {
      // The pair's lines go: the one being replaced, or the one `rollout release` removes.
      const start = lineStart(pair.key.range[0]);
      const end = lineEnd(Math.max(pair.key.range[1], v?.range ? v.range[1] - 1 : 0));
      splices.push({ start, end, text: hold.kind === "set" ? holdLines(hold.hold, indent, eol) : "" });
    } else if (hold.kind === "set") {
      added.push(holdLines(hold.hold, indent, eol));
    }
  }
  let out = text;
  if (added.length > 0) {
    if (insertAt < 0) {
      const sep = out.length === 0 || out.endsWith("\n") ? "" : eol;
      splices.push({ start: out.length, end: out.length, text: `${sep}config:${eol}${added.join("")}` });
    } else {
      const needsNl = insertAt === text.length && !text.endsWith("\n") ? eol : "";
      splices.push({ start: insertAt, end: insertAt, text: needsNl + added.join("") });
    }
  }
  splices.sort((a, b) => b.start - a.start || b.end - a.end);
  for (const sp of splices) out = out.slice(0, sp.start) + sp.text + out.slice(sp.end);
  return out;
}

/**
 * The hold's lines, `valuecanvas:hold:` and its three keys, as the `yaml` serializer writes them: every string
 * double-quoted on one line (no folding: lineWidth 0), so a reason with `#`, `:`, quotes or backslashes stays one
 * value. The reason has no character the stack-file subset refuses (the schema's rule, checked before this), so
 * the only escapes are \\ and \" (core/yamlSubset.ts); stack/stackEdit.ts re-reads the result with both readers.
 */
export function holdLines(hold: Extract<HoldEdit, { kind: "set" }>["hold"], indent: string, eol: string): string {
  const doc = new Document({ [`${CONFIG_NAMESPACE}:${HOLD_KEY}`]: { reason: hold.reason, by: hold.by, at: hold.at } });
  const body = doc.toString({ lineWidth: 0, minContentWidth: 0, defaultStringType: "QUOTE_DOUBLE", defaultKeyType: "PLAIN", indent: 2 });
  return body
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => `${indent}${l}${eol}`)
    .join("");
}
