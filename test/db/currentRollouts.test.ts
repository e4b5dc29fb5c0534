/**
 * The deployed rollout state per stack (sql/0032, issue 24): each stack's
 * newest rollout record, ties broken by id as rollout_history orders them, a
 * record after `as_of` ignored; and the exporter's query over it, exactly as
 * rendered, with the values it turns into gauges.
 */
import { strict as assert } from "node:assert";
import { Client } from "pg";
import { CURRENT_ROLLOUTS_FUNCTION, ROLLOUT_COLUMNS, ROLLOUT_QUERY } from "../../core/alerts";
import { migratedDatabase } from "./dbHelpers";

const T = "2026-01-01T00:00:00Z";

/** A record for `stack` at T + `min` minutes. */
async function record(c: Client, stack: string, min: number, from: number | null, to: number, stateless: boolean, safeJson: boolean): Promise<void> {
  await c.query(
    `INSERT INTO monitoring.rollout_events (stack, from_stage, to_stage, enable_stateless_orchestration, enable_safe_json_parser, created_at)
     VALUES ($1, $2, $3, $4, $5, $6::timestamptz + make_interval(mins => $7::int))`,
    [stack, from, to, stateless, safeJson, T, min],
  );
}

interface Row {
  stack: string;
  canary_percentage: string;
  enable_stateless_orchestration: boolean;
  enable_safe_json_parser: boolean;
  recorded_at: Date;
}

describe("[pg] monitoring.current_rollouts: the deployed stage and flags per stack (sql/0032)", function () {
  this.timeout(60_000);
  let c: Client;

  before(async () => {
    c = (await migratedDatabase()).client;
  });
  after(async () => c?.end());

  it("no record: no row (the exporter then emits no rollout series)", async () => {
    assert.deepEqual((await c.query(`SELECT * FROM ${CURRENT_ROLLOUTS_FUNCTION}()`)).rows, []);
  });

  it("one row per stack, its newest record; equal times go to the later id; as_of ignores later records", async () => {
    await record(c, "prod", 0, null, 0, false, false);
    await record(c, "prod", 60, 0, 10, true, true);
    await record(c, "prod", 120, 10, 25, true, true);
    // An immediate rollback: flags off, percentage kept.
    await record(c, "staging", 30, null, 50, true, true);
    await record(c, "staging", 90, 50, 50, false, false);
    // Two records at the same instant: the later insert (higher id) is the deployed one.
    await record(c, "dev", 10, null, 75, true, false);
    await record(c, "dev", 10, 75, 100, true, true);
    const rows = (await c.query<Row>(`SELECT * FROM ${CURRENT_ROLLOUTS_FUNCTION}() ORDER BY stack`)).rows;
    assert.deepEqual(
      rows.map((r) => [r.stack, Number(r.canary_percentage), r.enable_stateless_orchestration, r.enable_safe_json_parser, (r.recorded_at.getTime() - Date.parse(T)) / 60_000]),
      [
        ["dev", 100, true, true, 10],
        ["prod", 25, true, true, 120],
        ["staging", 50, false, false, 90],
      ],
    );
    const asOf = (await c.query<Row>(`SELECT * FROM ${CURRENT_ROLLOUTS_FUNCTION}($1::timestamptz + interval '61 minutes') ORDER BY stack`, [T])).rows;
    assert.deepEqual(
      asOf.map((r) => [r.stack, Number(r.canary_percentage)]),
      [
        ["dev", 100],
        ["prod", 10],
        ["staging", 50],
      ],
    );
  });

  it("the exporter's query, as rendered: numbers for every gauge (flags 1/0, the time in Unix seconds), the stack as a string label", async () => {
    const rows = (await c.query<Record<string, unknown>>(`${ROLLOUT_QUERY.query} ORDER BY stack`)).rows;
    assert.deepEqual(rows, [
      {
        stack: "dev",
        [ROLLOUT_COLUMNS.canaryPercentage]: 100,
        [ROLLOUT_COLUMNS.statelessOrchestration]: 1,
        [ROLLOUT_COLUMNS.safeJsonParser]: 1,
        [ROLLOUT_COLUMNS.recordedAt]: Date.parse(T) / 1000 + 600,
      },
      {
        stack: "prod",
        [ROLLOUT_COLUMNS.canaryPercentage]: 25,
        [ROLLOUT_COLUMNS.statelessOrchestration]: 1,
        [ROLLOUT_COLUMNS.safeJsonParser]: 1,
        [ROLLOUT_COLUMNS.recordedAt]: Date.parse(T) / 1000 + 7200,
      },
      {
        stack: "staging",
        [ROLLOUT_COLUMNS.canaryPercentage]: 50,
        [ROLLOUT_COLUMNS.statelessOrchestration]: 0,
        [ROLLOUT_COLUMNS.safeJsonParser]: 0,
        [ROLLOUT_COLUMNS.recordedAt]: Date.parse(T) / 1000 + 5400,
      },
    ]);
  });

  it("is STABLE, SECURITY DEFINER, with its own search_path and lock_timeout (the monitoring functions' rules)", async () => {
    const r = await c.query<{ provolatile: string; prosecdef: boolean; proconfig: string[] }>(
      `SELECT p.provolatile, p.prosecdef, p.proconfig FROM pg_proc p WHERE p.oid = $1::regprocedure`,
      [`${CURRENT_ROLLOUTS_FUNCTION}(timestamptz)`],
    );
    assert.equal(r.rows[0].provolatile, "s");
    assert.equal(r.rows[0].prosecdef, true);
    assert.deepEqual([...r.rows[0].proconfig].sort(), ["lock_timeout=5s", "search_path=pg_catalog, pg_temp"]);
  });
});
