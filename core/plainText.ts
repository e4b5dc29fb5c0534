/** Plain-text building blocks of the CLI's output: a number with two decimals, padding, an aligned table. Pure. */

export const n2 = (v: number | null | undefined, unit = "") => (v === null || v === undefined ? "-" : `${v.toFixed(2)}${unit}`);
export const pad = (s: string, w: number) => (s.length >= w ? s : s + " ".repeat(w - s.length));

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => pad(c, widths[i])).join("  ").trimEnd()).join("\n") + "\n";
}

