/**
 * The declared `postgresql.Role` and `postgresql.Grant` resources applied to a
 * real PostgreSQL the way the provider (terraform-provider-postgresql) applies
 * their inputs, for the harness (test/support/stack.ts) and the [pg] tests:
 * a role's attributes, password and memberships (`roles`, `inherit`), a grant
 * with core/grants.ts's statements. Every statement is built by PostgreSQL's
 * format() from parameters (%I, %L), never by pasting a value into SQL.
 *
 * A change from one evaluation to the next (applyDatabaseChanges) follows the
 * order `pulumi up` gives it: roles created or updated in place (a group before
 * the roles that join it), then new or replaced grants; what the new
 * evaluation no longer declares (a replaced grant's old version, a removed
 * role) is returned as `pending` and deleted by the caller at the end, as the
 * engine deletes replaced and removed resources after every other step (after
 * the service has rolled).
 */
import { Client } from "pg";
import { GrantSpec, grantStatements } from "../../core/grants";
import type { EvaluatedResource, Evaluation } from "../../offline/evaluate";

export const ROLE = "postgresql:index/role:Role";
export const GRANT = "postgresql:index/grant:Grant";

interface RoleInputs {
  name: string;
  login?: boolean;
  password?: string;
  connectionLimit?: number;
  statementTimeout?: number;
  roles?: string[];
  inherit?: boolean;
}

interface GrantInputs {
  role: string;
  schema: string;
  objectType: GrantSpec["objectType"];
  objects?: string[];
  privileges: string[];
}

const roleInputs = (r: EvaluatedResource) => r.inputs as unknown as RoleInputs;

/** Run `template` after format() filled it from `args` (%I identifiers, %L literals, %s only for numbers and fixed keywords). */
async function formatted(admin: Client, template: string, args: Array<string | number | null>): Promise<void> {
  const casts = args.map((a, i) => `$${i + 2}::${typeof a === "number" ? "int" : "text"}`).join(", ");
  const r = await admin.query<{ sql: string }>(`SELECT format($1::text${casts ? `, ${casts}` : ""}) AS sql`, [template, ...args]);
  await admin.query(r.rows[0].sql);
}

async function setPassword(admin: Client, i: RoleInputs): Promise<void> {
  if (i.password === undefined) await formatted(admin, "ALTER ROLE %I PASSWORD NULL", [i.name]);
  else await formatted(admin, "ALTER ROLE %I PASSWORD %L", [i.name, i.password]);
}

async function setSettings(admin: Client, i: RoleInputs): Promise<void> {
  await formatted(admin, `ALTER ROLE %I WITH ${i.login ? "LOGIN" : "NOLOGIN"} ${i.inherit === false ? "NOINHERIT" : "INHERIT"} CONNECTION LIMIT %s`, [i.name, i.connectionLimit ?? -1]);
  if (i.statementTimeout) await formatted(admin, "ALTER ROLE %I SET statement_timeout = %s", [i.name, i.statementTimeout]);
  else await formatted(admin, "ALTER ROLE %I RESET statement_timeout", [i.name]);
}

/** Create one declared role: attributes, password, then its memberships (the groups must exist). */
export async function createRole(admin: Client, r: EvaluatedResource): Promise<void> {
  const i = roleInputs(r);
  await formatted(admin, "CREATE ROLE %I", [i.name]);
  await setSettings(admin, i);
  await setPassword(admin, i);
  for (const g of i.roles ?? []) await formatted(admin, "GRANT %I TO %I", [g, i.name]);
}

/** Update one declared role in place from `before` to `after`: what changed, in one transaction. */
export async function updateRole(admin: Client, before: EvaluatedResource, after: EvaluatedResource): Promise<string[]> {
  const b = roleInputs(before);
  const a = roleInputs(after);
  if (a.name !== b.name) throw new Error(`${after.name}: a role's new name replaces it (not emulated here)`);
  const changed: string[] = [];
  await admin.query("BEGIN");
  try {
    // The provider's defaults: an input left out is its default, not a change.
    const settings = (x: RoleInputs) => [x.login ?? false, x.inherit ?? true, x.connectionLimit ?? -1, x.statementTimeout ?? 0].join(" ");
    if (settings(a) !== settings(b)) {
      await setSettings(admin, a);
      changed.push("settings");
    }
    if (a.password !== b.password) {
      await setPassword(admin, a);
      changed.push("password");
    }
    const was = new Set(b.roles ?? []);
    const now = new Set(a.roles ?? []);
    for (const g of now) if (!was.has(g)) await formatted(admin, "GRANT %I TO %I", [g, a.name]);
    for (const g of was) if (!now.has(g)) await formatted(admin, "REVOKE %I FROM %I", [g, a.name]);
    if ([...now].some((g) => !was.has(g)) || [...was].some((g) => !now.has(g))) changed.push("roles");
    await admin.query("COMMIT");
  } catch (e) {
    await admin.query("ROLLBACK");
    throw e;
  }
  return changed;
}

function grantSpec(r: EvaluatedResource): { role: string; spec: GrantSpec } {
  const i = r.inputs as unknown as GrantInputs;
  return { role: i.role, spec: { key: r.name, schema: i.schema, objectType: i.objectType, objects: i.objects, privileges: i.privileges } };
}

/** Apply one declared grant with the statements core/grants.ts defines for it (revoke, then grant, in one transaction). */
export async function applyGrant(admin: Client, r: EvaluatedResource): Promise<void> {
  const { role, spec } = grantSpec(r);
  await admin.query("BEGIN");
  try {
    for (const sql of grantStatements(role, spec)) await admin.query(sql);
    await admin.query("COMMIT");
  } catch (e) {
    await admin.query("ROLLBACK");
    throw e;
  }
}

/** Delete one grant as the provider does: revoke what it granted. */
export async function revokeGrant(admin: Client, r: EvaluatedResource): Promise<void> {
  const { role, spec } = grantSpec(r);
  await admin.query(grantStatements(role, spec)[0]);
}

/** The declared roles, groups (no `roles` of their own) first: a member's GRANT needs its group. */
function rolesOf(ev: Evaluation): EvaluatedResource[] {
  const roles = ev.resources.filter((r) => r.type === ROLE);
  return [...roles.filter((r) => (roleInputs(r).roles ?? []).length === 0), ...roles.filter((r) => (roleInputs(r).roles ?? []).length > 0)];
}

/** Start from nothing: every declared role, then every declared grant. */
export async function createDeclared(admin: Client, ev: Evaluation): Promise<void> {
  for (const r of rolesOf(ev)) await createRole(admin, r);
  for (const r of ev.resources.filter((x) => x.type === GRANT)) await applyGrant(admin, r);
}

/** What one change did, and what is left for the end of the update. */
export interface DatabaseChange {
  /** "<resource>: created" / "<resource>: password, roles" / "<grant>: replaced", in the order applied. */
  steps: string[];
  /** The deletes the engine runs last: apply them with `finish(admin)`. */
  pending: string[];
  finish: (admin: Client) => Promise<void>;
}

const sameInputs = (a: EvaluatedResource, b: EvaluatedResource) => JSON.stringify(a.inputs) === JSON.stringify(b.inputs);

/** The declared roles' and grants' change from `current` to `next`, as `pulumi up` orders it (see the header). */
export async function applyDatabaseChanges(admin: Client, current: Evaluation, next: Evaluation): Promise<DatabaseChange> {
  const byName = (ev: Evaluation, type: string) => new Map(ev.resources.filter((r) => r.type === type).map((r) => [r.name, r]));
  const oldRoles = byName(current, ROLE);
  const oldGrants = byName(current, GRANT);
  const newGrants = byName(next, GRANT);
  const steps: string[] = [];
  for (const r of rolesOf(next)) {
    const was = oldRoles.get(r.name);
    if (!was) {
      await createRole(admin, r);
      steps.push(`${r.name}: created`);
    } else if (!sameInputs(was, r)) {
      steps.push(`${r.name}: ${(await updateRole(admin, was, r)).join(", ")}`);
    }
  }
  const stale: EvaluatedResource[] = [];
  for (const [name, g] of newGrants) {
    const was = oldGrants.get(name);
    if (was && sameInputs(was, g)) continue;
    await applyGrant(admin, g);
    steps.push(`${name}: ${was ? "replaced" : "created"}`);
    if (was) stale.push(was);
  }
  for (const [name, g] of oldGrants) if (!newGrants.has(name)) stale.push(g);
  const gone = [...oldRoles.values()].filter((r) => !next.resources.some((x) => x.type === ROLE && x.name === r.name));
  const pending = [...stale.map((g) => `${g.name}: deleted`), ...gone.map((r) => `${r.name}: deleted`)];
  return {
    steps,
    pending,
    finish: async (a: Client) => {
      for (const g of stale) await revokeGrant(a, g);
      for (const r of gone) await formatted(a, "DROP ROLE %I", [roleInputs(r).name]);
    },
  };
}
