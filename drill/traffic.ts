/**
 * Simulated agent traffic for the drill: sticky users bucketed into the new
 * path by the canary percentage, with legacy and new error and latency
 * profiles. Deterministic for a seed; time comes from the caller (a simulated
 * clock), never from this machine's.
 */
import type { ClientBase } from "pg";
import { onNewPath } from "../core/bucketing";

// The sticky bucketing lives in its own pure module, shared with the reference app.
export { onNewPath, userBucket } from "../core/bucketing";

/** A seeded PRNG (mulberry32): the same seed gives the same drill. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A path's behaviour: error probability per request, and a log-normal duration. */
export interface PathProfile {
  errorRate: number;
  /** Median request duration, seconds. */
  medianSeconds: number;
  /** Log-normal shape: p95 = median · e^(1.645·sigma). */
  sigma: number;
  errorMessages: readonly string[];
}

/** Realistic defaults: legacy ~1.2 % errors, p95 ~2.5 s; new ~0.5 % errors, p95 ~1.5 s. */
export const LEGACY_PROFILE: PathProfile = {
  errorRate: 0.012,
  medianSeconds: 1.1,
  sigma: 0.5,
  errorMessages: ["JSON parse error in agent response", "workflow state conflict", "upstream timeout"],
};

export const NEW_PROFILE: PathProfile = {
  errorRate: 0.005,
  medianSeconds: 0.75,
  sigma: 0.42,
  errorMessages: ["upstream timeout", "tool call rejected"],
};

export interface TrafficSpec {
  rng: () => number;
  users: readonly string[];
  /** Number of sessions; each has 1 to 3 requests (rows). */
  sessions: number;
  start: Date;
  end: Date;
  effectivePct: number;
  legacy: PathProfile;
  new: PathProfile;
  /** Unique prefix for session ids. */
  sessionPrefix: string;
}

export interface SessionRow {
  session_id: string;
  user_id: string;
  status: string;
  error_message: string | null;
  metadata: string;
  workflow_state: string;
  created_at: Date;
  updated_at: Date;
}

const WORKFLOW_STAGES = ["intake", "research", "drafting", "review"] as const;

function standardNormal(rng: () => number): number {
  // Box–Muller
  const u = Math.max(rng(), Number.EPSILON);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** Generate the rows of `spec.sessions` sessions spread uniformly over [start, end). */
export function generateTraffic(spec: TrafficSpec): SessionRow[] {
  const { rng } = spec;
  const span = spec.end.getTime() - spec.start.getTime();
  const rows: SessionRow[] = [];
  for (let s = 0; s < spec.sessions; s++) {
    const user = spec.users[Math.floor(rng() * spec.users.length)];
    const isNew = onNewPath(user, spec.effectivePct);
    const profile = isNew ? spec.new : spec.legacy;
    const requests = 1 + Math.floor(rng() * 3);
    const sessionId = `${spec.sessionPrefix}-${s}`;
    for (let r = 0; r < requests; r++) {
      const created = new Date(spec.start.getTime() + Math.floor(rng() * span));
      const seconds = profile.medianSeconds * Math.exp(profile.sigma * standardNormal(rng));
      const failed = rng() < profile.errorRate;
      // Legacy rows carry useStateless 'false' or no flag at all, as the app writes them.
      const metadata = isNew ? { useStateless: "true" } : rng() < 0.5 ? { useStateless: "false" } : {};
      rows.push({
        session_id: sessionId,
        user_id: user,
        status: failed ? "error" : "completed",
        error_message: failed ? profile.errorMessages[Math.floor(rng() * profile.errorMessages.length)] : null,
        metadata: JSON.stringify(metadata),
        workflow_state: JSON.stringify({ currentStage: WORKFLOW_STAGES[Math.floor(rng() * WORKFLOW_STAGES.length)] }),
        created_at: created,
        updated_at: new Date(created.getTime() + Math.round(seconds * 1000)),
      });
    }
  }
  return rows;
}

/** Insert rows in batches (one statement per batch, arrays unnested server-side). */
export async function insertSessions(c: ClientBase, rows: readonly SessionRow[], batch = 5000): Promise<void> {
  for (let i = 0; i < rows.length; i += batch) {
    const part = rows.slice(i, i + batch);
    await c.query(
      `insert into public.agent_sessions (session_id, user_id, status, error_message, metadata, workflow_state, created_at, updated_at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::timestamptz[], $8::timestamptz[])`,
      [
        part.map((r) => r.session_id),
        part.map((r) => r.user_id),
        part.map((r) => r.status),
        part.map((r) => r.error_message),
        part.map((r) => r.metadata),
        part.map((r) => r.workflow_state),
        part.map((r) => r.created_at),
        part.map((r) => r.updated_at),
      ],
    );
  }
}
