/**
 * The config's duration schema against promtool itself: over a table of
 * hostile and boundary durations and a few hundred generated ones, the schema
 * accepts exactly what promtool accepts (a rule file with `for: <d>`, checked
 * by `promtool check rules`, one invocation for all files). Then: an interval
 * must also be above zero (Prometheus reads 0 as "the default"), and
 * `npm run verify` catches a scrape interval Prometheus refuses.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { ConfigError, parseConfig } from "../../core/config";
import { parsePromDuration } from "../../core/configSchema";
import { requireTools } from "../support/tools";
import { runTool, tmpDir } from "./support";
import { seededRandom } from "../../drill/traffic";

const TABLE = [
  // The review's findings: a unit twice, out of order, beyond Go's time.Duration.
  "1s1m", "5s5s", "99999999999999999999y",
  // Valid forms.
  "0", "0s", "0ms", "30s", "5m", "1h30m", "1y1w1d1h1m1s1ms", "01s", "1h0m", "1d1ms", "1000ms", "90s",
  // Range: 2^63-1 ns is 9223372036854.775807 ms.
  "292y", "293y", "292y24w", "292y25w", "106751d", "106752d", "2562047h", "2562048h", "9223372036854ms", "9223372036855ms",
  "9223372036854775807ms", "9223372036854775808ms", "15250w", "15251w", "153722867m", "153722868m", "9223372036s", "9223372037s",
  "292y171d23h47m16s854ms", "292y171d23h47m16s855ms",
  // Not durations.
  "", " ", "1", "00", "s", "ms", "1.5h", "-1s", "+1s", "1S", "1M", "1H", "1 s", " 1s", "1s ", "1s\n", "1m1m", "1ms1s", "1w1y",
  "1h1d", "1mss", "1sm", "1us", "1µs", "1ns", "1x", "1e3s", "0x10s", "１s", "1s;", "5 minutes", "1h 30m", "P1D", "1d-1h",
];

/** Seeded PRNG (the drill's mulberry32, drill/traffic.ts): the same inputs on every run. */
const rng = seededRandom;

const UNITS = ["y", "w", "d", "h", "m", "s", "ms"];

function generated(n: number): string[] {
  const r = rng(20261201);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const count = () => {
    const kind = r();
    if (kind < 0.5) return String(Math.floor(r() * 100));
    if (kind < 0.7) return "0" + String(Math.floor(r() * 10));
    if (kind < 0.9) return String(Math.floor(r() * 1e6));
    return String(BigInt(Math.floor(r() * 1e9)) * 10n ** BigInt(Math.floor(r() * 12)));
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const parts = 1 + Math.floor(r() * 4);
    let units: string[];
    if (r() < 0.6) {
      // In order, each once: mostly valid (unless out of range).
      units = UNITS.filter(() => r() < 0.5).slice(0, parts);
      if (units.length === 0) units = [pick(UNITS)];
    } else {
      units = Array.from({ length: parts }, () => pick([...UNITS, "S", "us", ""]));
    }
    out.push(units.map((u) => count() + u).join(""));
  }
  return out;
}

function schemaAccepts(d: string): boolean {
  try {
    parseConfig({ appImage: "ghcr.io/valuecanvas/app:phase3", alerting: { warningFor: d } }, { stack: "staging" });
    return true;
  } catch (e) {
    if (e instanceof ConfigError) return false;
    throw e;
  }
}

describe("durations: the schema accepts exactly what promtool accepts", function () {
  this.timeout(120_000);
  let promtool: string;
  before(function () {
    promtool = requireTools(this, "promtool").promtool;
  });

  it("over the table and generated durations (one rule file each, one promtool run)", async () => {
    const durations = [...new Set([...TABLE, ...generated(400)])];
    const dir = tmpDir("durations-");
    try {
      const files = durations.map((d, i) => {
        const f = path.join(dir, `d${i}.yml`);
        fs.writeFileSync(f, stringify({ groups: [{ name: "g", rules: [{ alert: "A", expr: "vector(1)", for: d }] }] }));
        return f;
      });
      const r = await runTool(promtool, ["check", "rules", ...files]);
      const verdicts = new Map<string, boolean>();
      for (const block of r.stdout.split(/^Checking /m).slice(1)) {
        const file = block.split("\n")[0].trim();
        verdicts.set(file, /SUCCESS: \d+ rules found/.test(block));
      }
      assert.equal(verdicts.size, files.length, `promtool reported on ${verdicts.size} of ${files.length} files:\n${r.stdout.slice(0, 2000)}`);
      const disagree: string[] = [];
      let accepted = 0;
      durations.forEach((d, i) => {
        const tool = verdicts.get(files[i]);
        const ours = schemaAccepts(d);
        if (tool) accepted++;
        if (ours !== tool) disagree.push(`${JSON.stringify(d)}: promtool ${tool ? "accepts" : "refuses"}, the schema ${ours ? "accepts" : "refuses"}`);
      });
      assert.deepEqual(disagree, []);
      // The generator covers both sides.
      assert.ok(accepted > 100 && durations.length - accepted > 100, `${accepted} of ${durations.length} accepted`);
      for (const bad of ["1s1m", "5s5s", "99999999999999999999y"]) assert.equal(schemaAccepts(bad), false, bad);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("parsePromDuration gives Prometheus's milliseconds (365d years, 7d weeks)", () => {
    assert.equal(parsePromDuration("1y1w1d1h1m1s1ms"), 31_536_000_000 + 604_800_000 + 86_400_000 + 3_600_000 + 60_000 + 1000 + 1);
    assert.equal(parsePromDuration("0"), 0);
    assert.equal(parsePromDuration("9223372036854ms"), 9223372036854);
    assert.equal(parsePromDuration("9223372036855ms"), undefined);
  });
});

describe("intervals: a Prometheus duration above zero", () => {
  for (const key of ["scrapeInterval", "evaluationInterval"]) {
    for (const bad of ["0", "0s", "0ms", "1s1m", "293y"]) {
      it(`alerting.${key} = ${JSON.stringify(bad)} is refused, naming the key, the value and what is allowed`, () => {
        assert.throws(
          () => parseConfig({ appImage: "ghcr.io/valuecanvas/app:phase3", alerting: { [key]: bad } }, { stack: "staging" }),
          (e: Error) => {
            assert.ok(e instanceof ConfigError);
            assert.match(e.message, new RegExp(`valuecanvas:alerting\\.${key} = "${bad}": expected a Prometheus duration .*above zero`));
            return true;
          },
        );
      });
    }
  }
});
