/**
 * The Database component under the Pulumi SDK's mock runtime, and its
 * migration provider serialized the way the SDK stores it, run for real.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { EvaluatedResource, Evaluation, evaluateProgram } from "../../offline/evaluate";
import { ROLE_GRANTS, ROLE_NAMES } from "../../core/grants";
import { APP_LOGIN_ROLES } from "../../core/appCredentials";
import { DEFAULT_MIGRATIONS_DIR, migrationsHash } from "../../db/migrate";
import { migrationProvider } from "../../components/database";
import { copyMigrations, freshDatabase, migrationNames } from "./dbHelpers";
import { withSerializedProvider } from "../support/serializedProvider";

const PROGRAM = path.join(__dirname, "fixtures", "databaseProgram.ts");
const ADMIN_PASSWORD = "admin-password-value-5e1c";

async function evaluate(env: { dir?: string; replica?: boolean } = {}, adminPassword = ADMIN_PASSWORD): Promise<Evaluation> {
  const saved = { dir: process.env.VC_TEST_MIGRATIONS_DIR, replica: process.env.VC_TEST_REPLICA };
  if (env.dir) process.env.VC_TEST_MIGRATIONS_DIR = env.dir;
  else delete process.env.VC_TEST_MIGRATIONS_DIR;
  process.env.VC_TEST_REPLICA = env.replica ? "1" : "0";
  try {
    return await evaluateProgram({
      stack: "dev",
      config: { "valuecanvas:testAdminPassword": adminPassword },
      secretKeys: ["valuecanvas:testAdminPassword"],
      program: PROGRAM,
    });
  } finally {
    if (saved.dir === undefined) delete process.env.VC_TEST_MIGRATIONS_DIR;
    else process.env.VC_TEST_MIGRATIONS_DIR = saved.dir;
    if (saved.replica === undefined) delete process.env.VC_TEST_REPLICA;
    else process.env.VC_TEST_REPLICA = saved.replica;
  }
}

const MIGRATIONS = "pulumi-nodejs:dynamic/database:Migrations";
const one = (ev: Evaluation, type: string): EvaluatedResource => {
  const rs = ev.resources.filter((r) => r.type === type);
  assert.equal(rs.length, 1, `exactly one ${type}`);
  return rs[0];
};

describe("[pg] Database component (Pulumi mock runtime)", function () {
  this.timeout(120_000);

  it("declares the migration, an explicit postgresql provider, the roles (app group, its two login roles, monitoring) with random passwords, and the grants of core/grants.ts", async () => {
    const ev = await evaluate();
    const types = ev.resources.map((r) => r.type).sort();
    assert.deepEqual(types, ([
      MIGRATIONS,
      "postgresql:index/grant:Grant",
      "postgresql:index/grant:Grant",
      "postgresql:index/grant:Grant",
      "postgresql:index/grant:Grant",
      "postgresql:index/role:Role",
      "postgresql:index/role:Role",
      "postgresql:index/role:Role",
      "postgresql:index/role:Role",
      "pulumi:providers:postgresql",
      "random:index/randomPassword:RandomPassword",
      "random:index/randomPassword:RandomPassword",
      "random:index/randomPassword:RandomPassword",
      "valuecanvas:database:Database",
    ] as string[]).sort());
    for (const r of ev.resources.filter((x) => x.type !== "valuecanvas:database:Database")) {
      assert.equal(r.parent, "valuecanvas:database:Database::database", `${r.name} is a child of the component`);
    }
    const roles = ev.resources.filter((r) => r.type === "postgresql:index/role:Role");
    assert.deepEqual(roles.map((r) => r.inputs.name).sort(), [...Object.values(ROLE_NAMES), ...Object.values(APP_LOGIN_ROLES)].sort());
    const group = roles.find((r) => r.inputs.name === ROLE_NAMES.app)!;
    assert.equal(group.inputs.login, false, "the app's group role cannot log in");
    assert.equal(group.inputs.password, undefined);
    const mon = roles.find((r) => r.inputs.name === ROLE_NAMES.monitoring)!;
    assert.equal(mon.inputs.statementTimeout, 10_000);
    const provider = one(ev, "pulumi:providers:postgresql");
    assert.equal(provider.inputs.host, "127.0.0.1");
    assert.equal(String(provider.inputs.superuser), "false");

    const grants = ev.resources.filter((r) => r.type === "postgresql:index/grant:Grant");
    const expected = Object.entries(ROLE_GRANTS).flatMap(([key, specs]) =>
      specs.map((g) => ({ role: ROLE_NAMES[key as keyof typeof ROLE_NAMES], schema: g.schema, objectType: g.objectType, objects: g.objects ? [...g.objects] : undefined, privileges: [...g.privileges] })),
    );
    const actual = grants.map((g) => ({
      role: g.inputs.role,
      schema: g.inputs.schema,
      objectType: g.inputs.objectType,
      objects: g.inputs.objects,
      privileges: g.inputs.privileges,
    }));
    const key = (x: unknown) => JSON.stringify(x);
    assert.deepEqual(actual.map(key).sort(), expected.map(key).sort());
    for (const g of grants) assert.deepEqual(g.options.dependsOn, [`${MIGRATIONS}::database-migrations`], `${g.name} waits for the migration`);
  });

  it("keeps every password and URL secret", async () => {
    const ev = await evaluate();
    const migration = one(ev, MIGRATIONS);
    assert.deepEqual(migration.secretInputs, ["databaseUrl"]);
    assert.ok(String(migration.inputs.databaseUrl).includes(ADMIN_PASSWORD));
    assert.ok(one(ev, "pulumi:providers:postgresql").secretInputs.includes("password"));
    for (const r of ev.resources.filter((x) => x.type === "postgresql:index/role:Role" && x.inputs.login === true)) assert.ok(r.secretInputs.includes("password"), `${r.name} password`);
    assert.deepEqual(ev.secretOutputs.slice().sort(), ["appDatabaseUrl", "monitoringDatabaseUrl"]);
    const mockPasswords = ev.resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword").map((r) => `mock-${r.name}`);
    for (const r of ev.resources) {
      for (const [k, v] of Object.entries(r.inputs)) {
        if (r.secretInputs.includes(k)) continue;
        const text = JSON.stringify(v) ?? "";
        for (const s of [ADMIN_PASSWORD, ...mockPasswords]) assert.ok(!text.includes(s), `${r.name}.${k} carries a secret in plain`);
      }
    }
    assert.deepEqual(ev.outputs.appRoleName, APP_LOGIN_ROLES.a);
  });

  it("points the app at the primary and monitoring at the replica when configured", async () => {
    const plain = await evaluate();
    assert.match(String(plain.outputs.appDatabaseUrl), /^postgres:\/\/valuecanvas_app:mock-database-app-password@postgres:5432\/postgres\?sslmode=disable$/);
    assert.match(String(plain.outputs.monitoringDatabaseUrl), /^postgres:\/\/valuecanvas_monitoring:[^@]+@postgres:5432\/postgres\?sslmode=disable$/);
    const withReplica = await evaluate({ replica: true });
    assert.match(String(withReplica.outputs.monitoringDatabaseUrl), /^postgres:\/\/valuecanvas_monitoring:[^@]+@db-replica\.internal:6432\/postgres\?sslmode=verify-full$/);
    assert.equal(withReplica.outputs.appDatabaseUrl, plain.outputs.appDatabaseUrl);
  });

  it("the migration's inputs change only when sql/ changes, and only a new hash triggers a run", async () => {
    const a = one(await evaluate(), MIGRATIONS);
    const b = one(await evaluate(), MIGRATIONS);
    assert.deepEqual(b.inputs, a.inputs);
    assert.equal(a.inputs.sqlHash, migrationsHash(DEFAULT_MIGRATIONS_DIR));
    assert.deepEqual(a.inputs.files, migrationNames());

    const same = one(await evaluate({ dir: copyMigrations() }), MIGRATIONS);
    assert.equal(same.inputs.sqlHash, a.inputs.sqlHash, "same files, same hash");
    const grown = copyMigrations();
    fs.writeFileSync(path.join(grown, "0099_more.sql"), "SELECT 1;\n");
    const changed = one(await evaluate({ dir: grown }), MIGRATIONS);
    assert.notEqual(changed.inputs.sqlHash, a.inputs.sqlHash);
    assert.deepEqual(changed.inputs.files, [...migrationNames(), "0099_more.sql"]);

    const olds = { sqlHash: String(a.inputs.sqlHash), files: a.inputs.files as string[], migrationsDir: "sql", applied: [] };
    const news = { databaseUrl: "postgres://postgres:rotated@127.0.0.1:1/postgres", sqlHash: olds.sqlHash, files: olds.files, migrationsDir: "sql" };
    assert.equal((await migrationProvider.diff!("id", olds, news)).changes, false, "a new admin password alone re-runs nothing");
    assert.equal((await migrationProvider.diff!("id", olds, { ...news, sqlHash: String(changed.inputs.sqlHash) })).changes, true);
  });

  it("the provider as the SDK serializes it migrates a real database, and a failure fails with the file's name", async () => {
    await withSerializedProvider(migrationProvider, async (provider) => {
      const { url, client } = await freshDatabase();
      try {
        const dir = copyMigrations();
        const inputs = { databaseUrl: url, sqlHash: migrationsHash(dir), files: migrationNames(), migrationsDir: dir };
        const created = await provider.create(inputs);
        assert.deepEqual(created.outs.applied, migrationNames());
        assert.equal((await client.query("SELECT count(*) AS n FROM public.schema_migrations")).rows[0].n, String(migrationNames().length));

        // A later run lists every applied file, not only its own: the diff never reads as dropped migrations.
        fs.writeFileSync(path.join(dir, "0098_more.sql"), "SELECT 1;\n");
        const grown = { ...inputs, sqlHash: migrationsHash(dir), files: [...inputs.files, "0098_more.sql"] };
        const updated = await provider.update!("id", created.outs, grown);
        assert.deepEqual(updated.outs!.applied, [...migrationNames(), "0098_more.sql"]);

        fs.writeFileSync(path.join(dir, "0099_broken.sql"), "SELECT * FROM no_such_table;\n");
        const broken = { ...inputs, sqlHash: migrationsHash(dir), files: [...inputs.files, "0099_broken.sql"] };
        await assert.rejects(provider.update!("id", created.outs, broken), (err: Error) => {
          assert.match(err.message, /migration 0099_broken\.sql failed.*relation "no_such_table" does not exist/);
          return true;
        });
        // sql/ edited between evaluation and apply: refused before touching the database.
        await assert.rejects(provider.update!("id", created.outs, inputs), /changed between evaluation and apply/);
      } finally {
        await client.end();
      }
    });
  });
});
