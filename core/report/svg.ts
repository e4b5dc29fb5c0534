/**
 * Inline SVG charts for the rollout report: one value per category (a stage, or an hour) and series,
 * with the guide's horizontal target / warning / critical lines. Every text
 * is escaped; every number is finite before it reaches an attribute.
 *
 * Pure: strings in, markup out.
 */

/** Escape text for HTML and SVG content and double-quoted attributes. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

export interface ChartSeries {
  name: string;
  /** CSS class suffix (letters only). */
  key: string;
  values: (number | null)[];
  /** Per category: a breach to mark on that point (drawn in the critical colour, the text names the criterion), or null. */
  breaches?: (string | null)[];
}

export interface ChartLine {
  kind: string;
  value: number;
  label: string;
}

/** A shaded band between a lower and an upper value per category (e.g. a confidence interval). */
export interface ChartBand {
  name: string;
  lower: (number | null)[];
  upper: (number | null)[];
}

export interface ChartSpec {
  title: string;
  unit: string;
  categories: string[];
  series: ChartSeries[];
  lines: ChartLine[];
  /** "line" (default): a polyline and points per series; "bar": grouped bars. */
  style?: "line" | "bar";
  band?: ChartBand;
  /** Per category, a status (letters only, e.g. a verdict) drawn as a coloured strip under the plot. */
  marks?: string[];
  /** Caption under the x axis (e.g. "hours since the stage started"). */
  xTitle?: string;
  /** Let the y axis start below 0 (for differences). */
  allowNegative?: boolean;
}

const W = 600;
const H = 270;
/** Approximate width of one character of the chart's 11 px labels (for the right margin; generous, so nothing is cut). */
const CHAR_W = 6.4;

/** A round upper bound for the y axis that leaves room above the highest value or line. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

const num = (v: number) => (Number.isFinite(v) ? Number(v.toFixed(2)) : 0);
const cls = (s: string) => s.replace(/[^a-z]/gi, "");
const fmt = (v: number, unit: string) => `${Number.isInteger(v) ? v : Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toFixed(2))}${unit}`;

/** A round step (1, 2, 2.5 or 5 × 10^k) of about `raw`. */
function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= raw) return m * exp;
  return 10 * exp;
}

/** The longest label line: a label wraps at " · " and then at spaces to this many characters. */
const LABEL_CHARS = 24;

/** A guide-line label in lines of at most LABEL_CHARS characters (a longer word stays whole). */
export function wrapLabel(text: string, width = LABEL_CHARS): string[] {
  const out: string[] = [];
  for (const part of text.split(" · ")) {
    let cur = "";
    for (const w of part.split(" ")) {
      if (cur !== "" && cur.length + 1 + w.length > width) {
        out.push(cur);
        cur = w;
      } else cur = cur === "" ? w : `${cur} ${w}`;
    }
    if (cur !== "") out.push(cur);
  }
  return out;
}
const finite = (v: number | null | undefined): v is number => v !== null && v !== undefined && Number.isFinite(v);

/**
 * Where to put labels wanted at `ys` (in order) so that no two are closer than `gap`, all within
 * [lo, hi]: each moved as little as the others allow. Pure, exported for tests.
 */
export function spreadLabels(ys: readonly number[], gap: number, lo: number, hi: number, heights: readonly number[] = []): number[] {
  // Label i takes its first line's gap plus (heights[i] - 1) more lines below it.
  const h = (i: number) => gap * Math.max(1, heights[i] ?? 1);
  const order = ys.map((y, i) => ({ y: Math.min(Math.max(y, lo), hi), i })).sort((a, b) => a.y - b.y);
  for (let k = 1; k < order.length; k++) order[k].y = Math.max(order[k].y, order[k - 1].y + h(order[k - 1].i));
  // Pushed past the bottom: shift the run back up.
  const last = order[order.length - 1];
  if (last && last.y + h(last.i) - gap > hi) {
    last.y = hi - h(last.i) + gap;
    for (let k = order.length - 2; k >= 0; k--) order[k].y = Math.min(order[k].y, order[k + 1].y - h(order[k].i));
  }
  const out = new Array<number>(ys.length);
  for (const o of order) out[o.i] = o.y;
  return out;
}

/** Guide lines at the same level, one label: "target 0 · critical > 0". */
function mergeLines(lines: readonly ChartLine[]): Array<{ value: number; kinds: string[]; text: string; wrapped: Array<{ kind: string; text: string }> }> {
  const out: Array<{ value: number; kinds: string[]; text: string; wrapped: Array<{ kind: string; text: string }> }> = [];
  for (const l of lines) {
    const text = `${l.kind} ${l.label}`;
    const wrapped = wrapLabel(text).map((w) => ({ kind: l.kind, text: w }));
    const same = out.find((o) => o.value === l.value);
    if (same) {
      same.kinds.push(l.kind);
      same.text += ` · ${text}`;
      same.wrapped.push(...wrapped);
    } else out.push({ value: l.value, kinds: [l.kind], text, wrapped });
  }
  return out;
}

/** One chart: series (lines or bars), an optional band and status strip, a dashed line per guide level, axes, labels that never overlap. */
export function lineChart(spec: ChartSpec): string {
  const values = [...spec.series.flatMap((s) => s.values), ...(spec.band ? [...spec.band.lower, ...spec.band.upper] : [])].filter(finite);
  const lineValues = spec.lines.map((l) => l.value);
  const hiV = Math.max(0, ...values, ...lineValues);
  const loV = spec.allowNegative ? Math.min(0, ...values, ...lineValues) : 0;
  const step = niceStep((hiV * 1.1 - loV * 1.1) / 4);
  const top = Math.max(step, Math.ceil((hiV * 1.1) / step) * step);
  const bottom = loV < 0 ? Math.floor((loV * 1.1) / step) * step : 0;
  const merged = mergeLines(spec.lines);
  const M = { left: 52, right: Math.max(16, 10 + Math.max(0, ...merged.flatMap((m) => m.wrapped.map((w) => w.text.length))) * CHAR_W), top: 16, bottom: spec.xTitle ? 62 : 48 };
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const n = spec.categories.length;
  const bars = spec.style === "bar";
  const x = (i: number) => (bars ? M.left + ((i + 0.5) * plotW) / Math.max(n, 1) : M.left + (n <= 1 ? plotW / 2 : (i * plotW) / (n - 1)));
  const y = (v: number) => M.top + plotH - ((Math.min(Math.max(v, bottom), top) - bottom) / (top - bottom)) * plotH;
  const out: string[] = [];
  out.push(
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" preserveAspectRatio="xMidYMid meet" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<rect class="plot" x="${M.left}" y="${M.top}" width="${num(plotW)}" height="${plotH}"/>`,
  );
  for (let v = bottom; v <= top + step / 1000; v += step) {
    out.push(
      `<line class="grid" x1="${M.left}" x2="${num(M.left + plotW)}" y1="${num(y(v))}" y2="${num(y(v))}"/>`,
      `<text class="tick" x="${M.left - 6}" y="${num(y(v)) + 4}" text-anchor="end">${escapeXml(fmt(num(v), spec.unit))}</text>`,
    );
  }
  // At most about 8 category labels, evenly spaced, the last one always.
  const every = Math.max(1, Math.ceil(n / 8));
  spec.categories.forEach((c, i) => {
    if (i % every !== 0 && i !== n - 1) return;
    if (i !== n - 1 && n - 1 - i < every && i !== 0) return;
    out.push(`<text class="category" x="${num(x(i))}" y="${M.top + plotH + 26}" text-anchor="middle">${escapeXml(c)}</text>`);
  });
  if (spec.xTitle) out.push(`<text class="axis-title" x="${num(M.left + plotW / 2)}" y="${M.top + plotH + 42}" text-anchor="middle">${escapeXml(spec.xTitle)}</text>`);
  if (spec.marks) {
    const w = n <= 1 ? plotW : plotW / (bars ? n : n - 1);
    spec.marks.forEach((m, i) => {
      const x0 = bars || n <= 1 ? x(i) - w / 2 : i === 0 ? x(0) : x(i) - w / 2;
      const x1 = bars || n <= 1 ? x(i) + w / 2 : i === n - 1 ? x(i) : x(i) + w / 2;
      out.push(`<rect class="mark mark-${cls(m)}" x="${num(x0)}" y="${M.top + plotH + 3}" width="${num(Math.max(0, x1 - x0))}" height="8"><title>${escapeXml(`${spec.categories[i] ?? ""}: ${m}`)}</title></rect>`);
    });
  }
  if (spec.band) {
    const b = spec.band;
    const idx = spec.categories.map((_, i) => i).filter((i) => finite(b.lower[i]) && finite(b.upper[i]));
    if (idx.length > 0) {
      const up = idx.map((i) => `${num(x(i))},${num(y(b.upper[i] as number))}`);
      const down = idx.reverse().map((i) => `${num(x(i))},${num(y(b.lower[i] as number))}`);
      out.push(`<polygon class="band" points="${[...up, ...down].join(" ")}"><title>${escapeXml(b.name)}</title></polygon>`);
    }
  }
  const ys = spreadLabels(merged.map((m) => y(m.value) + 4), 13, M.top + 8, M.top + plotH + 4, merged.map((m) => m.wrapped.length));
  merged.forEach((m, k) => {
    const ly = num(y(m.value));
    const kind = m.kinds.includes("critical") ? "critical" : m.kinds[m.kinds.length - 1];
    out.push(`<g class="guide-line guide-${cls(kind)}" data-kind="${escapeXml(m.kinds.join(" "))}" data-value="${num(m.value)}">`);
    for (const l of m.kinds) out.push(`<line class="guide-${cls(l)}" data-kind="${escapeXml(l)}" x1="${M.left}" x2="${num(M.left + plotW)}" y1="${ly}" y2="${ly}"/>`);
    const tx = num(M.left + plotW + 6);
    // Each line in its own level's colour (a merged label: "target 0" green, "critical > 0" red).
    const lines = m.wrapped.map((w, j) => `<tspan class="label-${cls(w.kind)}" x="${tx}" dy="${j === 0 ? 0 : 13}">${escapeXml(w.text)}</tspan>`).join("");
    out.push(`<text x="${tx}" y="${num(ys[k])}" aria-label="${escapeXml(m.text)}">${lines}</text>`, `</g>`);
  });
  const ns = Math.max(spec.series.length, 1);
  spec.series.forEach((s, j) => {
    out.push(`<g class="series series-${cls(s.key)}" data-series="${escapeXml(s.name)}">`);
    if (bars) {
      const slot = (plotW / Math.max(n, 1)) * 0.8;
      const bw = slot / ns;
      s.values.forEach((v, i) => {
        if (!finite(v)) return;
        const bx = x(i) - slot / 2 + j * bw;
        out.push(`<rect x="${num(bx)}" y="${num(y(v))}" width="${num(Math.max(bw - 1, 1))}" height="${num(y(0) - y(v))}" data-value="${num(v)}"><title>${escapeXml(`${s.name}, ${spec.categories[i] ?? ""}: ${fmt(num(v), spec.unit)}`)}</title></rect>`);
      });
    } else {
      // Break the line where a category has no value.
      let run: string[] = [];
      const flush = () => {
        if (run.length > 1) out.push(`<polyline points="${run.join(" ")}"/>`);
        run = [];
      };
      s.values.forEach((v, i) => (finite(v) ? run.push(`${num(x(i))},${num(y(v))}`) : flush()));
      flush();
      const r = n > 12 ? 2.5 : 4;
      s.values.forEach((v, i) => {
        if (!finite(v)) return;
        out.push(`<circle cx="${num(x(i))}" cy="${num(y(v))}" r="${r}" data-value="${num(v)}"><title>${escapeXml(`${s.name}, ${spec.categories[i] ?? ""}: ${fmt(num(v), spec.unit)}`)}</title></circle>`);
      });
    }
    out.push(`</g>`);
  });
  // Breaches last, on top: the point in the critical colour, and the criterion named beside it.
  for (const s of spec.series) {
    s.breaches?.forEach((b, i) => {
      const v = s.values[i];
      if (b === null || b === undefined || !finite(v)) return;
      const px = num(x(i));
      const py = num(y(v));
      const right = x(i) > M.left + plotW / 2;
      // The first criterion named on the chart (wrapped, inside the plot), every one in the tooltip and data-criterion.
      const names = b.split("; ");
      const first = names[0].replace(/\s*\([^)]*\)\s*$/, "");
      const wrapped = wrapLabel(`breach: ${first}${names.length > 1 ? ` (+${names.length - 1} more)` : ""}`, 36);
      const tx = num(right ? px - 10 : px + 10);
      const ty = num(Math.min(Math.max(M.top + 12, py - 8 - 13 * (wrapped.length - 1)), M.top + plotH - 13 * wrapped.length));
      out.push(
        `<g class="breach" data-series="${escapeXml(s.name)}" data-category="${escapeXml(spec.categories[i] ?? "")}" data-criterion="${escapeXml(b)}">`,
        `<circle cx="${px}" cy="${py}" r="6"/>`,
        `<text x="${tx}" y="${ty}" text-anchor="${right ? "end" : "start"}">${wrapped.map((w, j) => `<tspan x="${tx}" dy="${j === 0 ? 0 : 13}">${escapeXml(w)}</tspan>`).join("")}</text>`,
        `<title>${escapeXml(`${s.name}, ${spec.categories[i] ?? ""}: ${fmt(num(v), spec.unit)} — breach: ${b}`)}</title>`,
        `</g>`,
      );
    });
  }
  // Legend
  const legend: Array<{ key: string; name: string }> = [...spec.series.map((s) => ({ key: `series-${cls(s.key)}`, name: s.name })), ...(spec.band ? [{ key: "band-key", name: spec.band.name }] : [])];
  let lx = M.left;
  for (const l of legend) {
    const ly = H - 6;
    out.push(`<g class="legend ${l.key}"><line x1="${num(lx)}" x2="${num(lx + 18)}" y1="${ly - 4}" y2="${ly - 4}"/><text x="${num(lx + 22)}" y="${ly}">${escapeXml(l.name)}</text></g>`);
    lx += 34 + l.name.length * CHAR_W;
  }
  out.push(`</svg>`);
  return out.join("\n");
}
