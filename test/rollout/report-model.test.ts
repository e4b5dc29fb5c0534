/** The report's key metrics (core/report/model.ts, pure): the guide's lines come from one wording, guideLines. */
import { strict as assert } from "node:assert";
import { HOUR_MS, PathMetrics, StageMetrics } from "../../core/gate";
import { evaluateGate } from "../../core/gateText";
import { parseConfig } from "../../core/config";
import { KeyMetricId, MAX_POINTS_PER_STAGE, RolloutReport, StageJudgement, StageSegment, contaminationCriterion, contaminationLines, emptyConcurrency, guideLines, keyMetrics, pointTimes, stageOverTime } from "../../core/report/model";
import { renderReportHtml } from "../../core/report/html";
import { spreadLabels } from "../../core/report/svg";
import { GUIDE_THRESHOLDS, Stage } from "../../core/stages";

const cfg = parseConfig({ appImage: "example/app:1" }, { stack: "test" });
const ON = { enableStatelessOrchestration: true, enableSafeJsonParser: true };
const T0 = new Date("2026-12-01T05:00:00Z");
const at = (h: number) => new Date(T0.getTime() + h * HOUR_MS);
const pathM = (requests: number, errors: number, users = Math.ceil(requests / 10)): PathMetrics => ({
  requests,
  errors,
  users,
  avgSeconds: requests > 0 ? 1 : null,
  p95Seconds: requests > 0 ? 1.5 : null,
  latency: [2, 3, 5].map((thresholdSeconds) => ({ thresholdSeconds, timed: requests, over: 0, atLeast: 0 })),
});
const metricsUpTo = (h: number, contamination = 0): StageMetrics => ({
  windowStart: T0,
  windowEnd: at(h),
  new: pathM(Math.round(h * 500), Math.round(h * 2)),
  legacy: pathM(Math.round(h * 1500), Math.round(h * 15)),
  contaminationCount: contamination,
});
/** What `rollout report`'s judge returns: the gate on the stage's window up to `h` hours. */
const judge = (stage: Stage, h: number, contamination = 0): StageJudgement => {
  const g = evaluateGate({ stage, flags: ON, stageStartedAt: T0, asOf: at(h), metrics: metricsUpTo(h, contamination), thresholds: cfg.thresholds, gate: cfg.gate });
  return { verdict: g.verdict, evidence: "", gate: g };
};
/** A stage of `hours` hours with hourly points, the gate judged at each one; its contaminated sessions, if any, in its last interval. */
function judgedStage(stage: Stage, hours: number, contamination = 0): StageSegment {
  const ends = pointTimes(T0, at(hours));
  return {
    stage,
    flags: ON,
    start: T0,
    end: at(hours),
    current: true,
    windowStart: T0,
    windowEnd: at(hours),
    actor: "test",
    gitCommit: null,
    reason: null,
    metrics: metricsUpTo(hours, contamination),
    concurrency: { new: emptyConcurrency(), legacy: emptyConcurrency(), all: emptyConcurrency() },
    judgement: judge(stage, hours, contamination),
    points: ends.map((e, k) => {
      const h = (e.getTime() - T0.getTime()) / HOUR_MS;
      const prev = k === 0 ? 0 : (ends[k - 1].getTime() - T0.getTime()) / HOUR_MS;
      const own = h === hours ? contamination : 0;
      return { from: at(prev), at: e, interval: { ...metricsUpTo(h - prev, own), windowStart: at(prev), windowEnd: e }, judgement: judge(stage, h, own) };
    }),
  };
}

describe("rollout report model (pure)", () => {
  it("words a target, warning and critical level as the guide does", () => {
    assert.deepEqual(guideLines("%", 1, 2, 5), [
      { kind: "target", value: 1, label: "< 1%" },
      { kind: "warning", value: 2, label: "> 2%" },
      { kind: "critical", value: 5, label: "> 5%" },
    ]);
  });

  it("the error-rate and the P95 panels draw the lines guideLines gives for the stack's thresholds", () => {
    const t = { ...GUIDE_THRESHOLDS, targetErrorRatePct: 0.5, p95WarningSeconds: 2.5 };
    const panels = new Map(keyMetrics([], t).map((k) => [k.id, k]));
    assert.deepEqual(panels.get("errorRate")?.lines, guideLines("%", 0.5, t.errorRateWarningPct, t.errorRateCriticalPct));
    assert.deepEqual(panels.get("p95")?.lines, guideLines("s", t.targetP95Seconds, 2.5, t.p95CriticalSeconds));
    assert.equal(panels.get("p95")?.lines[1].label, "> 2.5s");
  });

  it("the error-rate and the P95 panels have one series per path, from each segment's metrics; a path with no requests has no value", () => {
    const path = (requests: number, errors: number, p95Seconds: number | null): PathMetrics => ({ requests, errors, users: requests, avgSeconds: p95Seconds, p95Seconds });
    const at = new Date("2026-01-10T12:00:00Z");
    const segment = (stage: StageSegment["stage"], n: PathMetrics, l: PathMetrics): StageSegment => ({
      stage,
      flags: { enableStatelessOrchestration: true, enableSafeJsonParser: true },
      start: at,
      end: at,
      current: false,
      windowStart: at,
      windowEnd: at,
      actor: null,
      gitCommit: null,
      reason: null,
      metrics: { windowStart: at, windowEnd: at, new: n, legacy: l, contaminationCount: 0 },
      concurrency: { new: emptyConcurrency(), legacy: emptyConcurrency(), all: emptyConcurrency() },
      judgement: { verdict: "PROCEED", evidence: "" },
      points: [],
    });
    const panels = new Map(keyMetrics([segment(10, path(200, 3, 1.5), path(1800, 18, 1.2)), segment(25, path(0, 0, null), path(1000, 40, 2.5))], GUIDE_THRESHOLDS).map((k) => [k.id, k]));
    const series = (id: KeyMetricId) => panels.get(id)?.series.map((x) => [x.key, x.values]);
    assert.deepEqual(series("errorRate"), [["new", [1.5, null]], ["legacy", [1, 4]]]);
    assert.deepEqual(series("p95"), [["new", [1.5, null]], ["legacy", [1.2, 2.5]]]);
  });
});

describe("rollout report over time and breaches (pure)", () => {
  it("pointTimes: hourly from the start, the last point at the end; a long stage gets at most MAX_POINTS_PER_STAGE, whole hours apart", () => {
    assert.deepEqual(pointTimes(T0, at(3.5)), [at(1), at(2), at(3), at(3.5)]);
    const long = pointTimes(T0, at(24 * 7));
    assert.ok(long.length <= MAX_POINTS_PER_STAGE, `${long.length} points`);
    assert.equal(long[long.length - 1].getTime(), at(24 * 7).getTime());
    assert.equal(long[0].getTime() - T0.getTime(), 7 * HOUR_MS, "a week in 24 points: every 7 h");
    assert.deepEqual(pointTimes(T0, T0), []);
  });

  it("a breach is flagged on its panel's series with the gate's criterion, and nowhere else", () => {
    const ok = judgedStage(10, 48);
    const bad = judgedStage(25, 48, 1);
    assert.equal(bad.judgement.verdict, "ROLLBACK");
    const panels = new Map(keyMetrics([ok, bad], GUIDE_THRESHOLDS).map((k) => [k.id, k]));
    const iso = panels.get("sessionIsolation")?.series[0];
    assert.deepEqual(iso?.values, [0, 1]);
    assert.equal(iso?.breaches?.[0], null);
    assert.match(String(iso?.breaches?.[1]), /^Cross-user session contamination > 0 \(critical: immediate rollback\); Any cross-contamination detected; Zero cross-contamination$/);
    for (const id of ["errorRate", "p95"] as const) for (const s of panels.get(id)?.series ?? []) assert.deepEqual(s.breaches, [null, null], `${id} ${s.key}`);
  });

  it("a stage over time: one point per interval (every 2 h for 48 h, at most MAX_POINTS_PER_STAGE) with its own requests per version, the verdict at each hour, and the deciding criterion's bounds narrowing towards the end", () => {
    const s = judgedStage(10, 48);
    const t = stageOverTime(s, GUIDE_THRESHOLDS);
    assert.deepEqual(t.hours, Array.from({ length: 24 }, (_, k) => 2 * (k + 1)), "48 h in 24 points: every 2 h");
    assert.deepEqual(t.requests.map((x) => [x.key, x.values[0]]), [["new", 1000], ["legacy", 3000]]);
    assert.equal(t.verdicts.length, 24);
    assert.equal(t.verdicts[0], "WAIT", "two hours in, the gate waits (soak)");
    assert.equal(t.verdicts[23], s.judgement.verdict, "the last point is the stage's own judgement");
    const b = t.bound;
    assert.ok(b, "a criterion with bounds");
    assert.equal(b.lower.length, 24);
    const widths = b.lower.map((lo, k) => (lo === null || b.upper[k] === null ? null : (b.upper[k] as number) - lo)).filter((w): w is number => w !== null);
    assert.ok(widths.length >= 2);
    assert.ok(widths[widths.length - 1] < widths[0], `the interval narrows: ${widths[0]} → ${widths[widths.length - 1]}`);
    for (let k = 0; k < 24; k++) if (b.lower[k] !== null) assert.ok((b.lower[k] as number) <= (b.upper[k] as number));
  });

  it("contamination over time: the sessions found contaminated in each interval (the gate's count up to the point, less the previous point's), a breach where the stage's count is above contaminationMax", () => {
    // The gate's count on the stage up to each of its 24 points: 2 sessions found by 12 h (point 5), a third at the end.
    const upTo = Array.from({ length: 24 }, (_, k) => (k === 23 ? 3 : k >= 5 ? 2 : 0));
    const base = judgedStage(25, 48, 3);
    const s: StageSegment = { ...base, points: base.points.map((p, k) => ({ ...p, judgement: judge(25, 2 * (k + 1), upTo[k]) })) };
    const [c] = stageOverTime(s, GUIDE_THRESHOLDS).contamination;
    assert.equal(c.key, "all");
    assert.deepEqual(c.values, Array.from({ length: 24 }, (_, k) => (k === 5 ? 2 : k === 23 ? 1 : 0)));
    assert.equal((c.values as number[]).reduce((a, b) => a + b, 0), s.metrics.contaminationCount, "the series sums to the stage's count");
    const named = "Cross-user session contamination > 0 (critical: immediate rollback)";
    assert.deepEqual(c.breaches, Array.from({ length: 24 }, (_, k) => (k === 5 || k === 23 ? named : null)));
    // The line is the stack's: with contaminationMax 2, the stage breaches only when the third session is found.
    const loose = stageOverTime(s, { contaminationMax: 2 }).contamination[0];
    assert.deepEqual(loose.breaches?.map((b, k) => (b === null ? null : k)).filter((k) => k !== null), [23]);
    // Without a rollout record the gate's window slides: each interval's own count, a breach above the line.
    const bare = { ...s, start: null, points: s.points.map((p, k) => ({ ...p, interval: { ...p.interval, contaminationCount: k === 7 ? 1 : 0 } })) };
    const own = stageOverTime(bare, GUIDE_THRESHOLDS).contamination[0];
    assert.deepEqual(own.values, Array.from({ length: 24 }, (_, k) => (k === 7 ? 1 : 0)));
    assert.deepEqual(own.breaches?.map((b, k) => (b === null ? null : k)).filter((k) => k !== null), [7]);
    // Without the gate's result (an older reading), the breach names the line.
    assert.equal(contaminationCriterion({ verdict: "ROLLBACK", evidence: "" }, 0), "Cross-user session contamination > 0");
    assert.deepEqual(contaminationLines(0), keyMetrics([], GUIDE_THRESHOLDS).find((k) => k.id === "sessionIsolation")?.lines, "the panel's lines and the chart's are one wording");
  });

  it("spreadLabels: labels at the same height are pushed apart, and stay within their bounds", () => {
    const ys = spreadLabels([100, 100, 100], 13, 20, 110);
    const sorted = [...ys].sort((a, b) => a - b);
    for (let k = 1; k < sorted.length; k++) assert.ok(sorted[k] - sorted[k - 1] >= 13, JSON.stringify(ys));
    assert.ok(sorted[0] >= 20 && sorted[2] <= 110, JSON.stringify(ys));
  });

  it("the HTML: the breach in the critical colour's class naming the criterion, short times, the date from the records, the evidence as a table", () => {
    const r: RolloutReport = {
      stack: "prod",
      asOf: at(96),
      lastRecordAt: at(48),
      thresholds: GUIDE_THRESHOLDS,
      soakHours: 48,
      notes: [],
      segments: [judgedStage(10, 48), { ...judgedStage(25, 48, 1), start: at(48) }],
    };
    const html = renderReportHtml(r);
    assert.match(html, /<g class="breach" data-series="all sessions" data-category="#2 25%" data-criterion="Cross-user session contamination &gt; 0/);
    assert.match(html, /<td class="breached"><span title="Cross-user session contamination &gt; 0 \(critical: immediate rollback\)">Cross-user session contamination &gt; 0<\/span>/, "the stages table names the breached criterion");
    assert.match(html, /Data as of <strong class="as-of">2026-12-05 05:00 UTC<\/strong>/);
    assert.match(html, /the latest rollout record: 2026-12-03 05:00 UTC/);
    assert.doesNotMatch(html, /Generated/);
    assert.doesNotMatch(html.replace(/<details[\s\S]*?<\/details>/g, ""), /\d\d:\d\d:\d\d(\.\d+)?Z/, "no full ISO time outside the gate's full text");
    assert.equal(html.match(/<table class="evidence-table"/g)?.length, 2);
    assert.match(html, /<tr class="criterion status-breached" data-criterion="contamination"><td class="breached">breached<\/td><td>rollback<\/td><td>Cross-user session contamination &gt; 0 \(critical: immediate rollback\)<\/td><td>1 contaminated session\(s\)<\/td><\/tr>/);
    // One set of charts over time (error rate, P95, traffic, contamination, the gate's bounds) per stage.
    assert.equal(html.match(/<section class="panel stage-chart">/g)?.length, 10);
    // The contaminated interval (stage #2's last) is a breach on its stage's contamination chart, named after the criterion.
    assert.match(html, /<g class="breach" data-series="sessions found contaminated" data-category="[^"#]+ h" data-criterion="Cross-user session contamination &gt; 0 \(critical: immediate rollback\)">/);
    assert.equal(html.match(/<h4>Cross-contamination per 2 h<\/h4>/g)?.length, 2);
    assert.match(html, /<polygon class="band"/);
    assert.match(html, /<rect class="mark mark-WAIT"/);
  });
});
