/**
 * Issue 22 fact 1: the docker provider reads every duration of a service back
 * in Go's short form (upstream `shortDur`), so a duration declared in any other
 * spelling shows as a change on every preview and updates the service on every
 * `up`. core/goDuration.ts is the form; here it is pinned against Go's own
 * output, and every duration the program declares in the app service, on every
 * stack and in every kind of rollout state, is checked to be in it already.
 */
import { strict as assert } from "node:assert";
import { GoDurationError, goDurationString, goShortDuration, goShortSeconds, isGoShortDuration, parseGoDuration } from "../../core/goDuration";
import { SERVICE_DURATION_KEYS, diffEvaluations } from "../../offline/plan";
import type { Evaluation } from "../../offline/evaluation";
import { appService, evaluateStack } from "../support/program";

/** The service inputs the provider types as Go durations (offline/plan.ts, one list for the plan and this test). */
const DURATION_KEYS = new Set(SERVICE_DURATION_KEYS);

interface Leaf {
  path: string;
  key: string;
  value: unknown;
}

function walk(v: unknown, path: string, key: string, out: Leaf[]): Leaf[] {
  if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}.${i}`, key, out));
  else if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) walk(x, path === "" ? k : `${path}.${k}`, k, out);
  else out.push({ path, key, value: v });
  return out;
}

/** Parses as a Go duration and names a unit: what the provider would read back as one. */
const looksLikeDuration = (s: string) => /[a-zµμ]$/.test(s) && /^\d/.test(s) && (() => {
  try {
    parseGoDuration(s);
    return true;
  } catch {
    return false;
  }
})();

describe("Go durations in the provider's read-back form (core/goDuration.ts)", () => {
  it("the issue's cases: 60s → 1m, 90s → 1m30s, 3600s → 1h; 0s and 10s stay", () => {
    assert.equal(goShortDuration("60s"), "1m");
    assert.equal(goShortDuration("90s"), "1m30s");
    assert.equal(goShortDuration("3600s"), "1h");
    assert.equal(goShortDuration("0s"), "0s");
    assert.equal(goShortDuration("10s"), "10s");
    assert.equal(goShortSeconds(30), "30s");
    assert.equal(goShortSeconds(60), "1m");
  });

  it("time.Duration.String() itself, then shortDur's two suffix rules only", () => {
    const cases: Array<[string, string, string]> = [
      // input, Go's String(), shortDur
      ["0", "0s", "0s"],
      ["1ns", "1ns", "1ns"],
      ["1500ns", "1.5µs", "1.5µs"],
      ["1.5us", "1.5µs", "1.5µs"],
      ["500ms", "500ms", "500ms"],
      ["1500ms", "1.5s", "1.5s"],
      ["2m", "2m0s", "2m"],
      ["1m0.5s", "1m0.5s", "1m0.5s"],
      ["10m", "10m0s", "10m"],
      ["1h1m", "1h1m0s", "1h1m"],
      ["61m", "1h1m0s", "1h1m"],
      ["1h0m1s", "1h0m1s", "1h0m1s"],
      ["90m", "1h30m0s", "1h30m"],
      ["25h", "25h0m0s", "25h"],
      ["-60s", "-1m0s", "-1m"],
      ["1.5h", "1h30m0s", "1h30m"],
    ];
    for (const [input, str, short] of cases) {
      assert.equal(goDurationString(parseGoDuration(input)), str, `String() of ${input}`);
      assert.equal(goShortDuration(input), short, `shortDur of ${input}`);
      assert.ok(isGoShortDuration(short), short);
    }
    assert.equal(isGoShortDuration("60s"), false);
  });

  it("refuses what Go's ParseDuration refuses, naming the value and what is allowed", () => {
    for (const bad of ["", "7", "1d", "s", "1.s.", "1m 30s", "9999999999h"]) {
      assert.throws(() => goShortDuration(bad), (e: unknown) => e instanceof GoDurationError && e.message.includes(JSON.stringify(bad)) && /expected a Go duration/.test(e.message), bad);
    }
  });

  it("every duration the app service declares is in that form, on every stack and in every kind of state", async function () {
    this.timeout(120_000);
    const variants: Array<[string, Record<string, string>]> = [
      ["dev", {}],
      ["staging", {}],
      ["prod", {}],
      ["prod", { canaryPercentage: "25" }],
      // The immediate rollback (flags off, percentage kept) declares its own update policy.
      ["prod", { canaryPercentage: "25", enableStatelessOrchestration: "false", enableSafeJsonParser: "false" }],
    ];
    let checked = 0;
    for (const [stack, sets] of variants) {
      const inputs = appService(await evaluateStack(stack, { sets })).inputs;
      for (const leaf of walk(inputs, "", "", [])) {
        if (typeof leaf.value !== "string") continue;
        if (DURATION_KEYS.has(leaf.key)) {
          checked++;
          assert.equal(leaf.value, goShortDuration(leaf.value), `${stack} ${JSON.stringify(sets)}: ${leaf.path} = ${JSON.stringify(leaf.value)} reads back as ${JSON.stringify(goShortDuration(leaf.value))}`);
        } else {
          assert.ok(!looksLikeDuration(leaf.value), `${leaf.path} = ${JSON.stringify(leaf.value)} looks like a duration: add its key to DURATION_KEYS`);
        }
      }
    }
    // health check (3), stop grace, restart (2), update (2), rollback (2), converge (2), per variant.
    assert.ok(checked >= 12 * variants.length, `checked ${checked} durations`);
  });

  it("the offline plan compares a service as the provider reads it back: a duration's other spelling and an empty map are no change", async function () {
    this.timeout(60_000);
    const ev = await evaluateStack("dev");
    const svc = appService(ev);
    const respelled = (inputs: Record<string, unknown>): Record<string, unknown> => {
      const copy = JSON.parse(JSON.stringify(inputs)) as { taskSpec: { containerSpec: Record<string, unknown> & { healthcheck: Record<string, unknown> } }; convergeConfig: Record<string, unknown> };
      copy.taskSpec.containerSpec.healthcheck.startPeriod = "60s";
      copy.taskSpec.containerSpec.stopGracePeriod = "30000ms";
      copy.convergeConfig.timeout = "600s";
      // What the provider reads back for a spec without sysctls, whichever of the two the declaration has.
      copy.taskSpec.containerSpec.sysctl = copy.taskSpec.containerSpec.sysctl === undefined ? {} : undefined;
      return copy;
    };
    const other: Evaluation = { ...ev, resources: ev.resources.map((r) => (r === svc ? { ...r, inputs: respelled(r.inputs) } : r)) };
    assert.deepEqual(diffEvaluations(ev, other), []);
    assert.deepEqual(diffEvaluations(other, ev), []);
    // A real change of a duration still shows.
    const longer: Evaluation = { ...ev, resources: ev.resources.map((r) => (r === svc ? { ...r, inputs: { ...respelled(r.inputs), convergeConfig: { delay: "2s", timeout: "11m" } } } : r)) };
    const [c] = diffEvaluations(ev, longer);
    assert.deepEqual(c.changes.map((x) => [x.input, x.before, x.after]), [["convergeConfig.timeout", "10m", "11m"]]);
  });
});
