/**
 * The pull-request comment's rollout chart: error rate and p95 per stage as
 * two small Mermaid `xychart-beta` charts (GitHub renders them), read from
 * `rollout report --json`, with a link to the full HTML report (the workflow's
 * artifact). Tested with the real Mermaid parser (test/support/browser.ts).
 *
 * Pure: JSON text in, markdown lines out.
 */
import { z } from "zod";

const num = z.number().nullable();

export const reportJsonSchema = z
  .object({
    stages: z.array(
      z
        .object({
          label: z.string(),
          verdict: z.string(),
          newErrorRatePct: num,
          legacyErrorRatePct: num,
          newP95Seconds: num,
          legacyP95Seconds: num,
        })
        .loose(),
    ),
    thresholds: z
      .object({ errorRateWarningPct: z.number(), errorRateCriticalPct: z.number(), p95WarningSeconds: z.number(), p95CriticalSeconds: z.number() })
      .loose()
      .optional(),
  })
  .loose();

export type ReportJson = z.infer<typeof reportJsonSchema>;

export type ReportReading = { ok: true; report: ReportJson } | { ok: false; problem: string };

/** Read `rollout report --json`'s stdout; a problem in plain words otherwise. */
export function readReportJson(text: string): ReportReading {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, problem: "rollout report printed no JSON" };
  }
  // A failed run still prints one JSON object: {ok: false, error: {message}}.
  const top = raw && typeof raw === "object" ? (raw as { ok?: unknown; error?: { message?: unknown } }) : {};
  if (top.ok === false) return { ok: false, problem: `rollout report failed: ${String(top.error?.message ?? "no message")}` };
  const parsed = reportJsonSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    return { ok: false, problem: `rollout report's JSON is not a report (${i.path.join(".") || "(top)"}: ${i.message})` };
  }
  return { ok: true, report: parsed.data };
}

/** A category label Mermaid accepts inside double quotes: no quote, no `%%` comment, no markup. */
function label(text: string): string {
  return text.replace(/["\\`<>]/g, "").replace(/%+/g, "%").replace(/\s+/g, " ").trim() || "?";
}

const value = (v: number | null) => (v === null || !Number.isFinite(v) ? 0 : Number(v.toFixed(3)));

function niceTop(values: number[]): number {
  const top = Math.max(...values, 0) * 1.15;
  if (!(top > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(top));
  return Math.ceil(top / exp) * exp;
}

/** One xychart-beta chart: bars for the new path, a line for legacy, the y axis up to the critical level at least. */
export function xyChart(title: string, axis: string, categories: string[], bars: (number | null)[], line: (number | null)[], floor: number): string {
  const top = niceTop([...bars.map(value), ...line.map(value), floor]);
  return [
    "xychart-beta",
    `  title "${label(title)}"`,
    `  x-axis [${categories.map((c) => `"${label(c)}"`).join(", ")}]`,
    `  y-axis "${label(axis)}" 0 --> ${top}`,
    `  bar [${bars.map(value).join(", ")}]`,
    `  line [${line.map(value).join(", ")}]`,
  ].join("\n");
}

type StageRow = ReportJson["stages"][number];
type Levels = NonNullable<ReportJson["thresholds"]>;

/**
 * The charts, as data: one row per chart, all drawn by the one builder
 * (`xyChart`): the new path's value as bars, legacy's as a line, the y axis
 * up to the guide's critical level at least.
 */
export const STAGE_CHARTS = [
  { key: "errorRate", title: "Error rate per stage", axis: "error rate (%)", bar: (s: StageRow) => s.newErrorRatePct, line: (s: StageRow) => s.legacyErrorRatePct, floor: (t: Levels) => t.errorRateCriticalPct },
  { key: "p95", title: "P95 latency per stage", axis: "p95 (s)", bar: (s: StageRow) => s.newP95Seconds, line: (s: StageRow) => s.legacyP95Seconds, floor: (t: Levels) => t.p95CriticalSeconds },
] as const;

/** The two charts' Mermaid sources (error rate, p95), or none without stages. */
export function stageCharts(r: ReportJson): { errorRate: string; p95: string } | undefined {
  if (r.stages.length === 0) return undefined;
  const cats = r.stages.map((s) => s.label);
  const chart = (c: (typeof STAGE_CHARTS)[number]) =>
    xyChart(c.title, c.axis, cats, r.stages.map(c.bar), r.stages.map(c.line), r.thresholds ? c.floor(r.thresholds) : 0);
  const [errorRate, p95] = STAGE_CHARTS.map(chart);
  return { errorRate, p95 };
}

/** The comment's section: the link to the HTML report and the two charts. */
export function reportSection(reportJson: string | undefined, reportUrl: string | undefined): string[] {
  const lines: string[] = [];
  const link = reportUrl ? `[rollout report (HTML, workflow artifact)](${reportUrl})` : undefined;
  if (reportJson === undefined || reportJson.trim() === "") {
    return link ? [`**Rollout report:** ${link}`] : [];
  }
  const reading = readReportJson(reportJson);
  if (!reading.ok) return [`**Rollout report:** ${reading.problem}${link ? `; ${link}` : ""}`];
  const charts = stageCharts(reading.report);
  lines.push(`**Rollout so far** (\`rollout report\`)${link ? `: ${link}` : ""}`);
  if (!charts) return [...lines, "", "_No stage recorded yet._"];
  const t = reading.report.thresholds;
  lines.push(
    "",
    `Bars: new path; line: legacy; a stage without traffic on a path shows 0.` +
      (t ? ` The guide's levels: error rate warning > ${t.errorRateWarningPct}%, critical > ${t.errorRateCriticalPct}%; p95 warning > ${t.p95WarningSeconds}s, critical > ${t.p95CriticalSeconds}s.` : ""),
    "",
    "```mermaid",
    charts.errorRate,
    "```",
    "",
    "```mermaid",
    charts.p95,
    "```",
  );
  return lines;
}
