/**
 * Inline SVG charts for the rollout report: one value per stage and series,
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
}

export interface ChartLine {
  kind: string;
  value: number;
  label: string;
}

export interface ChartSpec {
  title: string;
  unit: string;
  categories: string[];
  series: ChartSeries[];
  lines: ChartLine[];
}

const W = 520;
const H = 240;
const M = { left: 48, right: 110, top: 16, bottom: 40 };

/** A round upper bound for the y axis that leaves room above the highest value or line. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

const num = (v: number) => (Number.isFinite(v) ? Number(v.toFixed(2)) : 0);
const cls = (s: string) => s.replace(/[^a-z]/gi, "");
const fmt = (v: number, unit: string) => `${Number.isInteger(v) ? v : v.toFixed(2)}${unit}`;

/** One chart: a polyline and points per series, a dashed line per guide level, axes and labels. */
export function lineChart(spec: ChartSpec): string {
  const values = spec.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const top = niceMax(Math.max(0, ...values, ...spec.lines.map((l) => l.value)) * 1.1);
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const n = spec.categories.length;
  const x = (i: number) => M.left + (n <= 1 ? plotW / 2 : (i * plotW) / (n - 1));
  const y = (v: number) => M.top + plotH - (Math.min(Math.max(v, 0), top) / top) * plotH;
  const out: string[] = [];
  out.push(
    `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<title>${escapeXml(spec.title)}</title>`,
    `<rect class="plot" x="${M.left}" y="${M.top}" width="${plotW}" height="${plotH}"/>`,
  );
  for (let k = 0; k <= 4; k++) {
    const v = (top * k) / 4;
    out.push(
      `<line class="grid" x1="${M.left}" x2="${M.left + plotW}" y1="${num(y(v))}" y2="${num(y(v))}"/>`,
      `<text class="tick" x="${M.left - 6}" y="${num(y(v)) + 4}" text-anchor="end">${escapeXml(fmt(num(v), spec.unit))}</text>`,
    );
  }
  spec.categories.forEach((c, i) => {
    out.push(`<text class="category" x="${num(x(i))}" y="${H - M.bottom + 16}" text-anchor="middle">${escapeXml(c)}</text>`);
  });
  const labelYs: number[] = [];
  for (const l of spec.lines) {
    const ly = num(y(l.value));
    // Lines at (nearly) the same level: stack their labels instead of overprinting them.
    let ty = ly + 4;
    while (labelYs.some((u) => Math.abs(u - ty) < 12)) ty -= 12;
    labelYs.push(ty);
    out.push(
      `<g class="guide-line guide-${cls(l.kind)}" data-kind="${escapeXml(l.kind)}" data-value="${num(l.value)}">`,
      `<line x1="${M.left}" x2="${M.left + plotW}" y1="${ly}" y2="${ly}"/>`,
      `<text x="${M.left + plotW + 6}" y="${ty}">${escapeXml(`${l.kind} ${l.label}`)}</text>`,
      `</g>`,
    );
  }
  for (const s of spec.series) {
    const pts = s.values.map((v, i) => (v === null || !Number.isFinite(v) ? null : `${num(x(i))},${num(y(v))}`));
    out.push(`<g class="series series-${cls(s.key)}" data-series="${escapeXml(s.name)}">`);
    // Break the line where a stage has no value.
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) out.push(`<polyline points="${run.join(" ")}"/>`);
      run = [];
    };
    for (const p of pts) {
      if (p === null) flush();
      else run.push(p);
    }
    flush();
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return;
      out.push(
        `<circle cx="${num(x(i))}" cy="${num(y(v))}" r="4" data-value="${num(v)}"><title>${escapeXml(`${s.name}, ${spec.categories[i] ?? ""}: ${fmt(num(v), spec.unit)}`)}</title></circle>`,
      );
    });
    out.push(`</g>`);
  }
  // Legend
  spec.series.forEach((s, i) => {
    const ly = M.top + plotH + 30;
    const lx = M.left + i * 110;
    out.push(
      `<g class="legend series-${cls(s.key)}"><line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}"/><text x="${lx + 22}" y="${ly}">${escapeXml(s.name)}</text></g>`,
    );
  });
  out.push(`</svg>`);
  return out.join("\n");
}
