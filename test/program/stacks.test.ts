import { strict as assert } from "node:assert";
import { listStacks } from "../../stack/stackFile";
import { stackConfig } from "../../tools/verify";
import { DIGEST_RE } from "../../core/configSchema";
import { ENV_NAMES } from "../../core/stages";
import { PROJECT_DIR, appService, byType, envOf, evaluateStack, serviceInputs, CONTAINER } from "../support/program";

const programConfigOf = (stack: string) => stackConfig(PROJECT_DIR, stack);

describe("stack files in the repo", function () {
  this.timeout(60_000);

  const stacks = listStacks(PROJECT_DIR);

  it("has the staging, prod and dev stacks", () => {
    for (const s of ["staging", "prod", "dev"]) assert.ok(stacks.includes(s), `Pulumi.${s}.yaml exists`);
  });

  for (const stack of stacks) {
    it(`${stack}: evaluates and declares its app service`, async () => {
      const svc = appService(await evaluateStack(stack));
      assert.ok((serviceInputs(svc).mode?.replicated?.replicas ?? 0) >= 1, "at least one replica");
      assert.ok(envOf(svc)[ENV_NAMES.canaryPercentage] !== undefined);
    });
  }

  it("staging is the guide's week 1: both flags off", async () => {
    const ev = await evaluateStack("staging");
    const env = envOf(appService(ev));
    assert.equal(env[ENV_NAMES.statelessOrchestration], "false");
    assert.equal(env[ENV_NAMES.safeJsonParser], "false");
  });

  it("prod pins its app image by digest", async () => {
    const ev = await evaluateStack("prod");
    assert.match(serviceInputs(appService(ev)).taskSpec.containerSpec.image, DIGEST_RE);
  });

  it("dev runs its own PostgreSQL container because no database is configured", async () => {
    const ev = await evaluateStack("dev");
    const pg = byType(ev, CONTAINER).filter((r) => r.parent?.startsWith("valuecanvas:database:DevPostgres::"));
    assert.equal(pg.length, 1);
    assert.equal(pg[0].secretInputs.includes("uploads"), true, "its password file is secret");
    assert.equal(pg[0].secretInputs.includes("envs"), false, "its env holds no password (POSTGRES_PASSWORD_FILE names the file)");
    const staging = await evaluateStack("staging");
    assert.equal(byType(staging, CONTAINER).filter((r) => r.parent?.startsWith("valuecanvas:database:DevPostgres::")).length, 0);
  });

  it("exports the monitoring role's URL as this host reaches it, as a secret output (for ROLLOUT_DATABASE_URL)", async () => {
    const port = programConfigOf("dev").devPostgresPort;
    const dev = await evaluateStack("dev");
    assert.ok(dev.secretOutputs.includes("monitoringDatabaseUrl"), "a secret stack output");
    assert.match(String(dev.outputs.monitoringDatabaseUrl), new RegExp(`^postgres://valuecanvas_monitoring:[^@]+@127\\.0\\.0\\.1:${port}/postgres\\?sslmode=disable$`));
    const prod = await evaluateStack("prod");
    const replica = programConfigOf("prod").monitoringDatabase!;
    assert.ok(prod.secretOutputs.includes("monitoringDatabaseUrl"));
    const u = new URL(String(prod.outputs.monitoringDatabaseUrl));
    assert.equal(u.hostname, replica.host, "prod reads the replica");
    assert.equal(u.username, "valuecanvas_monitoring");
    for (const stack of ["dev", "prod", "staging"]) {
      const ev = stack === "dev" ? dev : stack === "prod" ? prod : await evaluateStack(stack);
      assert.ok(!ev.outputs.monitoringDatabaseUrl || ev.secretOutputs.includes("monitoringDatabaseUrl"), `${stack}: never a plain output`);
    }
  });
});

