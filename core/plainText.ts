/** Plain-text building blocks of the CLI's and the report's output: a number with two decimals, a percentage, padding, an aligned table. Pure. */

/** A number with two decimals and its unit; `missing` for null, undefined and non-finite values. */
export const n2 = (v: number | null | undefined, unit = "", missing = "-") => (v === null || v === undefined || !Number.isFinite(v) ? missing : `${v.toFixed(2)}${unit}`);
/** `part` of `whole` as a percentage with two decimals ("2.50%"); the caller words an empty whole. */
export const percentOf = (part: number, whole: number) => `${((100 * part) / whole).toFixed(2)}%`;
export const pad = (s: string, w: number) => (s.length >= w ? s : s + " ".repeat(w - s.length));

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => pad(c, widths[i])).join("  ").trimEnd()).join("\n") + "\n";
}


/** A time to the minute, in UTC, for the short text: "2026-12-01 06:00 UTC" (the JSON keeps full ISO times). */
export const shortTime = (d: Date) => `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;

/** A later time of the same day without its date ("12:00 UTC"), else in full: the end of a window after its start. */
export const shortTimeAfter = (d: Date, start: Date) =>
  d.toISOString().slice(0, 10) === start.toISOString().slice(0, 10) ? `${d.toISOString().slice(11, 16)} UTC` : shortTime(d);

/** A count with thousands separators ("12,345"), the same whatever the machine's locale. */
export const count = (n: number) => (Number.isInteger(n) ? String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",") : String(n));
