/**
 * The one writer of a `monitoring.rollout_events` row (migration 0008). The program's RolloutRecord
 * dynamic provider and the drill (through db/rolloutStore.ts insertEvent) both call it.
 *
 * Self-contained on purpose: it imports only pg's types. The SDK serializes the dynamic provider into
 * the state with what it captures, and captures this module by value; anything it imported would be
 * serialized with it.
 */
import type { ClientBase } from "pg";

/** The rollout records table (migration 0008); a local, so the serialized provider captures its value. */
const TABLE = "monitoring.rollout_events";
export { TABLE as ROLLOUT_EVENTS_TABLE };

/** One row: a stage change (fromStage null for a stack's first record) with the flags it runs with. */
export interface RolloutEventRow {
  stack: string;
  fromStage: number | null;
  toStage: number;
  enableStatelessOrchestration: boolean;
  enableSafeJsonParser: boolean;
  imageDigest?: string | null;
  gitCommit?: string | null;
  actor?: string | null;
  reason?: string | null;
  /** Defaults to the database's now(). */
  createdAt?: Date | null;
}

/** Insert the row (a parameterized statement) and return its id. */
export async function insertRolloutEvent(c: ClientBase, e: RolloutEventRow): Promise<string> {
  const r = await c.query<{ id: string }>(
    `insert into ${TABLE}
       (stack, from_stage, to_stage, enable_stateless_orchestration, enable_safe_json_parser, image_digest, git_commit, actor, reason, created_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce($10::timestamptz, now()))
     returning id`,
    [
      e.stack,
      e.fromStage,
      e.toStage,
      e.enableStatelessOrchestration,
      e.enableSafeJsonParser,
      e.imageDigest ?? null,
      e.gitCommit ?? null,
      e.actor ?? null,
      e.reason ?? null,
      e.createdAt ?? null,
    ],
  );
  return String(r.rows[0].id);
}
