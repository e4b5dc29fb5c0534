/**
 * The YAML subset stack files must be written in, and its reader. Pure.
 *
 * Two YAML readers see every stack file: the project's (npm `yaml`, in
 * plan, rollout and CI) and Pulumi's (Go `gopkg.in/yaml.v3`, in the CLI
 * that deploys). They disagree on corners of YAML: a NEL (U+0085) or a lone
 * CR ends a comment for Go and not for npm `yaml`, `<<` merge keys, YAML 1.1
 * numbers (`017`, `1_000`), tags, anchors... A file that means 0 % here
 * and 100 % to Pulumi would hide a canary raise from every check. So a stack
 * file is accepted only when it is written in the small subset below, on
 * which both readers are known to agree (test/program/yaml-differential.test.ts
 * checks that against Pulumi's own loader), and everything else is refused
 * with its line, column and, for a character, its name.
 *
 * The subset (docs/reliability.md "Stack files"):
 * - UTF-8 text; an optional byte order mark at the very start, nowhere else.
 * - Characters: printable ASCII and printable non-ASCII letters, marks,
 *   numbers, punctuation and symbols. No tab, no control character, no other
 *   line break than LF or CRLF (one kind per file), no format, bidirectional,
 *   private-use, unassigned or replacement character, no space other than U+0020.
 * - Lines: blank, a comment (`#` after optional spaces), or `key: value` /
 *   `key:` followed by more-indented lines (a nested mapping). Indentation
 *   with spaces, each nested mapping's lines at one indentation.
 * - Keys: plain, `[A-Za-z_][A-Za-z0-9_./-]*` with optional `:`-separated
 *   parts of the same characters; never a YAML keyword (true, null, yes, ...);
 *   unique within their mapping.
 * - Values, on the key's line, optionally followed by spaces and a `# comment`:
 *   `true` or `false`; a decimal integer of at most 15 digits (`0`, `-12`);
 *   a decimal number of the same size with 1 to 15 decimals (`0.5`); a plain
 *   string `[A-Za-z_/][A-Za-z0-9_./@:+=%~-]*` (not ending in `:`, not a YAML
 *   keyword) or digits with at least two dots (`127.0.0.1`); a single-quoted
 *   string (`''` for a quote) or a double-quoted string whose only escapes are
 *   `\\` and `\"`, on one line; an empty mapping `{}` or list `[]`.
 * - Nothing else: no lists, flow collections, block scalars (`|`, `>`),
 *   multi-line strings, anchors, aliases, tags, merge keys, complex keys,
 *   directives or document markers, empty values.
 */

export class YamlSubsetError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly reason: string,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
    this.name = "YamlSubsetError";
  }
}

/** A mapping read from the subset: string keys, scalar or mapping values. */
export type SubsetValue = string | number | boolean | SubsetMap | never[];
export interface SubsetMap {
  [key: string]: SubsetValue;
}

const NAMES: Record<number, string> = {
  0x00: "NULL",
  0x07: "BELL",
  0x08: "BACKSPACE",
  0x09: "CHARACTER TABULATION (tab)",
  0x0b: "LINE TABULATION (vertical tab)",
  0x0c: "FORM FEED",
  0x0d: "CARRIAGE RETURN (not followed by a line feed)",
  0x1b: "ESCAPE",
  0x7f: "DELETE",
  0x85: "NEXT LINE (NEL)",
  0xa0: "NO-BREAK SPACE",
  0xad: "SOFT HYPHEN",
  0x1680: "OGHAM SPACE MARK",
  0x180e: "MONGOLIAN VOWEL SEPARATOR",
  0x200b: "ZERO WIDTH SPACE",
  0x200c: "ZERO WIDTH NON-JOINER",
  0x200d: "ZERO WIDTH JOINER",
  0x200e: "LEFT-TO-RIGHT MARK",
  0x200f: "RIGHT-TO-LEFT MARK",
  0x2028: "LINE SEPARATOR",
  0x2029: "PARAGRAPH SEPARATOR",
  0x202a: "LEFT-TO-RIGHT EMBEDDING",
  0x202b: "RIGHT-TO-LEFT EMBEDDING",
  0x202c: "POP DIRECTIONAL FORMATTING",
  0x202d: "LEFT-TO-RIGHT OVERRIDE",
  0x202e: "RIGHT-TO-LEFT OVERRIDE",
  0x2060: "WORD JOINER",
  0x2066: "LEFT-TO-RIGHT ISOLATE",
  0x2067: "RIGHT-TO-LEFT ISOLATE",
  0x2068: "FIRST STRONG ISOLATE",
  0x2069: "POP DIRECTIONAL ISOLATE",
  0x3000: "IDEOGRAPHIC SPACE",
  0xfeff: "ZERO WIDTH NO-BREAK SPACE (byte order mark)",
  0xfffd: "REPLACEMENT CHARACTER (the file is not valid UTF-8, or holds this character)",
  0xfffe: "a noncharacter",
  0xffff: "a noncharacter",
};

const C0 = ["NULL", "START OF HEADING", "START OF TEXT", "END OF TEXT", "END OF TRANSMISSION", "ENQUIRY", "ACKNOWLEDGE", "BELL", "BACKSPACE",
  "CHARACTER TABULATION (tab)", "LINE FEED", "LINE TABULATION", "FORM FEED", "CARRIAGE RETURN", "SHIFT OUT", "SHIFT IN", "DATA LINK ESCAPE",
  "DEVICE CONTROL ONE", "DEVICE CONTROL TWO", "DEVICE CONTROL THREE", "DEVICE CONTROL FOUR", "NEGATIVE ACKNOWLEDGE", "SYNCHRONOUS IDLE",
  "END OF TRANSMISSION BLOCK", "CANCEL", "END OF MEDIUM", "SUBSTITUTE", "ESCAPE", "INFORMATION SEPARATOR FOUR", "INFORMATION SEPARATOR THREE",
  "INFORMATION SEPARATOR TWO", "INFORMATION SEPARATOR ONE"];

const hex = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;

/** `U+0085 NEXT LINE (NEL)`: a character's code point and name (or kind). */
export function characterName(cp: number): string {
  const name = NAMES[cp] ?? (cp < 0x20 ? C0[cp] : undefined);
  if (name) return `${hex(cp)} ${name}`;
  const c = String.fromCodePoint(cp);
  const kind = cp >= 0x80 && cp <= 0x9f ? "a C1 control character"
    : /\p{Cs}/u.test(c) ? "a lone surrogate"
    : /\p{Cf}/u.test(c) ? "an invisible format character"
    : /\p{Zs}/u.test(c) ? "a space other than U+0020"
    : /\p{Co}/u.test(c) ? "a private-use character"
    : /\p{Cn}/u.test(c) ? "an unassigned code point"
    : /\p{Cc}/u.test(c) ? "a control character"
    : "a character outside the accepted subset";
  return `${hex(cp)} (${kind})`;
}

const WHY: Record<number, string> = {
  0x0d: "Pulumi's YAML reader (Go) ends a line there, the project's does not",
  0x85: "Pulumi's YAML reader (Go) ends a line there (a comment ends, what follows is read as config), the project's does not",
  0x2028: "some YAML readers end a line there and others do not",
  0x2029: "some YAML readers end a line there and others do not",
  0x09: "YAML readers treat tabs differently (indentation, separation)",
  0xfeff: "a byte order mark is allowed only as the file's first character",
};

/** Printable: what a stack file may contain besides LF and CRLF line ends. */
const ALLOWED_NON_ASCII = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;

function badCharacter(cp: number): boolean {
  if (cp >= 0x20 && cp <= 0x7e) return false;
  if (cp < 0x80) return true;
  if (cp === 0xfffd || cp === 0xfeff) return true;
  return !ALLOWED_NON_ASCII.test(String.fromCodePoint(cp));
}

/**
 * The first character of `s` that may not appear in a stack file (a line
 * break, a control, format or invisible character...): its index and code
 * point, or undefined. For text the CLI writes into a stack file.
 */
export function firstBadCharacter(s: string): { index: number; codePoint: number } | undefined {
  let index = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp === 0x0a || badCharacter(cp)) return { index, codePoint: cp };
    index++;
  }
  return undefined;
}

/** `s` as a JSON string with every character outside the subset as a \\uXXXX escape: safe to print in an error. */
export function shown(s: string): string {
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp === 0x0a || badCharacter(cp)) out += cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, "0")}`;
    else out += JSON.stringify(ch).slice(1, -1);
  }
  return `"${out}"`;
}

/** Split into lines; refuse any character outside the subset. Returns the lines (without their LF / CRLF) and the line end. */
function checkedLines(text: string): { lines: string[]; eol: "\n" | "\r\n" } {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const raw = body.split("\n");
  let eol: "\n" | "\r\n" | undefined;
  let eolLine = 0;
  const lines: string[] = [];
  raw.forEach((l, i) => {
    const last = i === raw.length - 1;
    let line = l;
    if (!last) {
      const crlf = line.endsWith("\r");
      if (crlf) line = line.slice(0, -1);
      const mine = crlf ? "\r\n" : "\n";
      if (eol === undefined) {
        eol = mine;
        eolLine = i + 1;
      } else if (eol !== mine) {
        throw new YamlSubsetError(i + 1, [...line].length + 1,
          `this line ends with ${mine === "\r\n" ? "CRLF" : "LF"} but line ${eolLine} with ${eol === "\r\n" ? "CRLF" : "LF"}: use one kind of line end per file`);
      }
    }
    let col = 0;
    for (const ch of line) {
      col++;
      const cp = ch.codePointAt(0) as number;
      if (badCharacter(cp)) {
        const why = WHY[cp] ?? "YAML readers disagree on characters outside the accepted subset, or a reviewer cannot see it";
        throw new YamlSubsetError(i + 1, col + (i === 0 && body !== text ? 1 : 0), `${characterName(cp)} is not allowed in a stack file: ${why}. Remove it (allowed: printable characters, LF or CRLF line ends)`);
      }
    }
    lines.push(line);
  });
  return { lines, eol: eol ?? "\n" };
}

/** The line end a stack file uses (LF when it has none). Throws YamlSubsetError for a file outside the subset's characters. */
export function lineEndOf(text: string): "\n" | "\r\n" {
  return checkedLines(text).eol;
}

/** Words YAML readers resolve to booleans or null in some schema (YAML 1.1 or 1.2), in any case. */
const KEYWORDS = new Set(["true", "false", "null", "yes", "no", "on", "off", "y", "n"]);

const KEY_RE = /^([A-Za-z_][A-Za-z0-9_./-]*(?::[A-Za-z0-9_./-]+)*):(?= |$)/;
const INT_RE = /^(?:0|-?[1-9][0-9]{0,14})$/;
const FLOAT_RE = /^-?(?:0|[1-9][0-9]{0,14})\.[0-9]{1,15}$/;
const PLAIN_RE = /^[A-Za-z_/][A-Za-z0-9_./@:+=%~-]*$/;
const DOTTED_RE = /^[0-9]+(?:\.[0-9]+){2,}$/;

const INDICATORS: Array<[RegExp, string]> = [
  [/^- |^-$/, "a list item: lists are not in the accepted subset (the config schema has none)"],
  [/^\? |^\?$/, "a complex key (`? `): not in the accepted subset"],
  [/^---|^\.\.\./, "a document marker (--- or ...): a stack file is one document without markers"],
  [/^%/, "a directive (%YAML, %TAG): not in the accepted subset"],
  [/^<</, "a merge key (<<): YAML readers disagree on merge keys; write every key out"],
  [/^&/, "an anchor (&): anchors and aliases are not in the accepted subset; write the value out"],
  [/^\*/, "an alias (*): anchors and aliases are not in the accepted subset; write the value out"],
  [/^!/, "a tag (!): tags are not in the accepted subset"],
  [/^["']/, "a quoted key: write keys unquoted (letters, digits, _ . / - and :)"],
  [/^[{[]/, "a flow collection ({...} or [...]): not in the accepted subset; use one `key: value` per line"],
];

function valueProblem(tok: string): string | undefined {
  const c = tok[0];
  if (c === "&") return "an anchor (&): anchors and aliases are not in the accepted subset; write the value out";
  if (c === "*") return "an alias (*): anchors and aliases are not in the accepted subset; write the value out";
  if (c === "!") return "a tag (!): tags are not in the accepted subset; quote the value instead";
  if (c === "|" || c === ">") return "a block scalar (| or >): not in the accepted subset; write the value on one line, quoted";
  if (c === "{" || c === "[") return "a flow collection ({...} or [...]): not in the accepted subset (only the empty {} and []); use a nested mapping";
  if (c === "<" && tok.startsWith("<<")) return "a merge key (<<): YAML readers disagree on merge keys";
  return undefined;
}

/** A plain (unquoted) value: its meaning, or a reason it is refused. */
function plainValue(tok: string): { value: SubsetValue } | { problem: string } {
  if (tok === "true") return { value: true };
  if (tok === "false") return { value: false };
  if (INT_RE.test(tok)) return { value: Number(tok) };
  if (FLOAT_RE.test(tok)) {
    const n = Number(tok);
    if (n === 0 && tok.startsWith("-")) return { problem: `"${tok}" is a negative zero, which YAML readers print differently; write 0` };
    return { value: n };
  }
  if (KEYWORDS.has(tok.toLowerCase()))
    return { problem: `"${tok}" means a boolean or null to some YAML readers and a string to others: write true or false, or quote it ("${tok}")` };
  if (DOTTED_RE.test(tok)) return { value: tok };
  if (PLAIN_RE.test(tok) && !tok.endsWith(":")) return { value: tok };
  if (/^[-+.0-9]/.test(tok))
    return { problem: `"${tok}" is read as a number by some YAML readers and as a string by others (octal, hex, _ separators, exponents, signs): quote it, or write a plain decimal number` };
  return { problem: `the unquoted value "${tok}" is outside the accepted subset (plain values: letters, digits and _ . / @ : + = % ~ -, starting with a letter, _ or /): quote it` };
}

/** Read one value token at `s[0]`; returns the value and the rest of the line. */
function readValue(s: string, fail: (offset: number, reason: string) => never): { value: SubsetValue; rest: string; end: number } {
  if (s[0] === '"') {
    let out = "";
    for (let i = 1; i < s.length; i++) {
      const c = s[i];
      if (c === '"') return { value: out, rest: s.slice(i + 1), end: i + 1 };
      if (c === "\\") {
        const e = s[i + 1];
        if (e === "\\" || e === '"') {
          out += e;
          i++;
          continue;
        }
        fail(i, `the escape \\${e ?? ""} is not in the accepted subset (YAML readers differ on escapes such as \\N, \\L, \\P, \\x): only \\\\ and \\" are accepted; write the character itself or use single quotes`);
      }
      out += c;
    }
    fail(0, "a double-quoted value must end on the same line (multi-line strings are not in the accepted subset)");
  }
  if (s[0] === "'") {
    let out = "";
    for (let i = 1; i < s.length; i++) {
      if (s[i] === "'") {
        if (s[i + 1] === "'") {
          out += "'";
          i++;
          continue;
        }
        return { value: out, rest: s.slice(i + 1), end: i + 1 };
      }
      out += s[i];
    }
    fail(0, "a single-quoted value must end on the same line (multi-line strings are not in the accepted subset)");
  }
  const sp = s.indexOf(" ");
  const tok = sp < 0 ? s : s.slice(0, sp);
  if (tok === "{}") return { value: {}, rest: s.slice(2), end: 2 };
  if (tok === "[]") return { value: [], rest: s.slice(2), end: 2 };
  const ind = valueProblem(tok);
  if (ind) fail(0, ind);
  if (tok.includes("#")) fail(tok.indexOf("#"), `"#" inside an unquoted value: quote the value, or put a space before a comment`);
  const p = plainValue(tok);
  if ("problem" in p) fail(0, p.problem);
  return { value: p.value, rest: sp < 0 ? "" : s.slice(sp), end: tok.length };
}

interface Frame {
  indent: number;
  map: SubsetMap;
  lines: Map<string, number>;
}

/**
 * Read a document written in the subset. Throws YamlSubsetError (line,
 * column, reason) at the first thing outside it. An empty document (only
 * comments and blank lines) is an empty mapping.
 */
export function readSubset(text: string): SubsetMap {
  const { lines } = checkedLines(text);
  const root: SubsetMap = {};
  const stack: Frame[] = [{ indent: 0, map: root, lines: new Map() }];
  let pending: { key: string; frame: Frame; line: number; column: number } | undefined;

  const cols = (line: string, offset: number) => [...line.slice(0, offset)].length + 1;
  lines.forEach((line, i) => {
    const n = i + 1;
    const fail = (offset: number, reason: string): never => {
      throw new YamlSubsetError(n, cols(line, offset), reason);
    };
    if (/^ *$/.test(line) || /^ *#/.test(line)) return;
    const indent = line.length - line.trimStart().length;
    const body = line.slice(indent);
    if (pending) {
      if (indent > pending.frame.indent) {
        const map: SubsetMap = {};
        pending.frame.map[pending.key] = map;
        stack.push({ indent, map, lines: new Map() });
        pending = undefined;
      } else {
        throw new YamlSubsetError(pending.line, pending.column, `"${pending.key}" has no value (Pulumi reads an empty value as "", the project as null): write a value, or quote an empty one ("")`);
      }
    } else {
      const levels = stack.map((f) => f.indent);
      while (stack.length > 1 && indent < stack[stack.length - 1].indent) stack.pop();
      const top = stack[stack.length - 1];
      if (indent !== top.indent) {
        fail(indent, `indented ${indent} spaces, but no enclosing mapping starts in that column (they are indented ${levels.reverse().join(", ")}): every key of a mapping starts in the same column`);
      }
    }
    const frame = stack[stack.length - 1];
    const m = KEY_RE.exec(body);
    if (!m) {
      for (const [re, why] of INDICATORS) if (re.test(body)) fail(indent, why);
      fail(indent, `expected "key: value" (keys: letters, digits and _ . / - with : between parts, starting with a letter or _)`);
    }
    const key = (m as RegExpExecArray)[1];
    if (KEYWORDS.has(key.toLowerCase())) fail(indent, `the key "${key}" means a boolean or null to some YAML readers: not accepted as a key`);
    if (key === "__proto__") fail(indent, `the key "__proto__" is not accepted`);
    const first = frame.lines.get(key);
    if (first !== undefined) fail(indent, `duplicate key "${key}" (first at line ${first}): Pulumi refuses the file, or one of the two wins`);
    frame.lines.set(key, n);
    const after = body.slice(key.length + 1);
    const afterOffset = indent + key.length + 1;
    if (/^ *(?: #.*)?$/.test(after)) {
      pending = { key, frame, line: n, column: cols(line, indent) };
      return;
    }
    const lead = after.length - after.trimStart().length;
    const start = afterOffset + lead;
    const v = readValue(after.slice(lead), (off, reason) => fail(start + off, reason));
    if (!/^(?: *| +#.*)$/.test(v.rest)) {
      const restOffset = start + v.end;
      const restLead = v.rest.length - v.rest.trimStart().length;
      fail(restOffset + restLead, v.rest.trimStart().startsWith("#")
        ? "a comment needs a space before the #"
        : v.rest.trimStart().startsWith(":")
          ? "a second \":\" on the line: nested mappings go on their own, more-indented lines"
          : `unexpected text after the value: quote a value with spaces`);
    }
    frame.map[key] = v.value;
  });
  if (pending) {
    throw new YamlSubsetError(pending.line, pending.column, `"${pending.key}" has no value (Pulumi reads an empty value as "", the project as null): write a value, or quote an empty one ("")`);
  }
  return root;
}
