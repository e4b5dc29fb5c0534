/**
 * `npm run bench:report`: what the rollout report's reads cost on the drill's data (six 48-hour stages,
 * about 150,000 requests, the drill's fixed seed on an embedded PostgreSQL). Once the drill has written its
 * records and traffic, before its database is dropped, it times, median of RUNS each:
 *
 * - the whole report's data, `readRolloutReport` as `rollout report` and `drill --report` read it;
 * - the display intervals of every stage (the report's points: at most MAX_POINTS_PER_STAGE per stage), read
 *   as one statement per stage (`readIntervalMetrics`, sql/0033) and, for comparison, one statement per
 *   interval (`readStageMetrics` on each, as the report read them before sql/0033);
 * - the gate's reads at the points (`readGateMetrics` on the window up to each point), which stay one per point.
 *
 * Wall times, client round trips included; the machine's load average is printed beside them.
 *
 *   npm run bench:report                 # RUNS = 3
 *   BENCH_REPORT_RUNS=5 npm run bench:report
 */
import * as os from "node:os";
import type { ClientBase } from "pg";
import { MAX_POINTS_PER_STAGE, pointTimes } from "../core/report/model";
import { rolloutState } from "../core/stages";
import { judgeStage } from "../db/assessment";
import { readRolloutReport } from "../db/reportData";
import { readGateMetrics, readHistory, readIntervalMetrics, readStageMetrics } from "../db/rolloutStore";
import { runDrill } from "../drill/drill";
import { PROJECT_DIR } from "../program/projectDir";
import { loadStack } from "../stack/stackFile";
import { formatGateVerbose } from "../core/gateText";

const RUNS = Number(process.env.BENCH_REPORT_RUNS ?? "3");
/** The drill as `npx rollout drill` runs it: the prod stack's thresholds and gate settings. */
const { sc, cfg } = loadStack(PROJECT_DIR, "prod");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

interface Figures {
  stages: number;
  intervals: number;
  report: number;
  grouped: number;
  perInterval: number;
  gateReads: number;
  gateAtPoints: number;
}

async function measure(c: ClientBase, stack: string, asOf: Date): Promise<Figures> {
  const history = await readHistory(c, stack, asOf, 50);
  const starts = [...history.events].reverse().map((e) => e.createdAt);
  const stages = starts.map((start, i) => {
    const end = starts[i + 1] ?? asOf;
    const times = pointTimes(start, end, MAX_POINTS_PER_STAGE);
    return { start, bounds: times.length === 0 ? [] : [start, ...times] };
  });
  const settings = { thresholds: cfg.thresholds, soakHours: cfg.gate.soakHours };
  const runs: Record<"report" | "grouped" | "perInterval" | "gateReads", number[]> = { report: [], grouped: [], perInterval: [], gateReads: [] };
  for (let r = 0; r < RUNS; r++) {
    process.stderr.write(`bench:report: run ${r + 1} of ${RUNS}\n`);
    runs.report.push(
      await timed(() =>
        readRolloutReport(c, {
          stack,
          asOf,
          thresholds: cfg.thresholds,
          soakHours: cfg.gate.soakHours,
          configured: { stage: cfg.canaryPercentage, flags: rolloutState(cfg) },
          judge: (s) => {
            const g = judgeStage(cfg, s);
            return { verdict: g.verdict, evidence: formatGateVerbose(g), gate: g };
          },
        }),
      ),
    );
    runs.grouped.push(await timed(async () => {
      for (const s of stages) await readIntervalMetrics(c, s.bounds);
    }));
    runs.perInterval.push(await timed(async () => {
      for (const s of stages) for (let k = 0; k + 1 < s.bounds.length; k++) await readStageMetrics(c, s.bounds[k], s.bounds[k + 1]);
    }));
    runs.gateReads.push(await timed(async () => {
      for (const s of stages) for (const at of s.bounds.slice(1, -1)) await readGateMetrics(c, s.start, at, settings);
    }));
  }
  const intervals = stages.reduce((n, s) => n + Math.max(0, s.bounds.length - 1), 0);
  return {
    stages: stages.length,
    intervals,
    report: median(runs.report),
    grouped: median(runs.grouped),
    perInterval: median(runs.perInterval),
    gateReads: median(runs.gateReads),
    gateAtPoints: intervals - stages.length,
  };
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg()[0];
  let figures: Figures | undefined;
  const r = await runDrill({
    thresholds: cfg.thresholds,
    gate: cfg.gate,
    stack: "prod",
    stackFile: { file: sc.file, text: sc.text },
    progress: (l) => process.stderr.write(`drill: ${l}\n`),
    onFinished: async (c, asOf) => {
      figures = await measure(c, "prod", asOf);
    },
  });
  if (!r.ok || figures === undefined) throw new Error("the drill failed; no figures");
  const f = figures;
  const s = (x: number) => `${x.toFixed(2)} s`;
  process.stdout.write(
    [
      `# Report reads on the drill's data`,
      ``,
      `${f.stages} stages, ${f.intervals} display intervals; median of ${RUNS}; load average (1 min) ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after.`,
      ``,
      `| read | statements | time |`,
      `|---|---:|---:|`,
      `| the whole report's data (readRolloutReport) | ${f.stages * 3 + f.gateAtPoints + 1} | ${s(f.report)} |`,
      `| display intervals, one statement per stage (readIntervalMetrics, sql/0033) | ${f.stages} | ${s(f.grouped)} |`,
      `| display intervals, one statement per interval (readStageMetrics each, before sql/0033) | ${f.intervals} | ${s(f.perInterval)} |`,
      `| the gate's window at each point but the last (readGateMetrics) | ${f.gateAtPoints} | ${s(f.gateReads)} |`,
      ``,
    ].join("\n"),
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:report: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
