import { strict as assert } from "node:assert";
import { SECRET_KEYS } from "../../core/configSchema";
import { secretPlaceholder, stackConfigOf } from "../../stack/stackFile";
import { CONTAINER, SERVICE, appService, byType, evaluateStack, serviceInputs, stackFile } from "../support/program";
import { maskedInputs } from "../../offline/plan";

describe("containers", function () {
  this.timeout(60_000);

  for (const stack of ["prod", "dev"]) {
    it(`${stack}: the app is one Swarm service of appReplicas tasks, with no fixed name, no published port, dnsrr, on the overlay network by id`, async () => {
      const ev = await evaluateStack(stack);
      assert.equal(byType(ev, SERVICE).length, 1, "one service");
      assert.equal(byType(ev, CONTAINER).filter((c) => c.parent?.startsWith("valuecanvas:app:App::")).length, 0, "no app containers");
      const svc = appService(ev);
      const i = serviceInputs(svc);
      const cfg = stackConfigOf(stackFile(stack));
      assert.equal(i.mode?.replicated?.replicas, cfg.appReplicas);
      assert.equal(svc.options.deleteBeforeReplace, false, "a replacement (if ever) is created first");
      assert.equal(i.name, undefined, "no fixed name: auto-named");
      assert.deepEqual(i.endpointSpec, { mode: "dnsrr" }, "no published port, DNS round robin");
      assert.ok((i.taskSpec.containerSpec.healthcheck?.tests ?? []).join(" ").includes("/health"));
      assert.equal(i.taskSpec.containerSpec.image, cfg.appImage, "the image reference as a plain string, no RemoteImage");
      assert.equal(byType(ev, "docker:index/remoteImage:RemoteImage").filter((r) => r.parent?.startsWith("valuecanvas:app:App::")).length, 0);
      const net = byType(ev, "docker:index/network:Network")[0];
      assert.equal(net.inputs.driver, "overlay");
      assert.equal(net.inputs.attachable, true, "plain containers (proxy, monitoring) join it");
      assert.deepEqual(i.taskSpec.networksAdvanceds, [{ id: `${net.name}-id`, aliases: ["app"] }], "the network's id, not its (deprecated) name");
    });

    it(`${stack}: the service rolls out start-first behind its health check, rolls back on failure, and up waits for it`, async () => {
      const i = serviceInputs(appService(await evaluateStack(stack)));
      assert.equal(i.updateConfig?.order, "start-first");
      assert.equal(i.updateConfig?.failureAction, "rollback");
      assert.equal(i.rollbackConfig?.order, "start-first");
      assert.ok(i.convergeConfig?.timeout, "convergeConfig: pulumi up waits and fails on a rollback");
      assert.equal(i.taskSpec.restartPolicy?.condition, "any");
    });

    it(`${stack}: the container-spec labels are the static role label only; the rollout labels are on the service`, async () => {
      const i = serviceInputs(appService(await evaluateStack(stack)));
      assert.deepEqual(i.taskSpec.containerSpec.labels, [{ label: "valuecanvas.rollout/role", value: "app" }]);
      assert.ok(i.labels?.some((l) => l.label === "valuecanvas.rollout/canary_percentage"));
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
      // Issue 21 finding 5: the database URL is a Docker secret (its data secret), so the service holds no secret at all.
      assert.deepEqual(appService(ev).secretInputs, [], "the service's inputs are all plain");
      const dockerSecrets = ev.resources.filter((r) => r.type === "docker:index/secret:Secret");
      assert.equal(dockerSecrets.length, 1, "one Docker secret: the app's database URL");
      assert.deepEqual(dockerSecrets[0].secretPaths, ["data"], "its data, at the leaf");
      const placeholders = SECRET_KEYS.map((k) => secretPlaceholder(`valuecanvas:${k}`));
      const leaks: string[] = [];
      for (const r of ev.resources) {
        // What the plan shows of it: everything but its secret paths.
        const text = JSON.stringify(maskedInputs(r));
        for (const p of [...placeholders, "mock-dev-postgres-admin-password"]) if (text.includes(p)) leaks.push(`${r.name}: ${p}`);
      }
      assert.deepEqual(leaks, []);
    });
  }

  it("prod: the app connects with the database URL from its Docker secret, not from its env", async () => {
    const ev = await evaluateStack("prod");
    const spec = serviceInputs(appService(ev)).taskSpec.containerSpec;
    assert.equal(spec.env?.DATABASE_URL, undefined, "no DATABASE_URL in the env");
    const secret = ev.resources.find((r) => r.type === "docker:index/secret:Secret");
    assert.ok(secret, "the Docker secret");
    assert.ok(Buffer.from(String(secret.inputs.data), "base64").toString("utf8").startsWith("postgres"), "it holds a postgres URL");
    assert.equal((spec.secrets ?? []).length, 1, "mounted in the task");
  });
});
