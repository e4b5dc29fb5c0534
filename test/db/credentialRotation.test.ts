/**
 * The app's password rotation (issue 21 finding 5; core/appCredentials.ts, docs/database.md): which login role
 * the program declares for the app at each value of valuecanvas:appCredentialRotation, which password changes,
 * that the new URL waits for the new password, and (on a real PostgreSQL) that both login roles hold exactly the
 * app's privileges through the group, that an existing stack's upgrade and each rotation, applied in the order
 * `pulumi up` applies them, never leave a login without its privileges or a running task without its password.
 * The rotation under load through the edge proxy: test/stack/swarm-rollout.test.ts.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { Client } from "pg";
import { APP_LOGIN_ROLES, AppSlot, activeSlot, passwordKeepers, rotationChangeProblem, slotGeneration } from "../../core/appCredentials";
import { ROLE_GRANTS, ROLE_NAMES, ROLE_SETTINGS } from "../../core/grants";
import type { EvaluatedResource, Evaluation } from "../../offline/evaluate";
import { byType, declaredAppDatabaseUrl, evaluateStack } from "../support/program";
import { GRANT, ROLE, applyDatabaseChanges, createDeclared } from "../support/declaredRoles";
import { connectAs, migratedDatabase } from "./dbHelpers";

const PASSWORD = "random:index/randomPassword:RandomPassword";
const SECRET = "docker:index/secret:Secret";
const at = (rotation: number) => evaluateStack("dev", { sets: { appCredentialRotation: String(rotation) } });
const role = (ev: Evaluation, resource: string) => {
  const r = byType(ev, ROLE).find((x) => x.name === resource);
  assert.ok(r, `role resource ${resource} declared`);
  return r;
};
const SLOT_RESOURCE: Record<AppSlot, string> = { a: "database-app", b: "database-app-b" };
const passwordOf = (ev: Evaluation, slot: AppSlot) => String(role(ev, SLOT_RESOURCE[slot]).inputs.password);
const appUrl = declaredAppDatabaseUrl;

describe("app credential rotation: two login roles in turn (issue 21 finding 5)", function () {
  this.timeout(120_000);

  it("the rotation count's parity names the slot; each slot's password generation is the rotation that last made it active", () => {
    const table = [0, 1, 2, 3, 4].map((r) => [r, activeSlot(r), slotGeneration(r, "a"), slotGeneration(r, "b")]);
    assert.deepEqual(table, [
      [0, "a", undefined, undefined],
      [1, "b", undefined, 1],
      [2, "a", 2, 1],
      [3, "b", 2, 3],
      [4, "a", 4, 3],
    ]);
    assert.equal(passwordKeepers(0, "a"), undefined, "an existing stack's password keeps no keepers: unchanged by the upgrade");
    assert.deepEqual(passwordKeepers(3, "b"), { rotation: "3" });
    assert.throws(() => activeSlot(-1), /integer from 0 to 1000000, got -1/);
    assert.throws(() => activeSlot(1.5), /got 1\.5/);
  });

  it("only a raise by exactly one rotation is safe; any other change says which role the running tasks lose", () => {
    assert.equal(rotationChangeProblem(4, 4), undefined);
    assert.equal(rotationChangeProblem(4, 5), undefined);
    assert.match(rotationChangeProblem(1, 3) ?? "", /1 → 3: it gives valuecanvas_app_b, the role the running tasks use, a new password before they are replaced; raise it by exactly 1/);
    assert.match(rotationChangeProblem(3, 2) ?? "", /3 → 2: it gives valuecanvas_app_b, the role the running tasks use/);
    assert.match(rotationChangeProblem(1, 0) ?? "", /1 → 0: it gives valuecanvas_app_b, the role the running tasks use/);
    assert.match(rotationChangeProblem(0, 2) ?? "", /0 → 2: it gives valuecanvas_app, the role the running tasks use/);
    // Why: every change but +1 renews the generation of the slot in use.
    for (let from = 0; from < 6; from++) {
      for (let to = 0; to < 8; to++) {
        const renewsInUse = slotGeneration(from, activeSlot(from)) !== slotGeneration(to, activeSlot(from));
        assert.equal(rotationChangeProblem(from, to) !== undefined, renewsInUse, `${from} → ${to}`);
      }
    }
  });

  it("declares a NOLOGIN group holding the app's grants and two login roles that inherit it, each with the app's settings", async () => {
    const ev = await at(0);
    const group = role(ev, "database-app-group");
    assert.deepEqual(group.inputs, { name: ROLE_NAMES.app, login: false });
    for (const slot of ["a", "b"] as const) {
      const r = role(ev, SLOT_RESOURCE[slot]);
      assert.equal(r.inputs.name, APP_LOGIN_ROLES[slot]);
      assert.equal(r.inputs.login, true);
      assert.deepEqual(r.inputs.roles, [ROLE_NAMES.app]);
      assert.equal(r.inputs.inherit, true);
      assert.equal(r.inputs.connectionLimit, ROLE_SETTINGS.app.connectionLimit, "settings are per login role: a group's are not inherited");
      assert.equal(r.inputs.statementTimeout, ROLE_SETTINGS.app.statementTimeoutMs > 0 ? ROLE_SETTINGS.app.statementTimeoutMs : undefined);
      assert.ok(r.secretInputs.includes("password"));
    }
    const appGrants = byType(ev, GRANT).filter((g) => g.name.startsWith("database-app-"));
    assert.equal(appGrants.length, ROLE_GRANTS.app.length);
    for (const g of appGrants) assert.equal(g.inputs.role, ROLE_NAMES.app, `${g.name} is granted to the group, never to a login role`);
  });

  it("upgrade: at rotation 0 the app keeps valuecanvas_app, its resource names and its password (no keepers), so the app's URL is the one it had", async () => {
    const ev = await at(0);
    const passwords = byType(ev, PASSWORD).filter((p) => p.name.startsWith("database-"));
    assert.deepEqual(passwords.map((p) => p.name).sort(), ["database-app-b-password", "database-app-password", "database-monitoring-password"]);
    for (const p of passwords) assert.equal(p.inputs.keepers, undefined, `${p.name}: no keepers yet`);
    const url = appUrl(ev);
    // What the single-role program declared (test/db/component.test.ts before issue 21 finding 5): user and mock password.
    assert.equal(url.username, "valuecanvas_app");
    assert.equal(url.password, "mock-database-app-password");
    assert.equal(ev.outputs.databaseRoles && (ev.outputs.databaseRoles as Record<string, string>).app, "valuecanvas_app");
  });

  it("each rotation moves the app to the other login role and renews only that role's password", async () => {
    const evs = await Promise.all([0, 1, 2, 3].map(at));
    const users = evs.map((ev) => appUrl(ev).username);
    assert.deepEqual(users, ["valuecanvas_app", "valuecanvas_app_b", "valuecanvas_app", "valuecanvas_app_b"]);
    for (let r = 0; r < evs.length; r++) {
      const slot = activeSlot(r);
      assert.equal(decodeURIComponent(appUrl(evs[r]).password), passwordOf(evs[r], slot), `rotation ${r}: the URL carries slot ${slot}'s declared password`);
      if (r === 0) continue;
      const other: AppSlot = slot === "a" ? "b" : "a";
      assert.notEqual(passwordOf(evs[r], slot), passwordOf(evs[r - 1], slot), `rotation ${r}: slot ${slot} (incoming) gets a new password`);
      assert.equal(passwordOf(evs[r], other), passwordOf(evs[r - 1], other), `rotation ${r}: slot ${other} (the running tasks') keeps its password`);
      const keepers = (ev: Evaluation, s: AppSlot) => JSON.stringify(byType(ev, PASSWORD).find((p) => p.name === `${SLOT_RESOURCE[s]}-password`)!.inputs.keepers);
      assert.notEqual(keepers(evs[r], slot), keepers(evs[r - 1], slot));
      assert.equal(keepers(evs[r], other), keepers(evs[r - 1], other));
    }
  });

  it("the new URL (the service's new secret) waits until the incoming role's update has completed", async () => {
    // The program run under mocks whose answer for the incoming role (slot b at rotation 1) comes late: a URL
    // built from anything but that role's outputs would reach the secret before it.
    const events: string[] = [];
    await pulumi.runtime.setMocks(
      {
        async newResource(args) {
          if (args.type === ROLE && args.name === "database-app-b") {
            events.push("role b: update started");
            await new Promise((r) => setTimeout(r, 300));
            events.push("role b: update done");
          }
          if (args.type === SECRET) events.push(`secret ${args.name}`);
          const state = args.type === PASSWORD ? { ...args.inputs, result: `pw-${args.name}` } : args.inputs;
          return { id: `${args.name}-id`, state };
        },
        call: (args) => args.inputs,
      },
      "valuecanvas",
      "dev",
      false,
    );
    pulumi.runtime.setAllConfig({ "valuecanvas:testAdminPassword": "admin-pw", "valuecanvas:testAppCredentialRotation": "1" }, ["valuecanvas:testAdminPassword"]);
    const program = require.resolve(path.join(__dirname, "fixtures", "databaseUrlSecretProgram.ts"));
    delete require.cache[program];
    const mod = require(program) as { secretId: pulumi.Output<string>; appRoleName: pulumi.Output<string> };
    const [id, name] = await new Promise<[string, string]>((res) => pulumi.all([mod.secretId, mod.appRoleName]).apply(res));
    delete require.cache[program];
    assert.equal(name, "valuecanvas_app_b");
    assert.equal(id, "app-database-url-id");
    assert.deepEqual(events, ["role b: update started", "role b: update done", "secret app-database-url"]);
  });
});

/** The evaluation with every declared role name given `suffix` (roles are global to the test cluster). */
function renamed(ev: Evaluation, suffix: string): Evaluation {
  const name = (n: unknown) => `${String(n)}_${suffix}`;
  const resources = ev.resources.map((r): EvaluatedResource => {
    if (r.type === ROLE) {
      const roles = r.inputs.roles as string[] | undefined;
      return { ...r, inputs: { ...r.inputs, name: name(r.inputs.name), ...(roles ? { roles: roles.map(name) } : {}) } };
    }
    if (r.type === GRANT) return { ...r, inputs: { ...r.inputs, role: name(r.inputs.role) } };
    return r;
  });
  return { ...ev, resources };
}

describe("[pg] app credential rotation on a real PostgreSQL (the declared roles and grants as the provider applies them)", function () {
  this.timeout(120_000);
  const suffix = randomBytes(3).toString("hex");
  const login = (slot: AppSlot) => `${APP_LOGIN_ROLES[slot]}_${suffix}`;
  let adminUrl: string;
  let admin: Client;
  const evs: Evaluation[] = [];

  /** Logs in as `user` with `password` and writes and reads agent_sessions; the error's code when it cannot. */
  const works = async (user: string, password: string): Promise<true | string> => {
    let c: Client | undefined;
    try {
      c = await connectAs(adminUrl, user, password);
      await c.query("INSERT INTO public.agent_sessions (session_id, user_id, status) VALUES ($1, $1, 'completed')", [`rot-${randomBytes(4).toString("hex")}`]);
      await c.query("SELECT count(*) FROM public.agent_sessions");
      return true;
    } catch (e) {
      return (e as { code?: string }).code ?? (e as Error).message;
    } finally {
      await c?.end().catch(() => undefined);
    }
  };
  const pw = (ev: Evaluation, slot: AppSlot) => passwordOf(ev, slot);

  before(async () => {
    const db = await migratedDatabase();
    adminUrl = db.url;
    admin = db.client;
    for (const r of [0, 1, 2]) evs.push(renamed(await at(r), suffix));
  });
  after(async () => {
    if (admin) {
      for (const r of [...byType(evs[0], ROLE)].reverse()) {
        await admin.query(`SELECT format('DROP OWNED BY %I', $1::text) AS sql`, [String(r.inputs.name)]).then((x) => admin.query(x.rows[0].sql)).catch(() => undefined);
        await admin.query(`SELECT format('DROP ROLE IF EXISTS %I', $1::text) AS sql`, [String(r.inputs.name)]).then((x) => admin.query(x.rows[0].sql)).catch(() => undefined);
      }
      await admin.end();
    }
  });

  it("upgrade of a stack with today's single role: no moment without the privileges, the same password throughout, and exactly the app's privileges after", async () => {
    // Today's stack: valuecanvas_app a login role holding the app's grants itself (its declared inputs then).
    const a = login("a");
    const isNew = (r: EvaluatedResource) => r.type === ROLE && ["database-app-group", "database-app-b"].includes(r.name);
    const before: Evaluation = {
      ...evs[0],
      resources: evs[0].resources
        .filter((r) => !isNew(r))
        .map((r) => {
          if (r.type === ROLE && r.name === "database-app") return { ...r, inputs: { ...r.inputs, roles: undefined, inherit: undefined } };
          if (r.type === GRANT && r.name.startsWith("database-app-")) return { ...r, inputs: { ...r.inputs, role: a } };
          return r;
        })
        .map((r) => JSON.parse(JSON.stringify(r)) as EvaluatedResource),
    };
    await createDeclared(admin, before);
    assert.equal(await works(a, pw(evs[0], "a")), true, "today's stack works");
    const change = await applyDatabaseChanges(admin, before, evs[0]);
    assert.deepEqual(change.steps, [
      "database-app-group: created",
      "database-app: roles",
      "database-app-b: created",
      ...ROLE_GRANTS.app.map((g) => `database-app-${g.key}: replaced`),
    ]);
    assert.ok(!change.steps.some((s) => s.startsWith("database-app: ") && s.includes("password")), "slot a's password is not touched");
    assert.equal(await works(a, pw(evs[0], "a")), true, "between the update and the deletes: the old direct grants and the group's");
    await change.finish(admin);
    assert.deepEqual(change.pending, ROLE_GRANTS.app.map((g) => `database-app-${g.key}: deleted`));
    assert.equal(await works(a, pw(evs[0], "a")), true, "after the old direct grants are revoked, through the group");
    const direct = await admin.query("SELECT count(*)::int AS n FROM information_schema.role_table_grants WHERE grantee = $1", [a]);
    assert.equal(direct.rows[0].n, 0, "no privilege is left granted to the login role itself");
  });

  it("both login roles hold the app's privileges through the group and nothing more; the group cannot log in", async () => {
    for (const slot of ["a", "b"] as const) {
      const c = await connectAs(adminUrl, login(slot), pw(evs[0], slot));
      try {
        await c.query("INSERT INTO public.agent_sessions (session_id, user_id) VALUES ($1, 'u')", [`priv-${slot}-${suffix}`]);
        for (const sql of ["SELECT * FROM monitoring.error_rate_by_version", "CREATE TABLE public.t (x int)", "TRUNCATE public.agent_sessions", "SELECT * FROM public.schema_migrations", "DELETE FROM monitoring.session_owners"]) {
          await assert.rejects(c.query(sql), (e: Error & { code?: string }) => e.code === "42501", `${login(slot)}: ${sql} is denied`);
        }
        assert.equal((await c.query("SELECT current_user AS u")).rows[0].u, login(slot));
      } finally {
        await c.end();
      }
      const attrs = await admin.query("SELECT rolcanlogin, rolinherit, rolconnlimit, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1", [login(slot)]);
      assert.deepEqual(attrs.rows[0], { rolcanlogin: true, rolinherit: true, rolconnlimit: ROLE_SETTINGS.app.connectionLimit, rolsuper: false, rolcreaterole: false, rolcreatedb: false });
      const member = await admin.query("SELECT array_agg(g.rolname::text ORDER BY g.rolname) AS groups FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1", [login(slot)]);
      assert.deepEqual(member.rows[0].groups, [`${ROLE_NAMES.app}_${suffix}`], "a member of the app's group only");
    }
    const group = `${ROLE_NAMES.app}_${suffix}`;
    assert.equal((await admin.query("SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", [group])).rows[0].rolcanlogin, false);
  });

  it("rotation 1 then 2: the incoming role's new password works; the previous role's stays valid until the next rotation, then stops", async () => {
    const r1 = await applyDatabaseChanges(admin, evs[0], evs[1]);
    assert.deepEqual(r1.steps, ["database-app-b: password"], "only slot b's password changes");
    await r1.finish(admin);
    assert.equal(await works(login("b"), pw(evs[1], "b")), true, "the new tasks' login");
    assert.equal(await works(login("a"), pw(evs[1], "a")), true, "the old tasks' login, still valid after rotation 1");
    assert.equal(await works(login("b"), pw(evs[0], "b")), "28P01", "slot b's first password no longer works");

    const r2 = await applyDatabaseChanges(admin, evs[1], evs[2]);
    assert.deepEqual(r2.steps, ["database-app: password"], "only slot a's password changes");
    await r2.finish(admin);
    assert.equal(await works(login("a"), pw(evs[2], "a")), true);
    assert.equal(await works(login("b"), pw(evs[2], "b")), true, "rotation 1's password, valid until rotation 3");
    assert.equal(await works(login("a"), pw(evs[1], "a")), "28P01", "slot a's previous password is invalid after rotation 2");
  });
});
