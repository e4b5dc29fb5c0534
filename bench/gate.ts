/**
 * `npm run bench:gate`: seeded, in-memory simulation of whole rollouts, run
 * through today's z-test gate (bench/gateLegacy.ts) and the always-valid gate
 * (core/gate.ts) side by side, with continuous looks. Figures: docs/gate.md.
 *
 *   npm run bench:gate                       # 2,000 rollouts per scenario
 *   npm run bench:gate -- --rollouts 200     # quicker, while developing
 *   npm run bench:gate -- --json             # one JSON object on stdout
 *
 * Progress goes to stderr (a line per scenario done, and the share done at
 * most every PROGRESS_EVERY_MS), the figures to stdout.
 *
 * Model (each choice stated so a reviewer can check it):
 * - Users: a population of USERS users, each with a fixed bucket in [0, 100)
 *   (sticky: a user is on the new path when their bucket is below the stage's
 *   percentage). Requests come from users uniformly, so the new path's share
 *   of requests is the share of users with a bucket below the percentage.
 *   Distinct users seen are their expected number, U (1 − (1 − 1/U)^n).
 * - Traffic: i.i.d. requests per path: an error with the path's rate; a
 *   log-normal duration (the drill's profiles, drill/traffic.ts). Each look adds
 *   K requests: binomial counts for the split, the errors and the requests
 *   slower than each latency line (nested, so the counts are consistent).
 * - Soak: a stage's soak time is SOAK requests (the gate's soakHours at a
 *   constant rate); the gate is read every K = SOAK / LOOKS_PER_SOAK requests,
 *   from the stage's first request, so at least 20 looks fall inside the soak.
 * - A stage ends at the first PAUSE or ROLLBACK (the rollout stops), at the
 *   first PROCEED (the team advances at once), or, with neither, after
 *   MAX_SOAKS soak times (the rollout stalls: no decision).
 * - Today's gate reads the same counts; its p95 is "the share slower than a
 *   line is below 5 %", exactly what a sample p95 compared with the line says.
 * - Both gates see the same traffic: each (rollout, stage) has its own seed.
 */
import * as os from "node:os";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { parseConfig } from "../core/config";
import { GateInput, HOUR_MS, LatencyCount, PathMetrics, StageMetrics, Verdict, latencyThresholds } from "../core/gate";
import { evaluateGate } from "../core/gateText";
import { evaluateLegacyGate } from "./gateLegacy";
import { fixedHorizonRequests, normalCdf, normalQuantile } from "../core/sequential";
import { STAGES, Stage } from "../core/stages";
import { LEGACY_PROFILE, NEW_PROFILE, seededRandom } from "../drill/traffic";

const CFG = parseConfig({ appImage: "example/app:1" }, { stack: "bench" });
const GATE = CFG.gate;
const T = CFG.thresholds;
const LINES = latencyThresholds(T);
const USERS = 20_000;
const SOAK = 40_000;
const LOOKS_PER_SOAK = 20;
const MAX_SOAKS = 6;
const ON = { enableStatelessOrchestration: true, enableSafeJsonParser: true };
const OFF = { enableStatelessOrchestration: false, enableSafeJsonParser: false };
const T0 = Date.UTC(2026, 0, 1);

interface Profile {
  errorRate: number;
  medianSeconds: number;
  sigma: number;
}
interface Scenario {
  name: string;
  title: string;
  legacy: Profile;
  new: Profile;
  /** Requests per soak time (default SOAK); lower: a low-traffic stack, where the soak passes before the data decide. */
  soakRequests?: number;
}

const lat = (p: { medianSeconds: number; sigma: number }) => ({ medianSeconds: p.medianSeconds, sigma: p.sigma });
/** A log-normal with the given p95 and shape. */
const withP95 = (p95: number, sigma: number) => ({ medianSeconds: p95 / Math.exp(1.6448536 * sigma), sigma });

export const SCENARIOS: readonly Scenario[] = [
  { name: "equal", title: "new = legacy (1 % errors, same latency)", legacy: { errorRate: 0.01, ...lat(NEW_PROFILE) }, new: { errorRate: 0.01, ...lat(NEW_PROFILE) } },
  { name: "worse-1pp", title: "new worse by +1 pp (2 % vs 1 %)", legacy: { errorRate: 0.01, ...lat(NEW_PROFILE) }, new: { errorRate: 0.02, ...lat(NEW_PROFILE) } },
  {
    name: "worse-1pp-low-traffic",
    title: "new worse by +1 pp, low traffic (the soak passes after 4,000 requests)",
    legacy: { errorRate: 0.01, ...lat(NEW_PROFILE) },
    new: { errorRate: 0.02, ...lat(NEW_PROFILE) },
    soakRequests: 4_000,
  },
  { name: "worse-0.3pp", title: "new worse by +0.3 pp (1.3 % vs 1 %, inside the 0.5 pp margin)", legacy: { errorRate: 0.01, ...lat(NEW_PROFILE) }, new: { errorRate: 0.013, ...lat(NEW_PROFILE) } },
  { name: "better", title: "new better (0.5 % vs 1.2 %, the drill's profiles)", legacy: { errorRate: LEGACY_PROFILE.errorRate, ...lat(LEGACY_PROFILE) }, new: { errorRate: NEW_PROFILE.errorRate, ...lat(NEW_PROFILE) } },
  { name: "p95-regression", title: "p95 regression (new p95 3.5 s vs legacy 2.5 s)", legacy: { errorRate: LEGACY_PROFILE.errorRate, ...withP95(2.5, 0.5) }, new: { errorRate: NEW_PROFILE.errorRate, ...withP95(3.5, 0.5) } },
];

// ---------------------------------------------------------------------------
// Sampling

/** Binomial(n, p): inversion when the mean is small, else the normal approximation (continuity-corrected, clamped). */
function binomial(rng: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const flip = p > 0.5;
  const q = flip ? 1 - p : p;
  const mean = n * q;
  let x: number;
  if (mean < 40) {
    // Inversion by the pmf recursion P(k+1) = P(k) (n − k) q / ((k + 1)(1 − q)).
    const u = rng();
    let pk = Math.exp(n * Math.log1p(-q));
    let cdf = pk;
    x = 0;
    while (u > cdf && x < n) {
      pk *= ((n - x) * q) / ((x + 1) * (1 - q));
      x++;
      cdf += pk;
      if (pk < 1e-300 && cdf > 1 - 1e-12) break;
    }
  } else {
    const u1 = Math.max(rng(), Number.EPSILON);
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng());
    x = Math.min(n, Math.max(0, Math.round(mean + z * Math.sqrt(mean * (1 - q)))));
  }
  return flip ? n - x : x;
}

/** P(duration > t) for a log-normal with this median and shape. */
const tail = (p: Profile, t: number) => 1 - normalCdf(Math.log(t / p.medianSeconds) / p.sigma);

interface PathCounts {
  requests: number;
  errors: number;
  /** Requests slower than each line of LINES (ascending), nested. */
  over: number[];
}
const emptyCounts = (): PathCounts => ({ requests: 0, errors: 0, over: LINES.map(() => 0) });

function addRequests(rng: () => number, c: PathCounts, n: number, p: Profile): void {
  c.requests += n;
  c.errors += binomial(rng, n, p.errorRate);
  // Nested: slower than line i+1 is a subset of slower than line i.
  let prevCount = n;
  let prevTail = 1;
  for (let i = 0; i < LINES.length; i++) {
    const t = tail(p, LINES[i]);
    const k = binomial(rng, prevCount, prevTail > 0 ? t / prevTail : 0);
    c.over[i] += k;
    prevCount = k;
    prevTail = t;
  }
}

const distinct = (users: number, requests: number) => (users === 0 ? 0 : Math.round(users * (1 - Math.pow(1 - 1 / users, requests))));

function pathMetrics(c: PathCounts, users: number): PathMetrics {
  const latency: LatencyCount[] = LINES.map((t, i) => ({ thresholdSeconds: t, timed: c.requests, over: c.over[i] }));
  // Today's gate reads a p95; give it the one the counts imply at each line.
  let p95: number | null = null;
  if (c.requests > 0) {
    const i = LINES.findIndex((_, j) => c.over[j] / c.requests < 0.05);
    p95 = i === 0 ? LINES[0] - 0.01 : i > 0 ? (LINES[i - 1] + LINES[i]) / 2 : LINES[LINES.length - 1] + 0.5;
  }
  return { requests: c.requests, errors: c.errors, users: distinct(users, c.requests), avgSeconds: null, p95Seconds: p95, latency };
}

// ---------------------------------------------------------------------------
// Rollouts

type GateKind = "z-test" | "always-valid";

interface StageOutcome {
  stage: Stage;
  verdict: Verdict | "STALLED";
  /** Requests (both paths) at the stage's end, and on the new path. */
  requests: number;
  newRequests: number;
  looks: number;
}

function runStage(gateKind: GateKind, sc: Scenario, stage: Stage, seed: number, buckets: Uint8Array): StageOutcome {
  const rng = seededRandom(seed);
  const flags = stage === 0 ? OFF : ON;
  let newUsers = 0;
  for (const b of buckets) if (b < stage && stage > 0) newUsers++;
  const share = newUsers / buckets.length;
  const nw = emptyCounts();
  const lg = emptyCounts();
  const startedAt = new Date(T0);
  const soak = sc.soakRequests ?? SOAK;
  const K = soak / LOOKS_PER_SOAK;
  for (let look = 1; ; look++) {
    const toNew = binomial(rng, K, share);
    addRequests(rng, nw, toNew, sc.new);
    addRequests(rng, lg, K - toNew, sc.legacy);
    const total = look * K;
    // Simulated clock: the soak time passes as SOAK requests arrive.
    const asOf = new Date(T0 + (total / soak) * GATE.soakHours * HOUR_MS);
    const metrics: StageMetrics = {
      windowStart: startedAt,
      windowEnd: asOf,
      new: pathMetrics(nw, newUsers),
      legacy: pathMetrics(lg, buckets.length - newUsers),
      contaminationCount: 0,
    };
    const input: GateInput = { stage, flags, stageStartedAt: startedAt, asOf, metrics, thresholds: T, gate: GATE, looks: look };
    const verdict = gateKind === "z-test" ? evaluateLegacyGate(input).verdict : evaluateGate(input).verdict;
    if (verdict !== "WAIT") return { stage, verdict, requests: total, newRequests: nw.requests, looks: look };
    if (total >= MAX_SOAKS * soak) return { stage, verdict: "STALLED", requests: total, newRequests: nw.requests, looks: look };
  }
}

interface RolloutOutcome {
  stages: StageOutcome[];
}

function runRollout(gateKind: GateKind, sc: Scenario, r: number, scenarioIndex: number): RolloutOutcome {
  const urng = seededRandom(1_000_003 * (r + 1) + scenarioIndex);
  const buckets = new Uint8Array(USERS);
  for (let i = 0; i < USERS; i++) buckets[i] = Math.floor(urng() * 100);
  const stages: StageOutcome[] = [];
  for (let s = 0; s < STAGES.length; s++) {
    const o = runStage(gateKind, sc, STAGES[s], 7919 * (r + 1) + 104_729 * s + scenarioIndex * 15_485_863, buckets);
    stages.push(o);
    if (o.verdict !== "PROCEED") break;
  }
  return { stages };
}

// ---------------------------------------------------------------------------
// Figures

const quantile = (xs: number[], q: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
};
const rate = (k: number, n: number) => (n === 0 ? 0 : k / n);

export interface ScenarioFigures {
  rollouts: number;
  /** Share of rollouts with a PAUSE or ROLLBACK at a stage below 100 (where nothing is worse than allowed, for "equal"). */
  pauseBefore100: number;
  /** Share of rollouts with a PAUSE or ROLLBACK at 100. */
  pauseAt100: number;
  /** Share of rollouts told PROCEED out of the first canary stage (10 %). */
  proceedFromFirstCanary: number;
  /** Share of rollouts told PROCEED out of every comparison stage (10–75 %). */
  proceedThroughComparisons: number;
  /** Share that reached 100 % and PROCEEDed there. */
  completed: number;
  /** Share that stalled (no decision within the horizon). */
  stalled: number;
  /** Requests (both paths) at the stage that paused, over the rollouts that paused: median, p90; and new-path requests. */
  requestsUntilPause: { median: number | null; p90: number | null; newMedian: number | null; newP90: number | null };
  /** Per stage: median requests (both paths) until PROCEED, over the rollouts that proceeded there. */
  medianRequestsToProceed: Record<string, number | null>;
  /** Share of rollouts whose verdict at each stage was …, for the stages reached. */
  verdictsByStage: Record<string, Record<string, number>>;
}

function figures(outcomes: RolloutOutcome[]): ScenarioFigures {
  const n = outcomes.length;
  const stopped = (o: RolloutOutcome) => o.stages[o.stages.length - 1];
  const paused = outcomes.filter((o) => ["PAUSE", "ROLLBACK"].includes(stopped(o).verdict));
  const proceededAt = (o: RolloutOutcome, s: Stage) => o.stages.some((x) => x.stage === s && x.verdict === "PROCEED");
  const medianRequestsToProceed: Record<string, number | null> = {};
  const verdictsByStage: Record<string, Record<string, number>> = {};
  for (const s of STAGES) {
    medianRequestsToProceed[String(s)] = quantile(outcomes.flatMap((o) => o.stages.filter((x) => x.stage === s && x.verdict === "PROCEED").map((x) => x.requests)), 0.5);
    const reached = outcomes.flatMap((o) => o.stages.filter((x) => x.stage === s));
    const counts: Record<string, number> = {};
    for (const x of reached) counts[x.verdict] = (counts[x.verdict] ?? 0) + 1;
    verdictsByStage[String(s)] = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, rate(v, n)]));
  }
  return {
    rollouts: n,
    pauseBefore100: rate(paused.filter((o) => stopped(o).stage < 100).length, n),
    pauseAt100: rate(paused.filter((o) => stopped(o).stage === 100).length, n),
    proceedFromFirstCanary: rate(outcomes.filter((o) => proceededAt(o, STAGES[1])).length, n),
    proceedThroughComparisons: rate(outcomes.filter((o) => proceededAt(o, 75)).length, n),
    completed: rate(outcomes.filter((o) => proceededAt(o, 100)).length, n),
    stalled: rate(outcomes.filter((o) => stopped(o).verdict === "STALLED").length, n),
    requestsUntilPause: {
      median: quantile(paused.map((o) => stopped(o).requests), 0.5),
      p90: quantile(paused.map((o) => stopped(o).requests), 0.9),
      newMedian: quantile(paused.map((o) => stopped(o).newRequests), 0.5),
      newP90: quantile(paused.map((o) => stopped(o).newRequests), 0.9),
    },
    medianRequestsToProceed,
    verdictsByStage,
  };
}

function parseArgs(argv: string[]): { rollouts: number; json: boolean; only?: string; workers: number } {
  let rollouts = 2000;
  let json = false;
  let only: string | undefined;
  let workers = Math.min(2, os.availableParallelism());
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") json = true;
    else if (a === "--rollouts") {
      const v = argv[++i];
      if (!/^\d{1,7}$/.test(v ?? "") || Number(v) < 1) throw new Error(`--rollouts ${v}: allowed: an integer from 1 to 9999999`);
      rollouts = Number(v);
    } else if (a === "--scenario") {
      only = argv[++i];
      if (!SCENARIOS.some((s) => s.name === only)) throw new Error(`--scenario ${only}: allowed: ${SCENARIOS.map((s) => s.name).join(", ")}`);
    } else if (a === "--workers") {
      const v = argv[++i];
      if (!/^\d{1,2}$/.test(v ?? "") || Number(v) < 1) throw new Error(`--workers ${v}: allowed: an integer from 1 to 99`);
      workers = Number(v);
    } else throw new Error(`unknown argument ${a}; allowed: --rollouts <n>, --scenario <name>, --workers <n>, --json`);
  }
  return { rollouts, json, only, workers };
}

interface Share {
  scenarios: number[];
  from: number;
  to: number;
}
interface ScenarioOutcomes {
  z: RolloutOutcome[];
  av: RolloutOutcome[];
  seconds: number;
}
type ShareOutcomes = { byScenario: Record<number, ScenarioOutcomes> };

/** Rollouts done in one scenario since the last report (a worker posts these to the main thread). */
interface ProgressMessage {
  kind: "progress";
  scenario: number;
  rollouts: number;
}
/** How often a worker reports its rollouts done: every REPORT_EVERY of them, and at the end of each scenario. */
const REPORT_EVERY = 25;

function simulateShare(w: Share, report: (m: ProgressMessage) => void = () => undefined): ShareOutcomes {
  const byScenario: Record<number, ScenarioOutcomes> = {};
  for (const si of w.scenarios) {
    const t0 = Date.now();
    const sc = SCENARIOS[si];
    const z: RolloutOutcome[] = [];
    const av: RolloutOutcome[] = [];
    let unreported = 0;
    for (let r = w.from; r < w.to; r++) {
      z.push(runRollout("z-test", sc, r, si));
      av.push(runRollout("always-valid", sc, r, si));
      if (++unreported === REPORT_EVERY || r === w.to - 1) {
        report({ kind: "progress", scenario: si, rollouts: unreported });
        unreported = 0;
      }
    }
    byScenario[si] = { z, av, seconds: (Date.now() - t0) / 1000 };
  }
  return { byScenario };
}

/**
 * Every chosen scenario's rollouts, split over `workers` threads by rollout
 * (rollout r always gets the same seeds, so the figures do not depend on the split).
 */
async function simulate(scenarios: number[], rollouts: number, workers: number, onProgress: (m: ProgressMessage) => void): Promise<ShareOutcomes> {
  if (workers <= 1) return simulateShare({ scenarios, from: 0, to: rollouts }, onProgress);
  const size = Math.ceil(rollouts / workers);
  const shares: Share[] = [];
  for (let from = 0; from < rollouts; from += size) shares.push({ scenarios, from, to: Math.min(rollouts, from + size) });
  const parts = await Promise.all(
    shares.map(
      (share) =>
        new Promise<ShareOutcomes>((resolve, reject) => {
          const w = new Worker(__filename, { workerData: share, execArgv: ["-r", "ts-node/register/transpile-only"] });
          w.on("message", (m: ShareOutcomes | ProgressMessage) => ("kind" in m ? onProgress(m) : resolve(m)));
          w.once("error", reject);
          w.once("exit", (code) => code !== 0 && reject(new Error(`bench worker exited with ${code}`)));
        }),
    ),
  );
  const byScenario: Record<number, ScenarioOutcomes> = {};
  for (const si of scenarios) {
    byScenario[si] = {
      z: parts.flatMap((p) => p.byScenario[si].z),
      av: parts.flatMap((p) => p.byScenario[si].av),
      seconds: Math.max(...parts.map((p) => p.byScenario[si].seconds)),
    };
  }
  return { byScenario };
}

/** At most one "share done" line per this many ms on stderr (a line per scenario done comes besides). */
export const PROGRESS_EVERY_MS = 10_000;

/**
 * The progress lines of a run: when it starts, each scenario as it completes
 * (all its rollouts, over every worker), the share done at most every
 * PROGRESS_EVERY_MS, and the end.
 */
export function progressReporter(scenarios: number[], rollouts: number, workers: number, write: (line: string) => void, now: () => number = Date.now) {
  const started = now();
  let last = started;
  const done = new Map<number, number>(scenarios.map((si) => [si, 0]));
  let finished = 0;
  const secs = () => `${((now() - started) / 1000).toFixed(0)} s`;
  write(`bench:gate: ${scenarios.length} scenario${scenarios.length === 1 ? "" : "s"} × ${rollouts.toLocaleString("en-US")} rollouts, each through both gates, on ${workers} worker thread${workers === 1 ? "" : "s"}\n`);
  return {
    update(m: ProgressMessage): void {
      const n = (done.get(m.scenario) ?? 0) + m.rollouts;
      done.set(m.scenario, n);
      if (n === rollouts) {
        finished++;
        write(`bench:gate: ${SCENARIOS[m.scenario].name} done (${finished}/${scenarios.length} scenarios, ${secs()})\n`);
        last = now();
      } else if (now() - last >= PROGRESS_EVERY_MS) {
        const all = [...done.values()].reduce((a, b) => a + b, 0);
        write(`bench:gate: ${((100 * all) / (rollouts * scenarios.length)).toFixed(0)} % of the rollouts simulated (${secs()})\n`);
        last = now();
      }
    },
    end(): void {
      write(`bench:gate: done in ${secs()}; the figures follow on stdout\n`);
    },
  };
}

export async function main(argv: string[], progress: (line: string) => void = (l) => process.stderr.write(l)): Promise<number> {
  const args = parseArgs(argv);
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  const share10 = (() => {
    const urng = seededRandom(1);
    let k = 0;
    for (let i = 0; i < USERS; i++) if (Math.floor(urng() * 100) < STAGES[1]) k++;
    return k / USERS;
  })();
  const margin = GATE.errorRateMarginPct / 100;
  const fixed = {
    /** One fixed-horizon one-sided test, α = 0.05, 80 % power, at 10 %: H0 new − legacy ≤ margin, truth +1 pp. */
    vsMargin: fixedHorizonRequests(0.02, 0.01, margin, share10, 0.05, 0.8),
    /** The same with no margin (today's hypothesis, H0 new ≤ legacy). */
    vsZero: fixedHorizonRequests(0.02, 0.01, 0, share10, 0.05, 0.8),
    /** One look at the α the new gate spends on the comparison's lower bound at 10 % (for scale). */
    vsMarginAtQuestionAlpha: 0,
    /**
     * The floor for any always-valid test at that α: Wald's SPRT for the exact truth, which no
     * mixture can beat there, needs about 2 ln(1/α) / (z_.95 + z_.8)² times the single α = 0.05 look.
     */
    sprtFloorAtComparisonAlpha: 0,
    /** The comparison's α at 10 %, read from the gate itself. */
    comparisonAlpha: 0,
  };
  const comparisonAlpha = evaluateGate({
    stage: STAGES[1], flags: ON, stageStartedAt: new Date(T0), asOf: new Date(T0), thresholds: T, gate: GATE,
    metrics: { windowStart: new Date(T0), windowEnd: new Date(T0), new: pathMetrics(emptyCounts(), 0), legacy: pathMetrics(emptyCounts(), 0), contaminationCount: 0 },
  }).alpha.comparison;
  if (comparisonAlpha === null) throw new Error("the gate has no comparison at 10 %");
  fixed.comparisonAlpha = comparisonAlpha;
  fixed.vsMarginAtQuestionAlpha = fixedHorizonRequests(0.02, 0.01, margin, share10, comparisonAlpha, 0.8);
  const zz = normalQuantile(0.95) + normalQuantile(0.8);
  fixed.sprtFloorAtComparisonAlpha = Math.round((fixed.vsMargin * 2 * Math.log(1 / comparisonAlpha)) / (zz * zz));

  const out: Record<string, { title: string; "z-test": ScenarioFigures; "always-valid": ScenarioFigures; seconds: number }> = {};
  const chosen = SCENARIOS.flatMap((sc, si) => (args.only && sc.name !== args.only ? [] : [si]));
  const reporter = progressReporter(chosen, args.rollouts, args.workers, progress);
  const sim = await simulate(chosen, args.rollouts, args.workers, (m) => reporter.update(m));
  reporter.end();
  for (const si of chosen) {
    const sc = SCENARIOS[si];
    const o = sim.byScenario[si];
    out[sc.name] = { title: sc.title, "z-test": figures(o.z), "always-valid": figures(o.av), seconds: o.seconds };
  }
  const w1 = out["worse-1pp"]?.["always-valid"].requestsUntilPause.median ?? null;
  const result = {
    model: { users: USERS, soakRequests: SOAK, looksPerSoak: LOOKS_PER_SOAK, requestsPerLook: SOAK / LOOKS_PER_SOAK, horizonSoaks: MAX_SOAKS, firstCanaryRequestShare: share10 },
    gate: { confidence: GATE.confidence, errorRateMarginPct: GATE.errorRateMarginPct, minNewRequests: GATE.minNewRequests, minLegacyRequests: GATE.minLegacyRequests },
    fixedHorizon: fixed,
    goals: {
      falsePauseAtMost: 0.05,
      falseProceedAtMost: 0.05,
      detectionMedianAtMostTimesFixedHorizon: 1.3,
      detectionRatioVsMargin: w1 === null ? null : w1 / fixed.vsMargin,
      detectionRatioVsZero: w1 === null ? null : w1 / fixed.vsZero,
    },
    scenarios: out,
    seconds: (Date.now() - started) / 1000,
    /** CPU time of the whole process, worker threads included (user + system): what the run costs on a machine others share. */
    cpuSeconds: (() => {
      const u = process.cpuUsage(cpu0);
      return (u.user + u.system) / 1e6;
    })(),
    workers: args.workers,
  };
  if (args.json) process.stdout.write(JSON.stringify(result) + "\n");
  else process.stdout.write(table(result) + "\n");
  return 0;
}

/** Where the stalls happened, e.g. "at 100 %". */
const stalledAt = (x: ScenarioFigures) =>
  Object.entries(x.verdictsByStage)
    .filter(([, v]) => (v.STALLED ?? 0) > 0)
    .map(([s, v]) => `${(100 * (v.STALLED ?? 0)).toFixed(0)}% at ${s} %`)
    .join(", ");
const f = (v: number | null) => (v === null ? "-" : `${(100 * v).toFixed(1)}%`);
const k = (v: number | null) => (v === null ? "-" : v.toLocaleString("en-US"));

export function table(r: { scenarios: Record<string, { title: string; "z-test": ScenarioFigures; "always-valid": ScenarioFigures }>; fixedHorizon: Record<string, number>; goals: Record<string, number | null>; seconds: number; cpuSeconds: number; workers: number }): string {
  const lines = ["| scenario | figure | z-test (today) | always-valid |", "|---|---|---:|---:|"];
  const row = (sc: string, what: string, get: (x: ScenarioFigures) => string) => {
    const s = r.scenarios[sc];
    if (s) lines.push(`| ${s.title} | ${what} | ${get(s["z-test"])} | ${get(s["always-valid"])} |`);
  };
  row("equal", "PAUSE/ROLLBACK at 0–75 % (false)", (x) => f(x.pauseBefore100));
  row("equal", "PAUSE/ROLLBACK at 100 % (1 % is not < 1 %)", (x) => f(x.pauseAt100));
  row("equal", "stalled (no decision within the horizon)", (x) => `${f(x.stalled)}${x.stalled > 0 ? ` (${stalledAt(x)})` : ""}`);
  row("worse-1pp", "PROCEED out of 10 % (false)", (x) => f(x.proceedFromFirstCanary));
  row("worse-1pp", "requests until PAUSE, median / p90", (x) => `${k(x.requestsUntilPause.median)} / ${k(x.requestsUntilPause.p90)}`);
  row("worse-1pp", "new-path requests until PAUSE, median / p90", (x) => `${k(x.requestsUntilPause.newMedian)} / ${k(x.requestsUntilPause.newP90)}`);
  row("worse-1pp-low-traffic", "PROCEED out of 10 % (false)", (x) => f(x.proceedFromFirstCanary));
  row("worse-1pp-low-traffic", "PAUSE/ROLLBACK", (x) => f(x.pauseBefore100 + x.pauseAt100));
  row("worse-1pp-low-traffic", "stalled (no decision within 6 soak times)", (x) => f(x.stalled));
  row("worse-0.3pp", "PROCEED out of 10 %", (x) => f(x.proceedFromFirstCanary));
  row("worse-0.3pp", "PROCEED through 75 %", (x) => f(x.proceedThroughComparisons));
  row("worse-0.3pp", "PAUSE/ROLLBACK", (x) => f(x.pauseBefore100 + x.pauseAt100));
  for (const s of STAGES) row("better", `median requests until PROCEED at ${s} %`, (x) => k(x.medianRequestsToProceed[String(s)]));
  row("better", "completed (PROCEED at 100 %)", (x) => f(x.completed));
  row("p95-regression", "PAUSE/ROLLBACK", (x) => f(x.pauseBefore100 + x.pauseAt100));
  row("p95-regression", "requests until PAUSE, median / p90", (x) => `${k(x.requestsUntilPause.median)} / ${k(x.requestsUntilPause.p90)}`);
  lines.push(
    "",
    `fixed-horizon one-sided test at 10 % (α 0.05, power 80 %, +1 pp): ${k(r.fixedHorizon.vsMargin)} requests against the margin, ${k(r.fixedHorizon.vsZero)} against 0; ` +
      `one look at the α the gate spends on the comparison's lower bound at 10 % (${r.fixedHorizon.comparisonAlpha.toPrecision(3)}): ${k(r.fixedHorizon.vsMarginAtQuestionAlpha)}; ` +
      `the SPRT floor at that α (no always-valid test does better on average): ~${k(r.fixedHorizon.sprtFloorAtComparisonAlpha)} (${(r.fixedHorizon.sprtFloorAtComparisonAlpha / r.fixedHorizon.vsMargin).toFixed(2)}×)`,
    `always-valid median requests until PAUSE (+1 pp) / fixed horizon: ${r.goals.detectionRatioVsMargin?.toFixed(2) ?? "-"}× (margin), ${r.goals.detectionRatioVsZero?.toFixed(2) ?? "-"}× (no margin)`,
    `total ${r.seconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s CPU (the whole process, ${r.workers} worker threads)`,
  );
  return lines.join("\n");
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.postMessage(simulateShare(workerData as Share, (m) => port.postMessage(m)));
} else if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`bench:gate: ${(err as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
