/**
 * How the offline plan shows changes to the app's Swarm service (issue 15):
 * which changes the docker provider makes in place (`~`) and which replace the
 * service (`+-`), as encoded in offline/plan.ts from what was measured for provider
 * 5.2.0; and the rendered preview of a stage change, golden.
 */
import { strict as assert } from "node:assert";
import { plan } from "../../cli/plan";
import { SERVICE_REPLACED_PATHS, diffEvaluations, formatChanges, replacesResource } from "../../offline/plan";
import type { Evaluation } from "../../offline/evaluate";
import { SERVICE, appService, evaluateStack, serviceInputs } from "../support/program";

const HEADER = `Stack dev (Pulumi.dev.yaml), evaluated offline under the Pulumi SDK mock runtime. Secrets are shown as [secret].
Secrets not in the stack file (placeholders here; set each with pulumi config set --secret on the change's branch, before its merge runs pulumi up): pagerdutyRoutingKey, slackWebhookUrl
`;

const GOLDEN_STAGE_CHANGE = `${HEADER}
Changes from valuecanvas:canaryPercentage=25:

~ docker:index/service:Service app
    labels:
      - {"label":"valuecanvas.rollout/canary_percentage","value":"10"}
      + {"label":"valuecanvas.rollout/canary_percentage","value":"25"}
    taskSpec.containerSpec.args.3: "CANARY_PERCENTAGE=10" => "CANARY_PERCENTAGE=25"

~ pulumi-nodejs:dynamic/rollout:RolloutWait app-rollout-wait
    expected.labels.valuecanvas.rollout/canary_percentage: "10" => "25"

~ pulumi-nodejs:dynamic/rollout:RolloutEvent rollout-event
    canaryPercentage: 10 => 25

3 resources would change.
`;

const GOLDEN_IMMEDIATE_ROLLBACK = `${HEADER}warning: valuecanvas:canaryPercentage is 10 but both flags are off: the percentage has no effect and every user is on the legacy path (the guide's immediate rollback: flags turned off, percentage left as it was)

Changes from valuecanvas:enableStatelessOrchestration=false, valuecanvas:enableSafeJsonParser=false:

~ docker:index/service:Service app
    labels:
      - {"label":"valuecanvas.rollout/enable_stateless_orchestration","value":"true"}
      - {"label":"valuecanvas.rollout/enable_safe_json_parser","value":"true"}
      + {"label":"valuecanvas.rollout/enable_stateless_orchestration","value":"false"}
      + {"label":"valuecanvas.rollout/enable_safe_json_parser","value":"false"}
    taskSpec.containerSpec.args.5: "ENABLE_SAFE_JSON_PARSER=true" => "ENABLE_SAFE_JSON_PARSER=false"
    taskSpec.containerSpec.args.6: "ENABLE_STATELESS_ORCHESTRATION=true" => "ENABLE_STATELESS_ORCHESTRATION=false"
    updateConfig.parallelism: 1 => 0
      (all tasks at once: with both flags off above 0 %, Swarm swaps every task together, as the flags-off rollback needs)

~ pulumi-nodejs:dynamic/rollout:RolloutWait app-rollout-wait
    expected.labels.valuecanvas.rollout/enable_safe_json_parser: "true" => "false"
    expected.labels.valuecanvas.rollout/enable_stateless_orchestration: "true" => "false"

~ pulumi-nodejs:dynamic/rollout:RolloutEvent rollout-event
    enableSafeJsonParser: true => false
    enableStatelessOrchestration: true => false

3 resources would change.
`;

/** `ev` with the app service's inputs edited (for inputs no config key reaches, such as the static container-spec labels). */
function withServiceInputs(ev: Evaluation, edit: (inputs: Record<string, unknown>) => void): Evaluation {
  const copy = structuredClone(ev);
  const svc = copy.resources.find((r) => r.type === SERVICE);
  assert.ok(svc, "the evaluation declares a service");
  edit(svc.inputs);
  return copy;
}

describe("the app service in the plan (docker provider 5.2.0, measured: issue 15)", function () {
  this.timeout(120_000);
  let base: Evaluation;
  before(async () => {
    base = await evaluateStack("dev");
  });

  it("golden: the rendered preview of a stage change (10 → 25) is the service's in-place update (env + one service label) and the rollout record's, nothing else", async () => {
    assert.equal(await plan({ stack: "dev", set: [{ path: "canaryPercentage", value: "25" }], json: false }), GOLDEN_STAGE_CHANGE);
  });

  it("golden: the guide's immediate rollback also moves the update parallelism to 0 (every task at once), in place", async () => {
    const sets = [
      { path: "enableStatelessOrchestration", value: "false" },
      { path: "enableSafeJsonParser", value: "false" },
    ];
    assert.equal(await plan({ stack: "dev", set: sets, json: false }), GOLDEN_IMMEDIATE_ROLLBACK);
  });

  const inPlace: Array<{ what: string; sets: Record<string, string>; paths: string[] }> = [
    { what: "the settings (a stage change)", sets: { canaryPercentage: "50" }, paths: ["labels", "taskSpec.containerSpec.args.3"] },
    { what: "the image, a plain string", sets: { appImage: "ghcr.io/valuecanvas/app:phase4" }, paths: ["taskSpec.containerSpec.image"] },
    { what: "the replica count", sets: { appReplicas: "5" }, paths: ["mode.replicated.replicas"] },
    // A new setting shifts the words after it (sorted by name): each shows.
    { what: "the extra env", sets: { appExtraEnv: JSON.stringify({ LOG_LEVEL: "debug" }) }, paths: ["taskSpec.containerSpec.args.*"] },
  ];
  for (const c of inPlace) {
    it(`~ ${c.what}: an in-place update of the service, shown as ${c.paths.join(" and ")}`, async () => {
      const after = await evaluateStack("dev", { sets: c.sets });
      const svc = diffEvaluations(base, after).filter((x) => x.type === SERVICE);
      assert.equal(svc.length, 1);
      assert.equal(svc[0].action, "update");
      assert.equal(svc[0].replace, undefined, "not replaced");
      const inputs = svc[0].changes.map((x) => x.input);
      if (c.paths.some((p) => p.endsWith(".*"))) {
        assert.ok(inputs.length > 0 && inputs.every((i) => c.paths.some((p) => i.startsWith(p.slice(0, -1)))), inputs.join(", "));
      } else assert.deepEqual(inputs, c.paths);
      const text = formatChanges({ stack: "dev", file: "Pulumi.dev.yaml", secrets: [], warnings: [] }, [], svc);
      assert.match(text, /\n~ docker:index\/service:Service app\n/);
    });
  }

  it("~ the image: the reviewer sees the old and the new reference beside the secret env", async () => {
    const after = await evaluateStack("dev", { sets: { appImage: "ghcr.io/valuecanvas/app:phase4" } });
    const [c] = diffEvaluations(base, after).filter((x) => x.type === SERVICE);
    assert.deepEqual(c.changes, [
      { input: "taskSpec.containerSpec.image", before: serviceInputs(appService(base)).taskSpec.containerSpec.image, after: "ghcr.io/valuecanvas/app:phase4", secret: false },
    ]);
  });

  it("~ the service's own labels: in place once it has some", () => {
    const after = withServiceInputs(base, (i) => {
      (i.labels as Array<{ label: string; value: string }>).push({ label: "valuecanvas.rollout/note", value: "x" });
    });
    const [c] = diffEvaluations(base, after);
    assert.equal(c.action, "update");
    assert.equal(c.replace, undefined);
    assert.deepEqual(c.changes.map((x) => x.input), ["labels"]);
  });

  it("+- the container-spec labels: the whole service is replaced, created first, and the plan says which change forces it", () => {
    const after = withServiceInputs(base, (i) => {
      const spec = (i.taskSpec as { containerSpec: { labels: Array<{ label: string; value: string }> } }).containerSpec;
      spec.labels = [...spec.labels, { label: "valuecanvas.rollout/canary_percentage", value: "25" }];
    });
    const changes = diffEvaluations(base, after);
    assert.equal(changes.length, 1);
    assert.equal(changes[0].replace, "create-first");
    const text = formatChanges({ stack: "dev", file: "Pulumi.dev.yaml", secrets: [], warnings: [] }, [], changes);
    assert.match(text, /\n\+- docker:index\/service:Service app {2}\(replace: new one first, old one removed once healthy\)\n {4}taskSpec\.containerSpec\.labels: {2}\(forces replacement\)\n/);
  });

  it("+- the name, and labels given to a service that had none (measured: replaced once)", () => {
    const named = withServiceInputs(base, (i) => {
      i.name = "valuecanvas-app";
    });
    assert.equal(diffEvaluations(base, named)[0].replace, "create-first");
    const unlabelled = withServiceInputs(base, (i) => {
      delete i.labels;
    });
    assert.equal(diffEvaluations(unlabelled, base)[0].replace, "create-first", "labels added to a service without: replaced");
    assert.equal(diffEvaluations(base, unlabelled)[0].replace, undefined, "labels removed: in place");
  });

  it("the cut-over moves the edge proxy last: it waits for the app service, and is replaced delete-first (its published port)", () => {
    const proxy = base.resources.find((r) => r.type === "valuecanvas:proxy:EdgeProxy");
    assert.deepEqual(proxy?.options.dependsOn, ["valuecanvas:app:App::app"]);
    const container = base.resources.find((r) => r.type === "docker:index/container:Container" && r.parent === `valuecanvas:proxy:EdgeProxy::${proxy?.name}`);
    assert.equal(container?.options.deleteBeforeReplace, true);
    const net = base.resources.find((r) => r.type === "docker:index/network:Network");
    const moved = withServiceInputs(base, () => undefined);
    moved.resources.find((r) => r.type === "docker:index/network:Network")!.inputs.driver = "bridge";
    assert.equal(diffEvaluations(moved, base).find((c) => c.name === net?.name)?.replace, "create-first", "the overlay network is created beside the old bridge network");
  });

  it("every path under a replacing input replaces; no path beside one does", () => {
    for (const p of SERVICE_REPLACED_PATHS) {
      assert.equal(replacesResource(SERVICE, { input: p, before: 1, after: 2 }), true, p);
      assert.equal(replacesResource(SERVICE, { input: `${p}.0.value`, before: 1, after: 2 }), true, `${p}.0.value`);
      assert.equal(replacesResource(SERVICE, { input: `${p}x`, before: 1, after: 2 }), false, `${p}x is another input`);
    }
    for (const p of ["taskSpec.containerSpec.env", "taskSpec.containerSpec.image", "mode.replicated.replicas", "updateConfig.parallelism", "taskSpec.containerSpec.healthcheck.interval"]) {
      assert.equal(replacesResource(SERVICE, { input: p, before: 1, after: 2 }), false, p);
    }
    assert.equal(replacesResource("docker:index/container:Container", { input: "envs", before: [], after: ["A=1"] }), true, "a container is replaced on any change");
  });
});
