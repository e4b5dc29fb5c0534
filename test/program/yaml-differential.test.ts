/**
 * The project's stack-file reader (stack/stackFile.ts) against Pulumi's own
 * (tools/yamlcheck: sdk/v3 go/common/workspace, the CLI's loader): over the
 * hostile table and over seeded generated files (the accepted subset, and
 * the subset mutated with hostile characters and constructs), every file the
 * project accepts must mean exactly the same config to Pulumi. A file may be
 * refused by the project; it may never be read differently.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { agreedReading } from "../../stack/stackFile";
import { CLEAN, HOSTILE_STACKS } from "../support/hostileStacks";
import { PulumiReading, pulumiRead, requireYamlcheck } from "../support/pulumiYaml";
import { seededRandom } from "../../drill/traffic";

/** Seeded PRNG (the drill's mulberry32, drill/traffic.ts): the same inputs on every run. */
const rng = seededRandom;

const isSecure = (v: unknown): v is { secure: string } =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as { secure?: unknown }).secure === "string";
const hasSecure = (v: unknown): boolean =>
  isSecure(v) || (typeof v === "object" && v !== null && Object.values(v as Record<string, unknown>).some(hasSecure));

/** Why the two readings differ, or undefined when they mean the same config. */
function disagreement(ours: Record<string, unknown>, theirs: PulumiReading): string | undefined {
  if (!theirs.ok || !theirs.config) return `the project accepts the file, Pulumi refuses it: ${theirs.error}`;
  const cfg = (ours.config ?? {}) as Record<string, unknown>;
  const keys = Object.keys(cfg).sort();
  const theirKeys = Object.keys(theirs.config).sort();
  if (!isDeepStrictEqual(keys, theirKeys)) return `config keys differ: project ${JSON.stringify(keys)}, Pulumi ${JSON.stringify(theirKeys)}`;
  for (const k of keys) {
    const v = cfg[k];
    const p = theirs.config[k];
    if (isSecure(v)) {
      if (!p.secure || p.object || p.text !== v.secure) return `${k}: project reads a secret ${JSON.stringify(v)}, Pulumi ${JSON.stringify(p)}`;
    } else if (typeof v === "object" && v !== null) {
      // The program receives structured values as JSON; secrets inside stay {secure: ...}.
      if (!p.object || p.secure !== hasSecure(v) || !isDeepStrictEqual(JSON.parse(p.text), v))
        return `${k}: project reads ${JSON.stringify(v)}, Pulumi ${JSON.stringify(p)}`;
    } else {
      // What the program receives for a plain value: the string, or the JSON of a number or boolean.
      const text = typeof v === "string" ? v : JSON.stringify(v);
      if (p.object || p.secure || p.text !== text) return `${k}: project reads ${JSON.stringify(text)}, Pulumi ${JSON.stringify(p)}`;
    }
  }
  const top = Object.fromEntries(Object.entries(ours).filter(([k]) => k !== "config"));
  if (!isDeepStrictEqual(top, theirs.top ?? {})) return `top-level keys differ: project ${JSON.stringify(top)}, Pulumi ${JSON.stringify(theirs.top)}`;
  return undefined;
}

// ---------------------------------------------------------------------------
// Generated files

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

/** Values from the accepted subset, and tokens next to its edges. */
const VALUES = [
  '"0"', '"10"', '"100"', "25", "0", "-12", "0.5", "1.25", "100.0", "123456789012345", "0.000001",
  "true", "false", '"true"', "'false'", '""', "''", '"a \\"quoted\\" word"', "'it''s'", '"back\\\\slash"',
  "ghcr.io/valuecanvas/app:phase3", `ghcr.io/valuecanvas/app@sha256:${"b".repeat(64)}`, "/health", "127.0.0.1", "1.2.3",
  "v1:AAAA+/abc==", "a=b", "x%20y", "a~b", "_x", "Infinity", "NaN", "nan", "inf", "yesterday", "nothing",
  '"# not a comment"', "'a: b'", '"{}"', "{}", "[]", '"é ü — ✓"', "plain # with a comment", '"x"   # comment',
];
/** Tokens on which YAML readers are known to differ, or that are outside the subset. */
const EDGE_VALUES = [
  "010", "0100", "1_0", "0x1F", "0o17", "0b11", "1e3", ".5", "+1", "1.", "-0", "-0.0", ".inf", "-.inf", ".nan",
  "yes", "no", "on", "off", "y", "n", "Y", "True", "FALSE", "Null", "null", "~", "NULL",
  "2001-12-14", "2001-12-14t21:59:43.10-05:00", "1:20", "12345678901234567890", "0.12345678901234567890",
  "&a x", "*a", "!!str 1", "!!int '5'", "!x y", "|", "|-", ">", '"\\N"', '"\\x41"', '"\\u0085"', '"\\t"', '"\\/"',
  "a #b", "a#b", "a: b", "-a", "- a", "@a", "`a", "a,b", "[a]", "{a: 1}", "a:", "'unterminated", '"unterminated',
  "<<", "? a", "=", "'a'b", '"a" b', "~home", "%20x",
];
const KEYS = [
  "valuecanvas:canaryPercentage", "valuecanvas:enableSafeJsonParser", "valuecanvas:appReplicas", "valuecanvas:gate", "valuecanvas:x.y",
  "docker:host", "aws:region", "valuecanvas:a_b-c/d", "valuecanvas:database",
];
const EDGE_KEYS = ["canaryPercentage", "valuecanvas:config:canaryPercentage", "a:b:c", "<<", '"valuecanvas:q"', "true", "y", "Null", "1x", "-k", "valuecanvas:"];
const NESTED_KEYS = ["host", "port", "soakHours", "secure", "a.b", "x_y", "inner", "k-1"];
/** Characters to sprinkle into mutated files. */
const HOSTILE_CHARS = ["\u0085", "\r", "\u2028", "\u2029", "\t", "\ufeff", "\u0000", "\u001b", "\u007f", "\u0090", "\u00a0", "\u200b", "\u202e", "\ufffd", "\u000b", "\u000c"];

export function subsetFile(r: () => number, eol: string): string {
  const lines: string[] = [];
  if (r() < 0.5) lines.push(`# generated ${Math.floor(r() * 1e6)}`);
  if (r() < 0.1) lines.push(`secretsprovider: ${pick(r, ["passphrase", '"awskms://alias/x"', "'hashivault://k'"])}`);
  if (r() < 0.1) lines.push("encryptionsalt: v1:abc:def");
  lines.push(`config:${r() < 0.2 ? "  # the config" : ""}`);
  const used = new Set<string>();
  const n = 1 + Math.floor(r() * 6);
  const indent = " ".repeat(1 + Math.floor(r() * 4));
  for (let i = 0; i < n; i++) {
    const key = pick(r, KEYS);
    if (used.has(key)) continue;
    used.add(key);
    if (r() < 0.25) {
      lines.push(`${indent}${key}:${r() < 0.2 ? " # group" : ""}`);
      const inner = indent + " ".repeat(1 + Math.floor(r() * 4));
      const nested = new Set<string>();
      const secure = r() < 0.2;
      if (secure) lines.push(`${inner}secure: v1:${"Zm9v".repeat(1 + Math.floor(r() * 5))}`);
      else
        for (let j = 0; j < 1 + Math.floor(r() * 4); j++) {
          const nk = pick(r, NESTED_KEYS.filter((k) => k !== "secure"));
          if (nested.has(nk)) continue;
          nested.add(nk);
          if (r() < 0.15) lines.push(`${inner}${nk}:`, `${inner}  secure: v1:QUJD`);
          else lines.push(`${inner}${nk}: ${pick(r, VALUES)}`);
        }
    } else {
      lines.push(`${indent}${key}: ${pick(r, VALUES)}`);
    }
    if (r() < 0.15) lines.push(r() < 0.5 ? "" : `${indent}# note ${pick(r, ["é", "—", "ok", "✓", "'", '"', ":", "#"])}`);
  }
  return (r() < 0.05 ? "\ufeff" : "") + lines.join(eol) + (r() < 0.9 ? eol : "");
}

export function mutated(r: () => number, eol: string): string {
  let text = subsetFile(r, eol);
  const lines = text.split(eol);
  const k = r() < 0.7 ? 1 : 2;
  for (let i = 0; i < k; i++) {
    const at = Math.floor(r() * lines.length);
    const what = r();
    if (what < 0.3) {
      // A hostile character somewhere, often in a comment hiding a raise.
      const c = pick(r, HOSTILE_CHARS);
      lines[at] = r() < 0.5 ? `  # note${c}  valuecanvas:canaryPercentage: "100"` : lines[at].slice(0, 3) + c + lines[at].slice(3);
    } else if (what < 0.5) {
      lines.splice(at, 0, `  valuecanvas:canaryPercentage: ${pick(r, EDGE_VALUES)}`);
    } else if (what < 0.6) {
      lines.splice(at, 0, `  ${pick(r, EDGE_KEYS)}: ${pick(r, VALUES)}`);
    } else if (what < 0.8) {
      // Benign-looking insertions next to the edges: these often stay in the subset.
      lines.splice(at, 0, pick(r, [`  # ${pick(r, VALUES)}`, "   ", `  valuecanvas:k${i}: ${pick(r, VALUES)}   # ${pick(r, EDGE_VALUES)}`, `  valuecanvas:k${i}: ${pick(r, VALUES)}`]));
    } else {
      lines.splice(at, 0, pick(r, ["---", "...", "%YAML 1.1", "environment: x", "  <<: {a: 1}", "x: &a 1", "  - item", "config:", "\tx: 1", "  valuecanvas:canaryPercentage: \"1", "  00\""]));
    }
  }
  text = lines.join(eol);
  return text;
}

describe("stack files: the project's reader agrees with Pulumi's own loader, or refuses", function () {
  this.timeout(600_000);
  let bin: string;
  let dir: string;
  before(function () {
    bin = requireYamlcheck(this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "yaml-diff-"));
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  /** Read each text both ways; returns the project's verdicts and the disagreements. */
  function compare(texts: string[]) {
    const files = texts.map((t, i) => {
      const f = path.join(dir, `Pulumi.g${i}.yaml`);
      fs.writeFileSync(f, t);
      return f;
    });
    const theirs = pulumiRead(bin, files);
    const out = { accepted: 0, refused: 0, disagreements: [] as string[], refusedByProject: [] as boolean[], theirs };
    texts.forEach((t, i) => {
      let ours: Record<string, unknown> | undefined;
      try {
        ours = agreedReading("Pulumi.s.yaml", t);
      } catch {
        ours = undefined;
      }
      out.refusedByProject.push(ours === undefined);
      if (ours === undefined) {
        out.refused++;
        return;
      }
      out.accepted++;
      const d = disagreement(ours, theirs[i]);
      if (d) out.disagreements.push(`${d}\n      file: ${JSON.stringify(t)}`);
    });
    for (const f of files) fs.rmSync(f, { force: true });
    return out;
  }

  it("reads the repository's stack files and the clean fixture the same way", () => {
    const texts = [CLEAN, ...fs.readdirSync(path.join(__dirname, "..", "..")).filter((f) => /^Pulumi\..+\.yaml$/.test(f)).map((f) => fs.readFileSync(path.join(__dirname, "..", "..", f), "utf8"))];
    const r = compare(texts);
    assert.deepEqual(r.disagreements, []);
    assert.equal(r.accepted, texts.length, "every repository stack file is in the subset");
  });

  it("refuses every hostile file; Pulumi reads the raise that a NEL or a lone CR hides", () => {
    const r = compare(HOSTILE_STACKS.map((h) => h.text));
    assert.deepEqual(r.disagreements, []);
    assert.deepEqual(HOSTILE_STACKS.filter((_, i) => !r.refusedByProject[i]).map((h) => h.name), [], "the project refuses every hostile file");
    // The attack is real: Pulumi reads the raise these files hide from npm yaml.
    for (const name of ["NEL (U+0085) inside a comment", "lone CR inside a comment"]) {
      const i = HOSTILE_STACKS.findIndex((h) => h.name === name);
      assert.equal(r.theirs[i].config?.["valuecanvas:canaryPercentage"]?.text, "100", `${name}: Pulumi reads 100 %`);
    }
  });

  it("agrees on 2000 generated files of the accepted subset (LF and CRLF), accepting every one", () => {
    const r = rng(20261201);
    const texts = Array.from({ length: 2000 }, (_, i) => subsetFile(r, i % 3 === 0 ? "\r\n" : "\n"));
    const res = compare(texts);
    assert.deepEqual(res.disagreements.slice(0, 5), []);
    assert.equal(res.refused, 0, "the generator writes only the documented subset: the project accepts all of it");
  });

  it("agrees on, or refuses, 2000 generated files mutated with hostile characters and constructs", () => {
    const r = rng(85);
    const texts = Array.from({ length: 2000 }, (_, i) => mutated(r, i % 4 === 0 ? "\r\n" : "\n"));
    const res = compare(texts);
    assert.deepEqual(res.disagreements.slice(0, 5), []);
    // Enough of both outcomes that the comparison means something.
    assert.ok(res.refused > 700 && res.accepted > 150, `accepted ${res.accepted}, refused ${res.refused}`);
  });
});
