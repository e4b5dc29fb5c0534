/**
 * Go durations in the docker provider's normal form. Pure: no I/O.
 *
 * The docker provider (5.2.0, issue 22 fact 1) reads every duration of a
 * service back with upstream's `shortDur`: Go's `time.Duration.String()`, then
 * the `0s` of an `m0s` ending and the `0m` of an `h0m` ending dropped. So
 * `60s` comes back as `1m`, `90s` as `1m30s`, `3600s` as `1h`, while `0s`,
 * `10s` and `500ms` stay as they are. A duration declared in any other
 * spelling differs from what the provider reads back: every preview shows a
 * change and every `up` updates the service. Every duration the program
 * declares for the service goes through `goShortDuration` (or is written in
 * its result's form), and the offline plan compares through it too.
 */

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  "µs": 1_000n,
  "μs": 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go's time.Duration range: int64 nanoseconds. */
const MAX_NS = (1n << 63n) - 1n;

export class GoDurationError extends Error {
  constructor(readonly value: string) {
    super(`duration ${JSON.stringify(value)}: expected a Go duration such as 10s, 1m30s, 500ms or 1h (units ns, us, ms, s, m, h; a number before each)`);
    this.name = "GoDurationError";
  }
}

/** Nanoseconds of a Go duration (`time.ParseDuration`'s grammar: optional sign, then number-unit pairs; "0" alone). */
export function parseGoDuration(text: string): bigint {
  let s = text;
  let neg = false;
  if (s.startsWith("-") || s.startsWith("+")) {
    neg = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") throw new GoDurationError(text);
  const re = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  let total = 0n;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) throw new GoDurationError(text);
    const unit = UNIT_NS[m[3]];
    const whole = BigInt(m[1] === "" ? "0" : m[1]) * unit;
    const frac = m[2] ?? "";
    // Go truncates the fractional part to whole nanoseconds.
    const fracNs = frac === "" ? 0n : (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += whole + fracNs;
    if (total > MAX_NS + (neg ? 1n : 0n)) throw new GoDurationError(text);
    s = s.slice(m[0].length);
  }
  return neg ? -total : total;
}

/** `digits` nanosecond-scaled units as Go prints them: `frac` fractional digits, trailing zeros (and a lone dot) dropped. */
function fixed(v: bigint, fracDigits: number): string {
  const scale = 10n ** BigInt(fracDigits);
  const whole = v / scale;
  let frac = (v % scale).toString().padStart(fracDigits, "0").replace(/0+$/, "");
  if (fracDigits === 0) frac = "";
  return frac === "" ? whole.toString() : `${whole}.${frac}`;
}

/** Go's `time.Duration.String()` of `ns` nanoseconds. */
export function goDurationString(ns: bigint): string {
  if (ns === 0n) return "0s";
  const neg = ns < 0n;
  const u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u < 1_000n) out = `${u}ns`;
    else if (u < 1_000_000n) out = `${fixed(u, 3)}µs`;
    else out = `${fixed(u, 6)}ms`;
  } else {
    const h = u / UNIT_NS.h;
    const m = (u % UNIT_NS.h) / UNIT_NS.m;
    const sec = fixed(u % UNIT_NS.m, 9);
    out = h > 0n ? `${h}h${m}m${sec}s` : m > 0n ? `${m}m${sec}s` : `${sec}s`;
  }
  return neg ? `-${out}` : out;
}

/** The provider's read-back form (upstream `shortDur`) of a Go duration: `60s` → `1m`, `3600s` → `1h`, `90s` → `1m30s`. */
export function goShortDuration(text: string): string {
  let s = goDurationString(parseGoDuration(text));
  if (s.endsWith("m0s")) s = s.slice(0, -2);
  if (s.endsWith("h0m")) s = s.slice(0, -2);
  return s;
}

/** Whole seconds in the provider's read-back form: `seconds(30)` is `30s`, `seconds(60)` is `1m`. */
export function goShortSeconds(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw new Error(`seconds ${seconds}: expected a whole number of seconds, 0 or more`);
  return goShortDuration(`${seconds}s`);
}

/** Whether `text` is already in the provider's read-back form (a preview after `up` shows no change for it). */
export function isGoShortDuration(text: string): boolean {
  try {
    return goShortDuration(text) === text;
  } catch {
    return false;
  }
}
