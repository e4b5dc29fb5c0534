/**
 * The rollout report: one self-contained HTML file (inline CSS and SVG, no
 * script, no network: its Content-Security-Policy forbids any fetch). It is
 * the guide's "Monitoring Dashboard" for the rollout so far: the stages with
 * their verdicts and breaches, the four key metrics per version against the
 * guide's target, warning and critical lines (a breach in the critical colour
 * with the gate's criterion named), and per stage its figures over time, the
 * gate's always-valid bounds and verdict over time, and its evidence as a
 * table in the gate's own words (core/gateText.ts). A grid that reflows; times
 * to the minute (core/plainText.ts shortTime); the date is the data's asOf.
 *
 * Pure: a RolloutReport in, a string out. Every text is escaped.
 */
import { KeyMetric, RolloutReport, StageSegment, breachedCriteria, contaminationLines, keyMetrics, segmentLabel, stageOverTime } from "./model";
import { escapeXml, lineChart } from "./svg";
import { count, n2, percentOf, shortTime, shortTimeAfter } from "../plainText";
import { criterionEvidence, criterionWord, holdText, shortReasons } from "../gateText";
import { HOUR_MS } from "../gate";

const e = escapeXml;

/** The critical colour: the guide's critical lines, breaches, ROLLBACK. */
export const CRITICAL_COLOUR = "#cf222e";

const CSS = `
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; padding: 24px; max-width: 1600px; color: #1b1f24; background: #ffffff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; } h3 { font-size: 16px; margin: 0 0 6px; }
.meta, .note { color: #57606a; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 520px), 1fr)); gap: 16px; }
.panel { border: 1px solid #d0d7de; border-radius: 6px; padding: 12px; background: #f6f8fa; min-width: 0; }
.panel h3, .panel h4 { margin: 0 0 4px; font-size: 15px; }
.levels { margin: 0 0 6px; padding: 0; list-style: none; display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 12px; }
.level-critical { color: ${CRITICAL_COLOUR}; } .levels .level-na { color: #57606a; }
svg.chart { display: block; width: 100%; height: auto; }
.chart .plot { fill: #ffffff; stroke: #d0d7de; }
.chart .grid { stroke: #eaeef2; }
.chart text { font-size: 11px; fill: #57606a; }
.chart .series polyline { fill: none; stroke-width: 2.5; }
.chart .series-new polyline, .chart .legend.series-new line { stroke: #0969da; } .chart .series-new circle, .chart .series-new rect { fill: #0969da; }
.chart .series-legacy polyline, .chart .legend.series-legacy line { stroke: #8250df; } .chart .series-legacy circle, .chart .series-legacy rect { fill: #8250df; }
.chart .series-all polyline, .chart .legend.series-all line { stroke: #57606a; } .chart .series-all circle, .chart .series-all rect { fill: #57606a; }
.chart .legend line { stroke-width: 3; }
.chart .band { fill: #0969da; fill-opacity: 0.18; stroke: #0969da; stroke-opacity: 0.5; }
.chart .legend.band-key line { stroke: #0969da; stroke-opacity: 0.35; stroke-width: 8; }
.chart .guide-line line { stroke-width: 1.5; stroke-dasharray: 6 4; }
.chart line.guide-target { stroke: #1a7f37; } .chart .guide-target text { fill: #1a7f37; }
.chart line.guide-warning { stroke: #bf8700; } .chart .guide-warning text { fill: #9a6700; }
.chart .label-target { fill: #1a7f37; } .chart .label-warning { fill: #9a6700; } .chart .label-critical { fill: ${CRITICAL_COLOUR}; }
.chart line.guide-gateline { stroke: #1b1f24; } .chart .guide-gateline text { fill: #1b1f24; }
.chart line.guide-critical { stroke: ${CRITICAL_COLOUR}; } .chart .guide-critical text { fill: ${CRITICAL_COLOUR}; }
.chart .breach circle { fill: ${CRITICAL_COLOUR}; stroke: #ffffff; stroke-width: 2; }
.chart .breach text { fill: ${CRITICAL_COLOUR}; font-weight: 600; }
.chart .mark-PROCEED { fill: #1a7f37; } .chart .mark-WAIT { fill: #d4a72c; } .chart .mark-PAUSE { fill: #fb8f44; } .chart .mark-ROLLBACK { fill: ${CRITICAL_COLOUR}; }
.table-wrap { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.time { white-space: nowrap; }
.verdict { font-weight: 600; padding: 1px 6px; border-radius: 4px; white-space: nowrap; }
.verdict-PROCEED { background: #dafbe1; } .verdict-WAIT { background: #fff8c5; } .verdict-PAUSE { background: #ffebe9; } .verdict-ROLLBACK { background: ${CRITICAL_COLOUR}; color: #ffffff; }
.breached, td.breached, .breach-note { color: ${CRITICAL_COLOUR}; font-weight: 600; }
table.stages td.breached { min-width: 12em; }
tr.status-breached td { background: #ffebe9; }
.stage-section { border-top: 1px solid #d0d7de; padding-top: 12px; margin-top: 24px; }
.evidence-table td:first-child { white-space: nowrap; }
.reasons { margin: 4px 0 8px; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 8px; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
`;

const when = (d: Date | null) => (d === null ? "unknown" : shortTime(d));
const hours = (ms: number) => `${n2(ms / HOUR_MS, " h").replace(/\.00 h$/, " h")}`;

function levelsList(m: Pick<KeyMetric, "lines" | "notApplicable">): string {
  const levels = [
    ...m.lines.map((l) => `<li class="level level-${l.kind}" data-kind="${l.kind}">${e(l.kind)}: ${e(l.label)}</li>`),
    ...m.notApplicable.map((k) => `<li class="level level-${k} level-na" data-kind="${k}">${e(k)}: N/A (the guide sets none)</li>`),
  ];
  return `<ul class="levels">${levels.join("")}</ul>`;
}

function panel(m: KeyMetric, categories: string[]): string {
  return [
    `<section class="panel" data-metric="${m.id}">`,
    `<h3>${e(m.title)}</h3>`,
    levelsList(m),
    lineChart({ title: `${m.title} per stage`, unit: m.unit, categories, series: m.series, lines: m.lines }),
    `<p class="note">${e(m.note)}</p>`,
    `</section>`,
  ].join("\n");
}

/** A stage's time span: "2026-12-01 06:00 UTC – 2026-12-03 06:00 UTC (48 h)", the end without its date on the same day. */
function span(s: StageSegment): string {
  const start = s.start ?? s.windowStart;
  return `${s.start === null ? "(no record) " : ""}${shortTime(start)} – ${shortTimeAfter(s.end, start)} (${hours(s.end.getTime() - start.getTime())})`;
}

function stageRow(s: StageSegment, i: number): string {
  const rate = (errors: number, requests: number) => (requests > 0 ? `${count(errors)} / ${count(requests)} (${percentOf(errors, requests)})` : "no requests");
  const breaches = breachedCriteria(s.judgement);
  // The judged window is the whole stage (core/gate.ts gateWindow) unless the stage has no record.
  const judged = s.windowStart.getTime() === (s.start ?? s.windowStart).getTime() ? "" : `<br><span class="note">judged: last ${e(hours(s.windowEnd.getTime() - s.windowStart.getTime()))}</span>`;
  return [
    `<tr class="stage" data-stage="${s.stage}">`,
    `<td><a href="#stage-${i + 1}">${e(segmentLabel(s, i))}</a>${s.current ? " (current)" : ""}</td>`,
    `<td class="time">${e(span(s)).replace(" – ", " –<br>")}${judged}</td>`,
    `<td><span class="verdict verdict-${e(s.judgement.verdict)}">${e(s.judgement.verdict)}</span></td>`,
    breaches.length === 0 ? `<td>none</td>` : `<td class="breached">${breaches.map((c) => `<span title="${e(c.description)}">${e(c.description.replace(/\s*\([^)]*\)\s*$/, ""))}</span>`).join("<br>")}</td>`,
    `<td class="num">${e(rate(s.metrics.new.errors, s.metrics.new.requests))}<br>${e(rate(s.metrics.legacy.errors, s.metrics.legacy.requests))}</td>`,
    `<td class="num">${e(n2(s.metrics.new.p95Seconds, " s", "n/a"))}<br>${e(n2(s.metrics.legacy.p95Seconds, " s", "n/a"))}</td>`,
    `<td class="num${s.metrics.contaminationCount > 0 ? " breached" : ""}">${e(count(s.metrics.contaminationCount))}</td>`,
    `<td class="num">${e(count(s.concurrency.new.peak))} / ${e(count(s.concurrency.legacy.peak))} / ${e(count(s.concurrency.all.peak))}</td>`,
    `</tr>`,
  ].join("");
}

/** The gate's evidence for a stage as a table: one row per criterion, its status and the bound that decided it (core/gateText.ts, the gate's own words). */
function evidenceTable(s: StageSegment): string {
  const g = s.judgement.gate;
  if (!g) return "";
  const rows = g.criteria.map((c) => {
    const word = criterionWord(c);
    return `<tr class="criterion status-${word.replace(/ /g, "-")}" data-criterion="${e(c.id)}"><td class="${word === "breached" ? "breached" : ""}">${e(word)}</td><td>${e(c.kind)}</td><td>${e(c.description)}</td><td>${e(criterionEvidence(c, g.metrics.contaminationCount))}</td></tr>`;
  });
  const reasons = shortReasons(g);
  return [
    `<div class="table-wrap"><table class="evidence-table" data-stage="${s.stage}"><thead><tr><th>status</th><th>kind</th><th>criterion</th><th>evidence (always-valid bound)</th></tr></thead>`,
    `<tbody>${rows.join("\n")}</tbody></table></div>`,
    reasons.length === 0 ? "" : `<ul class="reasons">${reasons.map((r) => `<li>${e(r)}</li>`).join("")}</ul>`,
  ].join("\n");
}

/** One stage: its figures over time (hourly, or every few hours), the gate's bound over time, and its evidence. */
function stageSection(s: StageSegment, i: number, r: RolloutReport): string {
  const who = [s.actor ? `by ${s.actor}` : "", s.gitCommit ? `at ${s.gitCommit.slice(0, 12)}` : "", s.reason ? `reason: ${s.reason}` : ""].filter(Boolean).join(", ");
  const t = stageOverTime(s, r.thresholds);
  const cats = t.hours.map((h) => `${Number.isInteger(h) ? h : h.toFixed(1)} h`);
  const xTitle = `hours since ${s.start === null ? "the window's start" : "the stage's record"} (${shortTime(s.start ?? s.windowStart)})`;
  const charts: string[] = [];
  if (t.hours.length > 0) {
    const step = t.hours.length > 1 ? t.hours[1] - t.hours[0] : t.hours[0];
    const per = step === 1 ? "per hour" : `per ${Number.isInteger(step) ? step : step.toFixed(1)} h`;
    const chart = (title: string, body: string) => `<section class="panel stage-chart"><h4>${e(title)}</h4>\n${body}\n</section>`;
    charts.push(
      chart(`Error rate ${per}`, lineChart({ title: `Error rate ${per}, ${segmentLabel(s, i)}`, unit: "%", categories: cats, series: t.errorRate, lines: [{ kind: "critical", value: r.thresholds.errorRateCriticalPct, label: `> ${r.thresholds.errorRateCriticalPct}%` }, { kind: "target", value: r.thresholds.targetErrorRatePct, label: `< ${r.thresholds.targetErrorRatePct}%` }], xTitle })),
      chart(`Latency (P95) ${per}`, lineChart({ title: `P95 ${per}, ${segmentLabel(s, i)}`, unit: "s", categories: cats, series: t.p95, lines: [{ kind: "critical", value: r.thresholds.p95CriticalSeconds, label: `> ${r.thresholds.p95CriticalSeconds}s` }, { kind: "target", value: r.thresholds.targetP95Seconds, label: `< ${r.thresholds.targetP95Seconds}s` }], xTitle })),
      chart(`Traffic: requests ${per} and version`, lineChart({ title: `Requests ${per}, ${segmentLabel(s, i)}`, unit: "", categories: cats, series: t.requests, lines: [], style: "bar", xTitle })),
      chart(
        `Cross-contamination ${per}`,
        lineChart({ title: `Contaminated sessions ${per}, ${segmentLabel(s, i)}`, unit: "", categories: cats, series: t.contamination, lines: contaminationLines(r.thresholds.contaminationMax), xTitle }) +
          `\n<p class="note">sessions found with more than one user in each interval: the gate's count on the stage up to the point, less its count at the previous point${s.start === null ? " (without a rollout record: the interval's own count, the guide's isolation query over it)" : ""}; a point in the critical colour is a breach of the stage's isolation criterion.</p>`,
      ),
    );
    if (t.bound) {
      const b = t.bound;
      charts.push(
        chart(
          `The gate over time: ${b.criterion}`,
          lineChart({
            title: `The gate's bounds over time, ${segmentLabel(s, i)}`,
            unit: b.unit === "pp" ? " pp" : "%",
            categories: cats,
            series: [{ name: "estimate", key: "new", values: b.estimate }],
            band: { name: "always-valid bounds", lower: b.lower, upper: b.upper },
            lines: [{ kind: "gate line", value: b.line, label: `${b.line}${b.unit === "pp" ? " pp" : "%"}` }],
            marks: t.verdicts,
            xTitle: `${xTitle}; strip: the verdict at each point`,
            allowNegative: b.unit === "pp",
          }) + `\n<p class="note">${e(b.quantity)}: the band is the gate's always-valid interval on the window from the stage's start to each point, the strip its verdict then (green PROCEED, yellow WAIT, orange PAUSE, red ROLLBACK).</p>`,
        ),
      );
    }
  }
  return [
    `<section class="stage-section" id="stage-${i + 1}" data-stage="${s.stage}">`,
    `<h3>${e(segmentLabel(s, i))}${s.current ? " (current)" : ""}: <span class="verdict verdict-${e(s.judgement.verdict)}">${e(s.judgement.verdict)}</span></h3>`,
    `<p class="meta">${e(span(s))}${who ? ` — ${e(who)}` : ""}</p>`,
    charts.length === 0 ? `<p class="note">No time to show: the stage has no duration.</p>` : `<div class="cards">\n${charts.join("\n")}\n</div>`,
    evidenceTable(s),
    `<details class="evidence" data-stage="${s.stage}"><summary>The gate's full text for this stage</summary>`,
    `<pre>${e(s.judgement.evidence)}</pre>`,
    `</details>`,
    `</section>`,
  ].join("\n");
}

/** The report as one HTML document. */
export function renderReportHtml(r: RolloutReport): string {
  const categories = r.segments.map((s, i) => segmentLabel(s, i));
  const metrics = keyMetrics(r.segments, r.thresholds);
  const title = `Rollout report: stack ${r.stack}`;
  const body: string[] = [
    `<h1>${e(title)}</h1>`,
    `<p class="meta">Data as of <strong class="as-of">${e(when(r.asOf))}</strong> (the end of the last stage; the latest rollout record: ${e(when(r.lastRecordAt))}), ` +
      `from the stack's rollout records and agent_sessions. Each stage is judged as <code>rollout gate</code> judges it, over the stage from its record (soak: ${e(String(r.soakHours))} h); ` +
      `the lines are the guide's Monitoring Dashboard levels with this stack's thresholds.</p>`,
    ...r.notes.map((n) => `<p class="note">Note: ${e(n)}</p>`),
    ...(r.hold ? [`<p class="note hold">Hold: the rollout is ${e(holdText(r.hold))} (rollout hold). The current stage's verdict is PAUSE until a reviewed <code>rollout release</code> removes it.</p>`] : []),
    `<h2>Stages</h2>`,
    `<div class="table-wrap"><table class="stages"><thead><tr><th>stage</th><th>from – to (UTC)</th><th>gate</th><th>breached</th>` +
      `<th>errors new<br>legacy</th><th>p95 new<br>legacy</th><th>cross-contamination</th><th>peak concurrent<br>new / legacy / all</th></tr></thead>`,
    `<tbody>${r.segments.map(stageRow).join("\n")}</tbody></table></div>`,
    `<h2>Key metrics per stage</h2>`,
    r.segments.length === 0 ? `<p class="note">No stage to show.</p>` : `<div class="cards panels">\n${metrics.map((m) => panel(m, categories)).join("\n")}\n</div>`,
    `<h2>Each stage over time, and the gate's evidence</h2>`,
    ...r.segments.map((s, i) => stageSection(s, i, r)),
  ];
  return [
    "<!DOCTYPE html>",
    `<html lang="en">`,
    "<head>",
    `<meta charset="utf-8">`,
    // Nothing may be fetched: no script, no image, no font, no connection.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${e(title)}</title>`,
    `<style>${CSS}</style>`,
    "</head>",
    "<body>",
    ...body,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
