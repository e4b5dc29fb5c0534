/**
 * Golden tests of what `rollout gate` and `rollout status` print, short and `--verbose`, on fixed data
 * (core/gateText.ts, cli/rolloutText.ts): the text is pinned in test/rollout/golden/*.txt. After an
 * intended change of wording, `UPDATE_GOLDEN=1 npx mocha test/rollout/gate-text.test.ts` rewrites them;
 * review the diff. The short text's shape is checked on its own: about 25 lines, at most 100 characters,
 * a unit on every decimal number.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { ExposureCheck, GateResult, LatencyCount, PathMetrics, exposureCheck } from "../../core/gate";
import { evaluateGate, exposureMessage, wordExposure, wordGate } from "../../core/gateText";
import { decideGate } from "../../core/gate";
import { formatGate } from "../../core/gateText";
import { formatStatus } from "../../cli/rolloutText";
import type { Assessment } from "../../db/assessment";
import type { LiveViews } from "../../db/rolloutStore";
import { loadStack } from "../../stack/stackFile";

const GOLDEN = path.join(__dirname, "golden");
const PROD = loadStack(path.join(__dirname, "..", ".."), "prod").cfg;
const ON = { enableStatelessOrchestration: true, enableSafeJsonParser: true };
const START = new Date("2026-12-01T06:00:00Z");
const AS_OF = new Date("2026-12-01T12:00:00Z");

function latency(n: number, slowShare: number): LatencyCount[] {
  return [1, 2, 3, 5].map((t) => ({ thresholdSeconds: t, timed: n, over: t >= 3 ? Math.round(n * slowShare) : Math.round(n * 0.3) }));
}
function path_(requests: number, errors: number, users: number, p95: number, slowShare: number): PathMetrics {
  return { requests, errors, users, avgSeconds: p95 / 2.4, p95Seconds: p95, latency: latency(requests, slowShare) };
}

/** Stage 25 %, soaked 6 h of the guide's 48 h, the new path healthy: WAIT. And the same with a 4.3 % new-path error rate: PAUSE. */
const CASES: Record<string, GateResult> = {
  wait: evaluateGate({
    stage: 25,
    flags: ON,
    stageStartedAt: START,
    asOf: AS_OF,
    metrics: { windowStart: START, windowEnd: AS_OF, new: path_(2812, 12, 640, 1.9, 0.014), legacy: path_(8436, 160, 1900, 2.1, 0.024), contaminationCount: 0 },
    thresholds: PROD.thresholds,
    gate: PROD.gate,
    looks: 3,
  }),
  pause: evaluateGate({
    stage: 25,
    flags: ON,
    stageStartedAt: START,
    asOf: AS_OF,
    metrics: { windowStart: START, windowEnd: AS_OF, new: path_(2812, 121, 640, 1.9, 0.014), legacy: path_(8436, 160, 1900, 2.1, 0.024), contaminationCount: 0 },
    thresholds: PROD.thresholds,
    gate: PROD.gate,
    looks: 3,
  }),
};

function assessment(g: GateResult): Assessment & { views: LiveViews } {
  const state = { canaryPercentage: 25 as const, ...ON };
  return {
    configured: state,
    deployed: state,
    deployedFromRecords: true,
    deployedSince: START,
    asOf: AS_OF,
    gate: g,
    exposure: g.exposure,
    notes: [],
    history: [
      { id: 2, stack: "prod", fromStage: 10, toStage: 25, flags: ON, actor: "dana", gitCommit: "0123456789abcdef0123", imageDigest: "sha256:00112233445566778899", reason: null, createdAt: START },
      { id: 1, stack: "prod", fromStage: 0, toStage: 10, flags: ON, actor: "dana", gitCommit: "fedcba98765432100000", imageDigest: null, reason: null, createdAt: new Date("2026-11-28T06:00:00Z") },
    ] as unknown as Assessment["history"],
    views: {
      errorRateByVersion: [{ version: "new", requests: 2812, errors: 12, error_rate_pct: 0.43 }],
      latencyByVersion: [{ version: "new", p95_seconds: 1.9 }],
      sessionIsolation: [{ contaminated_sessions: 0 }],
    },
  };
}

const TEXTS: Record<string, () => string> = {
  "gate-wait": () => formatGate(CASES.wait),
  "gate-wait-verbose": () => formatGate(CASES.wait, "own", true),
  "gate-pause": () => formatGate(CASES.pause),
  "gate-pause-verbose": () => formatGate(CASES.pause, "own", true),
  "status-wait": () => formatStatus(assessment(CASES.wait), "prod", false),
  "status-wait-verbose": () => formatStatus(assessment(CASES.wait), "prod", true),
};

describe("gate and status text (golden)", () => {
  it("the fixed data give the verdicts the goldens are about", () => {
    assert.equal(CASES.wait.verdict, "WAIT");
    assert.equal(CASES.pause.verdict, "PAUSE");
  });

  for (const [name, text] of Object.entries(TEXTS)) {
    it(`${name} is the text in golden/${name}.txt`, () => {
      const file = path.join(GOLDEN, `${name}.txt`);
      const got = text();
      if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(file, got);
      assert.equal(got, fs.readFileSync(file, "utf8"));
    });
  }

  for (const name of ["gate-wait", "gate-pause", "status-wait"]) {
    it(`${name}: about 25 lines of at most 100 characters, a unit on every decimal number`, () => {
      const lines = TEXTS[name]().trimEnd().split("\n");
      assert.ok(lines.length <= 27, `${lines.length} lines`);
      for (const l of lines) assert.ok([...l].length <= 100, `${[...l].length} characters: ${l}`);
      for (const l of lines) {
        // A decimal number is followed by its unit: %, pp, s or h (times of day have no decimal point).
        for (const m of l.matchAll(/\d+\.\d+(?![\d.])(?!\s?(?:%|pp\b|s\b|h\b))/g)) assert.fail(`"${m[0]}" has no unit in: ${l}`);
      }
      assert.doesNotMatch(TEXTS[name](), /always-valid bounds|α /);
    });
  }

  it("each criterion is one line saying met, not yet or breached, in the short text", () => {
    const lines = TEXTS["gate-pause"]().split("\n");
    for (const c of CASES.pause.criteria) {
      const hits = lines.filter((l) => l.includes(c.description.replace(/\s*\([^)]*\)\s*$/, "") + ":"));
      assert.ok(hits.length >= 1, c.description);
      assert.match(hits[0], /^ {2}(met|not yet|breached) /);
    }
    assert.ok(lines.some((l) => /^ {2}breached +pause +Error rate > 2%: lower bound \d+\.\d\d% \(est\. 4\.30%\)$/.test(l)), lines.join("\n"));
  });

  it("the α plan reads as a rounded number, never as 0.050000000000000044", () => {
    assert.match(TEXTS["gate-wait-verbose"](), /\(α 0\.05\)/);
  });
});

describe("the gate decides, core/gateText.ts words (issue 24: wording in one place)", () => {
  const inputs = [
    { name: "WAIT", metrics: path_(2812, 12, 640, 1.9, 0.014) },
    { name: "PAUSE", metrics: path_(2812, 121, 640, 1.9, 0.014) },
    { name: "no traffic", metrics: path_(0, 0, 0, 0, 0) },
    { name: "held", metrics: path_(2812, 14, 640, 1.9, 0.014), hold: { reason: "bug #7: exports fail", by: "Jane Doe", at: "2026-01-10T09:00:00Z" } },
  ];
  /** Every string-valued key at any depth of a value. */
  function stringKeys(v: unknown, at = "", out: string[] = []): string[] {
    if (Array.isArray(v)) v.forEach((x, i) => stringKeys(x, `${at}[${i}]`, out));
    else if (v && typeof v === "object" && !(v instanceof Date)) for (const [k, x] of Object.entries(v)) {
      if (typeof x === "string") out.push(`${at}.${k}`);
      else stringKeys(x, `${at}.${k}`, out);
    }
    return out;
  }
  for (const c of inputs) {
    it(`${c.name}: decideGate's result holds no sentence (only names, codes and commands); evaluateGate is wordGate of it`, () => {
      const input = {
        stage: 25 as const,
        flags: ON,
        stageStartedAt: START,
        asOf: AS_OF,
        metrics: { windowStart: START, windowEnd: AS_OF, new: c.metrics, legacy: path_(8436, 160, 1900, 2.1, 0.024), contaminationCount: 0 },
        thresholds: PROD.thresholds,
        gate: PROD.gate,
        looks: 3,
        ...("hold" in c ? { hold: c.hold } : {}),
      };
      const d = decideGate(input);
      for (const k of ["reasons", "applies", "advice"]) assert.ok(!(k in d), `decideGate returns no ${k}`);
      for (const cr of d.criteria) assert.ok(!("statement" in cr), `criterion ${cr.id} has no statement`);
      if (d.comparison) assert.ok(!("statement" in d.comparison), "the comparison has no statement");
      // The strings left are identifiers and the guide's criterion descriptions, the bound's quantity and method.
      // A hold's fields are the stack file's data (rollout hold), passed through, not the gate's sentences.
      const allowed = /^(\.verdict|\.metricVerdict|\.hold\.(reason|by|at)|\.phase|\.judgedPath|\.suggestedCommand|\.nothingToRollBack|\.looksNote|\.criteria\[\d+\]\.(id|kind|description|metric|op|status|bound\.(quantity|unit|method)|notJudged\.(why|path))|\.comparison\.(method|decision))$/;
      for (const k of stringKeys(d)) assert.match(k, allowed, `a string at ${k}`);
      assert.deepStrictEqual(wordGate(d), evaluateGate(input));
    });
  }

  /** The exposure sentence as core/gate.ts exposureCheck wrote it before the wording moved here (issue 24): the oracle. */
  function exposureBefore(expectedPct: number, newUsers: number, legacyUsers: number, tolerancePct: number, minUsers: number): ExposureCheck {
    const total = newUsers + legacyUsers;
    const observedPct = total > 0 ? (100 * newUsers) / total : null;
    const judged = total >= minUsers;
    const flagged = judged && observedPct !== null && Math.abs(observedPct - expectedPct) > tolerancePct;
    const message =
      observedPct === null
        ? "no users in the window"
        : `${observedPct.toFixed(1)}% of ${total} distinct users on the new path, configured ${expectedPct}%` +
          (flagged ? ` — off by more than ${tolerancePct} points: check the bucketing and the deployed flags` : judged ? "" : ` (fewer than ${minUsers} users: not judged)`);
    return { expectedPct, observedPct, tolerancePct, flagged, message };
  }

  it("the exposure check: decideGate gives its numbers, wordExposure the same JSON and sentence as before the move (random inputs)", () => {
    const metricsWith = (newUsers: number, legacyUsers: number) => ({
      windowStart: START,
      windowEnd: AS_OF,
      new: { ...path_(2812, 12, 640, 1.9, 0.014), users: newUsers },
      legacy: { ...path_(8436, 160, 1900, 2.1, 0.024), users: legacyUsers },
      contaminationCount: 0,
    });
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        fc.constantFrom(0, 10, 25, 50, 75, 100),
        fc.oneof(fc.constant(0), fc.nat(3000)),
        fc.oneof(fc.constant(0), fc.nat(3000)),
        fc.oneof(fc.constantFrom(0, 5, 10), fc.double({ min: 0, max: 100, noNaN: true })),
        fc.oneof(fc.constant(1), fc.nat(4000)),
        (expected, newUsers, legacyUsers, tolerance, minUsers) => {
          const facts = exposureCheck(expected, metricsWith(newUsers, legacyUsers), tolerance, minUsers);
          assert.ok(!("message" in facts), "exposureCheck returns numbers only");
          const want = exposureBefore(expected, newUsers, legacyUsers, tolerance, minUsers);
          const got = wordExposure(facts);
          // Byte-identical as JSON (keys in the same order), as `rollout gate --json` prints it.
          assert.equal(JSON.stringify(got), JSON.stringify(want));
          assert.equal(exposureMessage(facts), want.message);
          seen.add(want.observedPct === null ? "none" : want.flagged ? "flagged" : want.message.endsWith("not judged)") ? "not judged" : "fine");
        },
      ),
      { numRuns: 500, seed: 24 },
    );
    assert.deepEqual([...seen].sort(), ["fine", "flagged", "none", "not judged"]);
    // Through the gate: the decision holds the facts, the GateResult the sentence; a flagged share is a WAIT reason.
    const input = { stage: 10 as const, flags: ON, stageStartedAt: START, asOf: AS_OF, metrics: metricsWith(1200, 1200), thresholds: PROD.thresholds, gate: PROD.gate, looks: 3 };
    const d = decideGate(input);
    assert.deepEqual(d.exposure, { expectedPct: 10, observedPct: 50, tolerancePct: PROD.gate.exposureTolerancePct, flagged: true, users: 2400, minUsers: PROD.gate.minNewUsers });
    const g = evaluateGate(input);
    assert.deepEqual(g.exposure, exposureBefore(10, 1200, 1200, PROD.gate.exposureTolerancePct, PROD.gate.minNewUsers));
    assert.ok(g.reasons.includes(`exposure: ${g.exposure.message}; the gate waits until the observed share matches the configured one`), g.reasons.join("\n"));
  });
});
