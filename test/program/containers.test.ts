import { strict as assert } from "node:assert";
import { SECRET_KEYS } from "../../lib/config";
import { secretPlaceholder } from "../../lib/stackFile";
import { CONTAINER, appContainers, byType, evaluateStack } from "../support/program";

describe("containers", function () {
  this.timeout(60_000);

  for (const stack of ["prod", "dev"]) {
    it(`${stack}: app containers are replaced create-before-delete, with no fixed names and no host ports`, async () => {
      const ev = await evaluateStack(stack);
      const apps = appContainers(ev);
      assert.ok(apps.length >= 2);
      for (const a of apps) {
        assert.equal(a.options.deleteBeforeReplace, false, `${a.name} is not delete-before-replace`);
        assert.equal(a.inputs.name, undefined, `${a.name} has no fixed name`);
        assert.equal(a.inputs.ports, undefined, `${a.name} publishes no port`);
        assert.equal(a.inputs.wait, true, "waits until healthy");
        assert.ok((a.inputs.healthcheck as { tests: string[] }).tests.join(" ").includes("/health"));
        assert.equal(a.inputs.restart, "unless-stopped");
        const nets = a.inputs.networksAdvanced as Array<{ aliases: string[] }>;
        assert.deepEqual(nets[0].aliases, ["app"]);
      }
    });

    it(`${stack}: only the edge proxy publishes the app's port`, async () => {
      const ev = await evaluateStack(stack);
      const published = byType(ev, CONTAINER).filter((c) => c.inputs.ports !== undefined);
      const edge = published.filter((c) => c.parent?.startsWith("valuecanvas:proxy:EdgeProxy::"));
      assert.equal(edge.length, 1);
      const ports = edge[0].inputs.ports as Array<{ internal: number; external: number }>;
      assert.equal(ports[0].external, 8080);
      for (const c of published) {
        if (c === edge[0]) continue;
        for (const p of c.inputs.ports as Array<{ ip: string }>) assert.equal(p.ip, "127.0.0.1", `${c.name} publishes on loopback only`);
      }
    });

    it(`${stack}: secret-bearing properties are secret and no secret is in a label or plain input`, async () => {
      const ev = await evaluateStack(stack);
      for (const a of appContainers(ev)) assert.deepEqual(a.secretInputs, ["envs"]);
      const placeholders = SECRET_KEYS.map((k) => secretPlaceholder(`valuecanvas:${k}`));
      const leaks: string[] = [];
      for (const r of ev.resources) {
        for (const [k, v] of Object.entries(r.inputs)) {
          if (r.secretInputs.includes(k)) continue;
          const text = JSON.stringify(v);
          for (const p of [...placeholders, "mock-dev-postgres-admin-password"]) if (text.includes(p)) leaks.push(`${r.name}.${k}`);
        }
      }
      assert.deepEqual(leaks, []);
    });
  }

  it("prod: the app connects with a secret DATABASE_URL", async () => {
    const ev = await evaluateStack("prod");
    for (const a of appContainers(ev)) {
      const env = (a.inputs.envs as string[]).find((e) => e.startsWith("DATABASE_URL="));
      assert.ok(env, "DATABASE_URL set");
    }
  });
});
