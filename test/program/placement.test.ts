/**
 * The app's placement on a multi-node Swarm (issue 26): config appPlacement (validated by the schema),
 * core/swarm.ts appPlacement, the declared service's `taskSpec.placement`, and the harness's translation
 * into `docker service create` / `update` flags (test/support/serviceSpec.ts). A stack that sets no
 * placement declares none, so a single-node stack's task template does not change.
 */
import { strict as assert } from "node:assert";
import { parseConfig } from "../../core/config";
import { PLACEMENT_CONSTRAINT_RE, PLACEMENT_SPREAD_RE } from "../../core/configSchema";
import { appPlacement } from "../../core/swarm";
import { serviceCreateArgs, serviceUpdateArgs } from "../support/serviceSpec";
import { appService, evaluateStack, serviceInputs } from "../support/program";

const base = { appImage: "ghcr.io/valuecanvas/app:1" };
const parsed = (appPlacement: unknown) => parseConfig({ ...base, appPlacement }, { stack: "dev" }).appPlacement;

describe("the app's placement on a multi-node Swarm (config appPlacement)", function () {
  this.timeout(60_000);

  it("none set: no placement at all (the single-node template stays as it was)", () => {
    assert.equal(appPlacement(parseConfig(base, { stack: "dev" }).appPlacement), undefined);
    assert.equal(appPlacement(parsed({})), undefined);
    assert.equal(appPlacement(parsed({ constraints: [], spreadOver: [] })), undefined);
  });

  it("constraints as given, spreadOver as spread= preferences in order, maxReplicasPerNode as maxReplicas; JSON text as Pulumi passes a group", () => {
    const want = { constraints: ["node.role==worker", "node.labels.tier != batch"], prefs: ["spread=node.labels.zone", "spread=node.labels.rack"], maxReplicas: 2 };
    const p = { constraints: want.constraints, spreadOver: ["node.labels.zone", "node.labels.rack"], maxReplicasPerNode: 2 };
    assert.deepEqual(appPlacement(parsed(p)), want);
    assert.deepEqual(appPlacement(parsed(JSON.stringify(p))), want);
    assert.deepEqual(appPlacement(parsed({ constraints: JSON.stringify(["node.hostname==node-1"]) })), { constraints: ["node.hostname==node-1"] });
  });

  it("constraints: what Swarm reads as one node attribute compared with one value, and nothing else", () => {
    const ok = ["node.role==manager", "node.role == worker", "node.id!=abc123", "node.hostname==node-2", "node.platform.os==linux", "node.platform.arch!=arm64", "node.labels.zone==eu-1", "node.labels.a.b_c-d==x.y_z-1"];
    const bad = [
      "",
      "node.role",
      "node.role=worker",
      "node.role===worker",
      "engine.labels.x==y",
      "node.labels.==x",
      "node.labels.zone==",
      "node.role==worker,node.role==manager",
      "node.role==worker\nnode.role==manager",
      "node.role==$(id)",
      "node.role==`id`",
      "node.labels.zone==eu 1",
      " node.role==worker",
      "node.role  ==worker",
      "node.labels.zone==eu-1;rm",
      "node.labels.zone==ü",
    ];
    for (const c of ok) assert.match(c, PLACEMENT_CONSTRAINT_RE, c);
    for (const c of bad) {
      assert.doesNotMatch(c, PLACEMENT_CONSTRAINT_RE, JSON.stringify(c));
      assert.throws(() => parsed({ constraints: [c] }), (e: Error) => /valuecanvas:appPlacement\.constraints = /.test(e.message) && /Swarm constraints/.test(e.message), JSON.stringify(c));
    }
    assert.throws(() => parsed({ constraints: Array.from({ length: 11 }, () => "node.role==worker") }), /at most 10/);
    assert.throws(() => parsed({ constraints: "node.role==worker" }), /appPlacement\.constraints = "node\.role==worker": expected a list/);
  });

  it("spreadOver: node labels only; maxReplicasPerNode: an integer from 1 to 50; unknown keys refused", () => {
    for (const l of ["node.labels.zone", "node.labels.rack.row"]) assert.match(l, PLACEMENT_SPREAD_RE);
    for (const l of ["node.role", "node.labels.", "zone", "spread=node.labels.zone", "node.labels.zone==a"]) {
      assert.throws(() => parsed({ spreadOver: [l] }), /valuecanvas:appPlacement\.spreadOver = .*node labels/, l);
    }
    for (const n of [0, 51, "1.5", "one", -1]) assert.throws(() => parsed({ maxReplicasPerNode: n }), /valuecanvas:appPlacement\.maxReplicasPerNode = .*integer from 1 to 50/, String(n));
    assert.throws(() => parsed({ spread: ["node.labels.zone"] }), /spread/);
  });

  it("the program declares it on the service's task, and nothing when unset", async () => {
    const plain = serviceInputs(appService(await evaluateStack("dev")));
    assert.equal("placement" in plain.taskSpec, false, "no placement key: the single-node template is unchanged");
    const placed = serviceInputs(appService(await evaluateStack("dev", { sets: { appPlacement: JSON.stringify({ spreadOver: ["node.labels.zone"], maxReplicasPerNode: 2 }) } })));
    assert.deepEqual(placed.taskSpec.placement, { prefs: ["spread=node.labels.zone"], maxReplicas: 2 });
  });

  it("the harness translates it: create flags, and an in-place update that adds and removes exactly what changed (a rolling update)", async () => {
    const ev = await evaluateStack("dev", { sets: { appPlacement: JSON.stringify({ constraints: ["node.role==worker"], spreadOver: ["node.labels.zone"], maxReplicasPerNode: 2 }) } });
    const s = serviceInputs(appService(ev));
    const create = serviceCreateArgs("app", s, { networks: new Proxy({}, { get: () => "net" }) }).flags;
    const pairs = (flags: string[], f: string) => flags.flatMap((x, i) => (x === f ? [flags[i + 1]] : []));
    assert.deepEqual(pairs(create, "--constraint"), ["node.role==worker"]);
    assert.deepEqual(pairs(create, "--placement-pref"), ["spread=node.labels.zone"]);
    assert.deepEqual(pairs(create, "--replicas-max-per-node"), ["2"]);
    const next = { ...s, taskSpec: { ...s.taskSpec, placement: { constraints: ["node.labels.zone!=eu-3"], prefs: ["spread=node.labels.zone"] } } };
    const u = serviceUpdateArgs("app", s, next);
    assert.deepEqual(pairs(u.flags, "--constraint-rm"), ["node.role==worker"]);
    assert.deepEqual(pairs(u.flags, "--constraint-add"), ["node.labels.zone!=eu-3"]);
    assert.deepEqual(pairs(u.flags, "--placement-pref-add"), [], "preferences unchanged");
    assert.deepEqual(pairs(u.flags, "--replicas-max-per-node"), ["0"], "no limit: 0, Swarm's unlimited");
    assert.deepEqual(u.changed, ["taskSpec.placement"]);
    assert.equal(u.rollingUpdate, true);
  });
});
