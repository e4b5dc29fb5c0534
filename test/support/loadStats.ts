/**
 * What the load generator (test/support/load.ts) recorded, summarised: the
 * requests in a time window, the failed ones (non-2xx, socket errors,
 * timeouts), latency percentiles, and when a change took effect by the
 * reference app's rollout header. Pure: no I/O, no clock.
 */

/** One request: times in ms from the load's start; status 0 for a socket error or a timeout. */
export interface Sample {
  /** The session id the request sent (one per request), so its agent_sessions row can be found. */
  sessionId: string;
  startMs: number;
  endMs: number;
  status: number;
  /** The replica that answered (the reference app's replica header). */
  replica: string | undefined;
  /** Both flags on at the replica that answered (its rollout header); undefined without a header. */
  flagsOn: boolean | undefined;
  /** The CANARY_PERCENTAGE the answering replica runs with. */
  canaryPercentage: number | undefined;
  error: string | undefined;
}

export const isOk = (s: Sample) => s.status >= 200 && s.status <= 299;

/** Samples whose request started in [fromMs, toMs). */
export function within(samples: readonly Sample[], fromMs: number, toMs: number): Sample[] {
  return samples.filter((s) => s.startMs >= fromMs && s.startMs < toMs);
}

/** The q-th quantile (0..1) of `values`, nearest rank; 0 for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

export interface WindowStats {
  requests: number;
  failed: number;
  ok: number;
  p50Ms: number;
  p99Ms: number;
  /** The first few failures, for a test's message. */
  failures: string[];
}

export function windowStats(samples: readonly Sample[]): WindowStats {
  const failed = samples.filter((s) => !isOk(s));
  const lat = samples.map((s) => s.endMs - s.startMs);
  return {
    requests: samples.length,
    failed: failed.length,
    ok: samples.length - failed.length,
    p50Ms: round1(quantile(lat, 0.5)),
    p99Ms: round1(quantile(lat, 0.99)),
    failures: failed.slice(0, 5).map((s) => `${s.status || "no response"} at ${Math.round(s.startMs)} ms${s.error ? ` (${s.error})` : ""}`),
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Seconds from `fromMs` until no request reaches a replica matching `old` any more: the end of the
 * last answer from such a replica (0 when none answered after `fromMs`).
 */
export function secondsUntilNone(samples: readonly Sample[], fromMs: number, old: (s: Sample) => boolean): number {
  let last = fromMs;
  for (const s of samples) if (s.startMs >= fromMs && old(s) && s.endMs > last) last = s.endMs;
  return Math.round((last - fromMs) / 10) / 100;
}

export interface RowCheck {
  /** 2xx responses. */
  ok: number;
  /** 2xx responses whose session has exactly one row. */
  okWithOneRow: number;
  /** 2xx responses whose session has no row. */
  okWithoutRow: number;
  /** Sessions with more than one row: a request written twice (a retry). */
  writtenTwice: number;
  /** Rows of requests that did not get a 2xx (a write the database completed after the app gave up on it). */
  rowsOfFailed: number;
  /** Rows of no request the load sent. */
  unknownRows: number;
}

/** Each request's rows (by session id) against its response: one row per 2xx, none written twice. */
export function checkRows(samples: readonly Sample[], rowsBySession: ReadonlyMap<string, number>): RowCheck {
  const sent = new Set<string>();
  const r: RowCheck = { ok: 0, okWithOneRow: 0, okWithoutRow: 0, writtenTwice: 0, rowsOfFailed: 0, unknownRows: 0 };
  for (const s of samples) {
    sent.add(s.sessionId);
    const n = rowsBySession.get(s.sessionId) ?? 0;
    if (n > 1) r.writtenTwice++;
    if (isOk(s)) {
      r.ok++;
      if (n === 1) r.okWithOneRow++;
      if (n === 0) r.okWithoutRow++;
    } else r.rowsOfFailed += n;
  }
  for (const [id, n] of rowsBySession) if (!sent.has(id)) r.unknownRows += n;
  return r;
}
