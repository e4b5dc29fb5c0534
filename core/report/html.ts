/**
 * The rollout report: one self-contained HTML file (inline CSS and SVG, no
 * script, no network: its Content-Security-Policy forbids any fetch). It is
 * the guide's "Monitoring Dashboard" for the rollout so far: the four key
 * metrics per version against the guide's target, warning and critical lines,
 * and each stage's window with the gate's verdict and evidence.
 *
 * Pure: a RolloutReport in, a string out. Every text is escaped.
 */
import { KeyMetric, RolloutReport, StageSegment, keyMetrics, segmentLabel } from "./model";
import { escapeXml, lineChart } from "./svg";
import { n2, percentOf } from "../plainText";

const e = escapeXml;

const CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1b1f24; background: #ffffff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.meta, .note { color: #57606a; }
.panels { display: flex; flex-wrap: wrap; gap: 16px; }
.panel { border: 1px solid #d0d7de; border-radius: 6px; padding: 12px; background: #f6f8fa; }
.panel h3 { margin: 0 0 4px; font-size: 15px; }
.levels { margin: 0 0 6px; padding: 0; list-style: none; display: flex; gap: 12px; font-size: 12px; }
.chart .plot { fill: #ffffff; stroke: #d0d7de; }
.chart .grid { stroke: #eaeef2; }
.chart text { font-size: 11px; fill: #57606a; }
.chart .series polyline { fill: none; stroke-width: 2.5; }
.chart .series-new polyline, .chart .legend.series-new line { stroke: #0969da; } .chart .series-new circle { fill: #0969da; }
.chart .series-legacy polyline, .chart .legend.series-legacy line { stroke: #8250df; } .chart .series-legacy circle { fill: #8250df; }
.chart .series-all polyline, .chart .legend.series-all line { stroke: #1a7f37; } .chart .series-all circle { fill: #1a7f37; }
.chart .legend line { stroke-width: 3; }
.chart .guide-line line { stroke-width: 1.5; stroke-dasharray: 6 4; }
.chart .guide-target line { stroke: #1a7f37; } .chart .guide-target text { fill: #1a7f37; }
.chart .guide-warning line { stroke: #bf8700; } .chart .guide-warning text { fill: #9a6700; }
.chart .guide-critical line { stroke: #cf222e; } .chart .guide-critical text { fill: #cf222e; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-weight: 600; padding: 1px 6px; border-radius: 4px; }
.verdict-PROCEED { background: #dafbe1; } .verdict-WAIT { background: #fff8c5; } .verdict-PAUSE { background: #ffebe9; } .verdict-ROLLBACK { background: #cf222e; color: #ffffff; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 8px; overflow-x: auto; font-size: 12px; }
`;

const when = (d: Date | null) => (d === null ? "unknown" : d.toISOString().replace(".000Z", "Z"));

function panel(m: KeyMetric, categories: string[]): string {
  const levels = [
    ...m.lines.map((l) => `<li class="level level-${l.kind}" data-kind="${l.kind}">${e(l.kind)}: ${e(l.label)}</li>`),
    ...m.notApplicable.map((k) => `<li class="level level-${k} level-na" data-kind="${k}">${e(k)}: N/A (the guide sets none)</li>`),
  ];
  return [
    `<section class="panel" data-metric="${m.id}">`,
    `<h3>${e(m.title)}</h3>`,
    `<ul class="levels">${levels.join("")}</ul>`,
    lineChart({ title: `${m.title} per stage`, unit: m.unit, categories, series: m.series, lines: m.lines }),
    `<p class="note">${e(m.note)}</p>`,
    `</section>`,
  ].join("\n");
}

function stageRow(s: StageSegment, i: number): string {
  const rate = (errors: number, requests: number) => (requests > 0 ? `${errors} / ${requests} (${percentOf(errors, requests)})` : "no requests");
  return [
    `<tr class="stage" data-stage="${s.stage}">`,
    `<td>${e(segmentLabel(s, i))}${s.current ? " (current)" : ""}</td>`,
    `<td>${e(when(s.start))}<br>${e(when(s.end))}</td>`,
    `<td>${e(when(s.windowStart))}<br>${e(when(s.windowEnd))}</td>`,
    `<td><span class="verdict verdict-${e(s.judgement.verdict)}">${e(s.judgement.verdict)}</span></td>`,
    `<td class="num">${e(rate(s.metrics.new.errors, s.metrics.new.requests))}<br>${e(rate(s.metrics.legacy.errors, s.metrics.legacy.requests))}</td>`,
    `<td class="num">${e(n2(s.metrics.new.p95Seconds, " s", "n/a"))}<br>${e(n2(s.metrics.legacy.p95Seconds, " s", "n/a"))}</td>`,
    `<td class="num">${s.metrics.contaminationCount}</td>`,
    `<td class="num">${s.concurrency.new.peak} / ${s.concurrency.legacy.peak} / ${s.concurrency.all.peak}</td>`,
    `</tr>`,
  ].join("");
}

function evidence(s: StageSegment, i: number): string {
  const who = [s.actor ? `by ${s.actor}` : "", s.gitCommit ? `at ${s.gitCommit.slice(0, 12)}` : "", s.reason ? `reason: ${s.reason}` : ""].filter(Boolean).join(", ");
  return [
    `<details class="evidence" data-stage="${s.stage}"${s.current ? " open" : ""}>`,
    `<summary>${e(segmentLabel(s, i))}: <span class="verdict verdict-${e(s.judgement.verdict)}">${e(s.judgement.verdict)}</span>${who ? ` — ${e(who)}` : ""}</summary>`,
    `<pre>${e(s.judgement.evidence)}</pre>`,
    `</details>`,
  ].join("\n");
}

/** The report as one HTML document. */
export function renderReportHtml(r: RolloutReport): string {
  const categories = r.segments.map((s, i) => segmentLabel(s, i));
  const metrics = keyMetrics(r.segments, r.thresholds);
  const title = `Rollout report: stack ${r.stack}`;
  const body: string[] = [
    `<h1>${e(title)}</h1>`,
    `<p class="meta">Generated ${e(when(r.generatedAt))} from the stack's rollout records and agent_sessions. ` +
      `Each stage is judged over its last ${e(String(r.soakHours))} h (the gate's soak window), as <code>rollout gate</code> judges it; ` +
      `the lines are the guide's Monitoring Dashboard levels with this stack's thresholds.</p>`,
    ...r.notes.map((n) => `<p class="note">Note: ${e(n)}</p>`),
    `<h2>Key metrics per stage</h2>`,
    r.segments.length === 0 ? `<p class="note">No stage to show.</p>` : `<div class="panels">\n${metrics.map((m) => panel(m, categories)).join("\n")}\n</div>`,
    `<h2>Stages</h2>`,
    `<table class="stages"><thead><tr><th>stage</th><th>stage start / end</th><th>judged window</th><th>gate</th>` +
      `<th>errors new / legacy</th><th>p95 new / legacy</th><th>cross-contamination</th><th>peak concurrent new / legacy / all</th></tr></thead>`,
    `<tbody>${r.segments.map(stageRow).join("\n")}</tbody></table>`,
    `<h2>The gate's evidence per stage</h2>`,
    ...r.segments.map(evidence),
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
