/**
 * `rollout report`: a real migrated PostgreSQL with two recorded stages and
 * traffic, the CLI in-process, and the HTML opened in a real browser (Debian's
 * chromium through playwright-core): the four panels with the guide's lines,
 * one row and one evidence block per stage, nothing fetched, no script (even
 * with markup in a rollout record), and a screenshot that is not blank.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { PNG } from "pngjs";
import { insertEvent } from "../../db/rolloutStore";
import { renderReportHtml } from "../../core/report/html";
import { RolloutReport } from "../../core/report/model";
import { escapeXml } from "../../core/report/svg";
import { loadStack } from "../../stack/stackFile";
import { GUIDE_CONCURRENT_SESSIONS_TARGET, GUIDE_THRESHOLDS } from "../../core/stages";
import { Browser, launchBrowser, requireChromium } from "../support/browser";
import { PROJECT_DIR, migratedDatabase, rollout, rolloutJson, seedBypassedContamination, seedPath, seedRecord, withClient } from "./support";
import { CRITICAL_COLOUR } from "../../core/report/html";

const MARKUP = `<script>document.title = "pwned"</script><img src="http://127.0.0.1:9/x.png">"'&`;
const thresholds = loadStack(PROJECT_DIR, "prod").cfg.thresholds;

interface DomSummary {
  title: string;
  panels: Array<{ metric: string; lines: Array<[string, number]>; notApplicable: string[]; series: Record<string, number[]>; polylines: number }>;
  rows: Array<[string, string]>;
  evidence: Array<{ stage: string; rows: string[][] }>;
  active: number;
  text: string;
}

/** What the report's DOM holds: panels with their guide lines and points, stage rows, evidence. */
const DOM_SUMMARY = `(() => {
  const all = (root, sel) => Array.from(root.querySelectorAll(sel));
  return {
    title: document.title,
    panels: all(document, "section.panel[data-metric]").map((p) => ({
      metric: p.dataset.metric,
      lines: all(p, "g.guide-line line").map((l) => [l.dataset.kind, Number(l.closest("g").dataset.value)]),
      notApplicable: all(p, "li.level-na").map((l) => l.dataset.kind),
      series: Object.fromEntries(all(p, "svg g.series").map((g) => [g.dataset.series, all(g, "circle").map((c) => Number(c.dataset.value))])),
      polylines: all(p, "svg g.series polyline").length,
    })),
    rows: all(document, "tr.stage").map((r) => [r.dataset.stage, r.querySelector(".verdict").textContent]),
    evidence: all(document, "table.evidence-table").map((t) => ({ stage: t.dataset.stage, rows: all(t, "tbody tr").map((r) => all(r, "td").map((d) => d.textContent)) })),
    active: document.querySelectorAll("script, img, iframe, object, embed").length,
    text: document.body.textContent,
  };
})()`;

/** Distinct colours and the share of pixels that are not (near) white, in a PNG. */
function pixels(buffer: Buffer): { colours: number; share: number } {
  const png = PNG.sync.read(buffer);
  const colours = new Set<number>();
  let ink = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const [r, g, b] = [png.data[i], png.data[i + 1], png.data[i + 2]];
    colours.add((r << 16) | (g << 8) | b);
    if (r < 240 || g < 240 || b < 240) ink++;
  }
  return { colours: colours.size, share: ink / (png.width * png.height) };
}

describe("rollout report (pure)", () => {
  it("escapes every text it puts into HTML", () => {
    assert.equal(escapeXml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    const empty = { requests: 0, errors: 0, users: 0, avgSeconds: null, p95Seconds: null };
    const fig = { sessions: 0, peak: 0, peakAt: null, average: 0 };
    const r: RolloutReport = {
      stack: MARKUP,
      asOf: new Date(0),
      lastRecordAt: null,
      thresholds: GUIDE_THRESHOLDS,
      soakHours: 48,
      notes: [MARKUP],
      segments: [
        {
          stage: 10,
          flags: { enableStatelessOrchestration: true, enableSafeJsonParser: true },
          start: new Date(0),
          end: new Date(1),
          current: true,
          windowStart: new Date(0),
          windowEnd: new Date(1),
          actor: MARKUP,
          gitCommit: MARKUP,
          reason: MARKUP,
          metrics: { windowStart: new Date(0), windowEnd: new Date(1), new: empty, legacy: empty, contaminationCount: 0 },
          concurrency: { new: fig, legacy: fig, all: fig },
          judgement: { verdict: MARKUP, evidence: MARKUP },
          points: [],
        },
      ],
    };
    const html = renderReportHtml(r);
    assert.doesNotMatch(html, /<script|<img/i);
    assert.ok(!html.includes(MARKUP));
    assert.ok(html.includes(escapeXml(MARKUP)));
  });

  it("--out must name an .html file; the error names the value and what is allowed, and nothing is written", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "report-out-"));
    const r = await rollout("report", "--stack", "prod", "--out", path.join(dir, "report.txt"), "--database-url", "postgres://u:p@127.0.0.1:1/x");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /"[^"]*report\.txt" is not an HTML file name; allowed: a path ending in \.html/);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

describe("[pg] rollout report", function () {
  this.timeout(120_000);
  let url: string;
  let dir: string;
  let file: string;
  let json: Record<string, unknown>;

  before(async () => {
    url = await migratedDatabase();
    await withClient(url, async (c) => {
      // Stage 0 (flags off) from 100 h to 50 h ago, then 10 % (flags on) since 50 h ago.
      await seedRecord(c, "prod", 0, false, 100);
      const tenAt = (await c.query<{ t: Date }>("select now() - interval '50 hours' as t")).rows[0].t;
      await insertEvent(c, {
        stack: "prod",
        fromStage: 0,
        toStage: 10,
        flags: { enableStatelessOrchestration: true, enableSafeJsonParser: true },
        actor: MARKUP,
        reason: MARKUP,
        createdAt: tenAt,
      });
      await seedPath(c, { isNew: false, requests: 3000, errors: 30, users: 300, seconds: 2.5, fromHours: 97, toHours: 51, prefix: "l0" });
      await seedPath(c, { isNew: false, requests: 2700, errors: 27, users: 270, seconds: 2.5, fromHours: 47, toHours: 0.1, prefix: "l10" });
      await seedPath(c, { isNew: true, requests: 600, errors: 3, users: 60, seconds: 1.5, fromHours: 47, toHours: 0.1, prefix: "n10" });
      // A breach to draw: one contaminated session (two new-path requests) at 10 %.
      await seedBypassedContamination(c, 5);
    });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "report-"));
    file = path.join(dir, "nested", "rollout-report.html");
    const r = await rolloutJson("report", "--stack", "prod", "--out", file, "--database-url", url);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    json = r.json;
  });

  it("writes one self-contained file and prints each stage's verdict (JSON for the PR comment)", () => {
    const stages = json.stages as Array<{ stage: number; verdict: string; newErrorRatePct: number | null; legacyErrorRatePct: number | null; newP95Seconds: number | null }>;
    assert.deepEqual(stages.map((s) => s.stage), [0, 10]);
    for (const s of stages) assert.match(s.verdict, /^(PROCEED|WAIT|PAUSE|ROLLBACK)$/);
    assert.equal(stages[0].newErrorRatePct, null, "stage 0: no new-path traffic");
    assert.equal(stages[0].legacyErrorRatePct, 1);
    assert.ok(Math.abs((stages[1].newErrorRatePct ?? NaN) - (100 * 3) / 602) < 1e-9, String(stages[1].newErrorRatePct));
    assert.equal(stages[1].verdict, "ROLLBACK", "the contaminated session");
    assert.equal(stages[1].newP95Seconds, 1.5);
    const html = fs.readFileSync(file, "utf8");
    assert.doesNotMatch(html, /<(script|link|img|iframe|object|embed)\b|@import|url\(/i);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  });

  describe("in a real browser (chromium)", function () {
    let browser: Browser;

    before(async function () {
      requireChromium(this);
      browser = await launchBrowser();
    });

    after(async () => {
      await browser?.close();
    });

    it("shows the four key metrics with the guide's target, warning and critical lines, each stage with its verdict and evidence; fetches nothing", async () => {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(file).href);
      // Runs in the page (the project compiles without the DOM's types, hence a string).
      const dom = (await page.evaluate(DOM_SUMMARY)) as DomSummary;
      assert.equal(dom.title, "Rollout report: stack prod", "no injected script ran");
      assert.deepEqual(dom.panels.map((p) => p.metric), ["errorRate", "p95", "sessionIsolation", "concurrentSessions"]);
      const [err, p95, iso, conc] = dom.panels;
      assert.deepEqual(err.lines, [["target", thresholds.targetErrorRatePct], ["warning", thresholds.errorRateWarningPct], ["critical", thresholds.errorRateCriticalPct]]);
      assert.deepEqual(p95.lines, [["target", thresholds.targetP95Seconds], ["warning", thresholds.p95WarningSeconds], ["critical", thresholds.p95CriticalSeconds]]);
      assert.deepEqual(iso.lines, [["target", thresholds.contaminationMax], ["critical", thresholds.contaminationMax]]);
      assert.deepEqual(iso.notApplicable, ["warning"]);
      assert.deepEqual(conc.lines, [["target", GUIDE_CONCURRENT_SESSIONS_TARGET]]);
      assert.deepEqual(conc.notApplicable, ["warning", "critical"]);
      // One point per stage with traffic on the path: stage 0 has no new-path traffic.
      assert.deepEqual(err.series, { new: [0.5], legacy: [1, 1] });
      assert.deepEqual(p95.series, { new: [1.5], legacy: [2.5, 2.5] });
      assert.deepEqual(iso.series, { "all sessions": [0, 1] });
      assert.deepEqual(Object.keys(conc.series), ["new", "legacy", "all"]);
      assert.ok(conc.series.all.every((v) => v >= 1), "each stage had sessions running");
      assert.ok(err.polylines >= 1);
      const verdicts = (json.stages as Array<{ stage: number; verdict: string }>).map((s) => [String(s.stage), s.verdict]);
      assert.deepEqual(dom.rows, verdicts);
      // The evidence: one table per stage, a row per criterion in the gate's words (status, kind, criterion, bound).
      assert.deepEqual(dom.evidence.map((t) => t.stage), ["0", "10"]);
      const contamination = dom.evidence[1].rows.find((r) => r[2].startsWith("Cross-user session contamination"));
      assert.deepEqual(contamination, ["breached", "rollback", "Cross-user session contamination > 0 (critical: immediate rollback)", "1 contaminated session(s)"]);
      for (const t of dom.evidence) for (const r of t.rows) assert.match(r[0], /^(met|not yet|breached)$/);
      assert.equal(dom.active, 0, "the record's markup is text, not elements");
      assert.ok(dom.text.includes(MARKUP), "the record's reason is shown as written");
      assert.deepEqual(browser.blockedRequests, [], "the report fetched nothing");
      await page.close();
    });

    it("at 1280 px: no horizontal overflow, every chart visible in the page, the breach in the critical colour, no network request", async () => {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      const href = pathToFileURL(file).href;
      await page.goto(href);
      const layout = (await page.evaluate(`(() => {
        const box = (el) => { const r = el.getBoundingClientRect(); return { x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height }; };
        const breach = document.querySelector("g.breach circle");
        const label = document.querySelector("g.breach text");
        return {
          viewport: window.innerWidth,
          scrollWidth: document.documentElement.scrollWidth,
          pageHeight: document.documentElement.scrollHeight,
          scrolledTables: Array.from(document.querySelectorAll(".table-wrap, pre")).filter((w) => w.scrollWidth > w.clientWidth + 1).length,
          charts: Array.from(document.querySelectorAll("svg.chart")).map(box),
          breach: breach ? { fill: getComputedStyle(breach).fill, text: getComputedStyle(label).fill, criterion: breach.closest("g").dataset.criterion, label: label.textContent } : null,
          critical: (() => { const d = document.createElement("div"); d.style.color = "${CRITICAL_COLOUR}"; document.body.appendChild(d); const c = getComputedStyle(d).color; d.remove(); return c; })(),
        };
      })()`)) as { viewport: number; scrollWidth: number; pageHeight: number; scrolledTables: number; charts: Array<{ x: number; y: number; w: number; h: number }>; breach: { fill: string; text: string; criterion: string; label: string } | null; critical: string };
      assert.equal(layout.viewport, 1280);
      assert.ok(layout.scrollWidth <= 1280, `scrollWidth ${layout.scrollWidth}`);
      assert.equal(layout.scrolledTables, 0, "no table or text box scrolls sideways either");
      // 4 key-metric panels, and per stage error rate, P95, traffic, contamination and (when a criterion has bounds) the gate's bounds.
      assert.ok(layout.charts.length >= 4 + 2 * 4, `${layout.charts.length} charts`);
      for (const c of layout.charts) {
        assert.ok(c.w > 200 && c.h > 80, `a chart of ${c.w}x${c.h}`);
        assert.ok(c.x >= 0 && c.x + c.w <= 1280 && c.y >= 0 && c.y + c.h <= layout.pageHeight, JSON.stringify(c));
      }
      // The key-metric panels share rows: two per row at 1280 px.
      assert.equal(layout.charts[0].y, layout.charts[1].y);
      assert.ok(layout.charts[0].w > 500, `the panels use the width: ${layout.charts[0].w} px`);
      assert.ok(layout.breach, "a breach is drawn");
      assert.equal(layout.critical, "rgb(207, 34, 46)");
      assert.equal(layout.breach.fill, layout.critical);
      assert.equal(layout.breach.text, layout.critical);
      assert.match(layout.breach.criterion, /^Cross-user session contamination > 0/);
      assert.match(layout.breach.label, /^breach: Cross-user\s*session\s*contamination\s*>\s*0/, "the criterion named on the chart (in wrapped lines)");
      assert.deepEqual(requests, [href], "only the report itself");
      await page.close();
    });

    it("each stage's contamination over time: the seeded session is a breach in the critical colour at its interval at 10 %, none at 0 %", async () => {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(file).href);
      const charts = (await page.evaluate(`(() => Array.from(document.querySelectorAll("section.stage-section")).map((sec) => {
        const panel = Array.from(sec.querySelectorAll("section.stage-chart")).find((p) => p.querySelector("h4").textContent.startsWith("Cross-contamination"));
        if (!panel) return { stage: sec.dataset.stage, title: null };
        const box = panel.querySelector("svg.chart").getBoundingClientRect();
        return {
          stage: sec.dataset.stage,
          title: panel.querySelector("h4").textContent,
          values: Array.from(panel.querySelectorAll("g.series circle")).map((c) => Number(c.dataset.value)),
          lines: Array.from(panel.querySelectorAll("g.guide-line line")).map((l) => l.dataset.kind),
          size: [box.width, box.height],
          breaches: Array.from(panel.querySelectorAll("g.breach")).map((g) => ({
            category: g.dataset.category,
            criterion: g.dataset.criterion,
            fill: getComputedStyle(g.querySelector("circle")).fill,
            label: g.querySelector("text").textContent,
          })),
        };
      }))()`)) as Array<{ stage: string; title: string | null; values: number[]; lines: string[]; size: [number, number]; breaches: Array<{ category: string; criterion: string; fill: string; label: string }> }>;
      assert.deepEqual(charts.map((c) => [c.stage, c.title]), [["0", "Cross-contamination per 3 h"], ["10", "Cross-contamination per 3 h"]]);
      const [zero, ten] = charts;
      assert.deepEqual(zero.breaches, []);
      assert.ok(zero.values.length > 1 && zero.values.every((v) => v === 0), JSON.stringify(zero.values));
      assert.deepEqual(ten.lines, ["target", "critical"], "the guide's levels: target 0, critical above it");
      // Stage 10 % began 50 h ago; the contaminated session's two requests are 5 h old: the interval (45 h, 48 h].
      assert.equal(ten.values.reduce((a, b) => a + b, 0), 1, JSON.stringify(ten.values));
      assert.equal(ten.breaches.length, 1);
      const [b] = ten.breaches;
      assert.equal(b.category, "48 h");
      assert.equal(b.criterion, "Cross-user session contamination > 0 (critical: immediate rollback)");
      assert.equal(b.fill, "rgb(207, 34, 46)", "the critical colour");
      assert.match(b.label, /^breach: Cross-user\s*session\s*contamination\s*>\s*0/);
      for (const c of charts) assert.ok(c.size[0] > 200 && c.size[1] > 80, `a chart of ${c.size.join("x")}`);
      await page.close();
    });

    it("renders to a screenshot that is not blank", async () => {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(file).href);
      const { colours, share } = pixels(await page.screenshot({ fullPage: true }));
      assert.ok(colours >= 32, `${colours} distinct colours`);
      assert.ok(share > 0.02, `${(100 * share).toFixed(2)}% of the pixels are not white`);
      // The check can fail: a blank page has one colour and no ink.
      await page.goto("about:blank");
      const blank = pixels(await page.screenshot());
      await page.close();
      assert.ok(blank.colours < 32 && blank.share <= 0.02, JSON.stringify(blank));
    });
  });
});
