/**
 * The stage-change guarantee: moving between adjacent stages changes only the
 * app service's CANARY_PERCENTAGE (inside its secret task env) and the plain
 * service label that shows it in a reviewed preview. Nothing in the database,
 * migration, monitoring or proxy changes.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { planAdvance } from "../../core/transitions";
import { editStack } from "../../stack/stackEdit";
import { programConfig, readStackFile } from "../../stack/stackFile";
import { evaluateProgram } from "../../offline/evaluate";
import { Evaluation } from "../../offline/evaluate";
import { canonical, diffEvaluations } from "../../offline/plan";
import { ENV_NAMES, STAGES, Stage, appEnv, nextStage } from "../../core/stages";
import { rolloutLabelName } from "../../program/labels";
import { PROJECT_DIR, SERVICE, appService, envOf, evaluateStack, labelsOf, serviceInputs } from "../support/program";

/** Resources allowed to change with the stage besides the app service: the rollout record (issue 5). */
const RECORD_TYPES = /RolloutRecord|RolloutEvent/;
/** The wait after the service (components/rolloutWait.ts): it follows every change of what the service runs. */
const WAIT_TYPES = /RolloutWait/;

const STAGE_LABEL = rolloutLabelName(ENV_NAMES.canaryPercentage);

function withoutStage(ev: Evaluation) {
  // Inputs of every resource with the app's percentage blanked out: must then be identical.
  return ev.resources
    .filter((r) => !RECORD_TYPES.test(r.type) && !RECORD_TYPES.test(r.parent ?? ""))
    .map((r) => {
      const inputs = structuredClone(r.inputs);
      if (Array.isArray(inputs.envs)) inputs.envs = (inputs.envs as string[]).filter((e) => !e.startsWith(`${ENV_NAMES.canaryPercentage}=`));
      const cs = (inputs.taskSpec as { containerSpec?: { env?: Record<string, string>; args?: string[] } } | undefined)?.containerSpec;
      if (cs?.env) delete cs.env[ENV_NAMES.canaryPercentage];
      // The settings are words of args (core/appCommand.ts).
      if (cs?.args) cs.args = cs.args.filter((w) => !w.startsWith(`${ENV_NAMES.canaryPercentage}=`));
      if (Array.isArray(inputs.labels)) inputs.labels = (inputs.labels as Array<{ label: string }>).filter((l) => l.label !== STAGE_LABEL);
      const waited = (inputs.expected as { labels?: Record<string, string> } | undefined)?.labels;
      if (WAIT_TYPES.test(r.type) && waited) delete waited[STAGE_LABEL];
      return canonical({ type: r.type, name: r.name, parent: r.parent, inputs, secret: r.secretInputs, options: r.options });
    })
    .sort();
}

describe("stage changes", function () {
  this.timeout(120_000);
  const flagsOn = { enableStatelessOrchestration: "true", enableSafeJsonParser: "true" };
  const evals = new Map<Stage, Evaluation>();

  before(async () => {
    for (const s of STAGES) evals.set(s, await evaluateStack("prod", { sets: { ...flagsOn, canaryPercentage: String(s) } }));
  });

  it("the app env is the guide's at every stage", () => {
    for (const s of STAGES) {
      const svc = appService(evals.get(s)!);
      assert.equal(serviceInputs(svc).mode?.replicated?.replicas, 3);
      const env = envOf(svc);
      assert.equal(env.ENABLE_STATELESS_ORCHESTRATION, "true");
      assert.equal(env.ENABLE_SAFE_JSON_PARSER, "true");
      assert.equal(env.CANARY_PERCENTAGE, String(s));
      // The URL itself is a Docker secret file (test/program/secret-files.test.ts), never a setting.
      assert.equal(env.DATABASE_URL, undefined);
      assert.equal(env.DATABASE_URL_FILE, "/run/secrets/database_url");
      assert.equal(labelsOf(svc)[STAGE_LABEL], String(s));
    }
  });

  it("the immediate-rollback state (flags off, percentage kept) is valid and warned about", async () => {
    const ev = await evaluateStack("prod", { sets: { canaryPercentage: "75", enableStatelessOrchestration: "false", enableSafeJsonParser: "false" } });
    assert.deepEqual(
      Object.fromEntries(Object.entries(envOf(appService(ev))).filter(([k]) => k in appEnv({ canaryPercentage: 75, enableSafeJsonParser: false, enableStatelessOrchestration: false }))),
      { ENABLE_STATELESS_ORCHESTRATION: "false", ENABLE_SAFE_JSON_PARSER: "false", CANARY_PERCENTAGE: "75" },
    );
    assert.ok(ev.warnings.some((w) => /canaryPercentage is 75 but both flags are off/.test(w)), ev.warnings.join("\n"));
  });

  for (const s of STAGES) {
    const n = nextStage(s);
    if (n === undefined) continue;
    it(`${s} → ${n} changes only the app service's CANARY_PERCENTAGE and stage label, in place`, () => {
      const a = evals.get(s)!;
      const b = evals.get(n)!;
      assert.deepEqual(withoutStage(a), withoutStage(b));
      const changes = diffEvaluations(a, b).filter((c) => !RECORD_TYPES.test(c.type) && !WAIT_TYPES.test(c.type));
      assert.deepEqual(changes.map((c) => c.name), [appService(b).name], "exactly the app service changes");
      const [c] = changes;
      assert.equal(c.action, "update");
      assert.equal(c.type, SERVICE);
      assert.equal(c.replace, undefined, "in place");
      const canaryWord = (serviceInputs(appService(b)).taskSpec.containerSpec.args ?? []).findIndex((w) => w.startsWith(`${ENV_NAMES.canaryPercentage}=`));
      assert.ok(canaryWord > 0, "the percentage is a word of the app's args");
      assert.deepEqual(c.changes.map((x) => x.input).sort(), ["labels", `taskSpec.containerSpec.args.${canaryWord}`]);
      const before = envOf(appService(a));
      const after = envOf(appService(b));
      const differing = Object.keys({ ...before, ...after }).filter((k) => before[k] !== after[k]);
      assert.deepEqual(differing, [ENV_NAMES.canaryPercentage]);
      const labelsBefore = labelsOf(appService(a));
      const labelsAfter = labelsOf(appService(b));
      assert.deepEqual(Object.keys({ ...labelsBefore, ...labelsAfter }).filter((k) => labelsBefore[k] !== labelsAfter[k]), [STAGE_LABEL], "one service label");
    });
  }

  it("the rollout record is the one other resource a stage change touches: its stage input", () => {
    const rec = diffEvaluations(evals.get(25)!, evals.get(50)!).filter((c) => RECORD_TYPES.test(c.type));
    assert.equal(rec.length, 1);
    assert.deepEqual(rec[0].changes.map((c) => [c.input, c.before, c.after]), [["canaryPercentage", 25, 50]]);
  });

  it("the wait after the service follows the stage: it waits for exactly the service labels the stage change moves", () => {
    const w = diffEvaluations(evals.get(25)!, evals.get(50)!).filter((c) => WAIT_TYPES.test(c.type));
    assert.equal(w.length, 1);
    assert.equal(w[0].replace, undefined, "in place");
    assert.deepEqual(w[0].changes.map((x) => [x.input, x.before, x.after]), [[`expected.labels.${STAGE_LABEL}`, "25", "50"]]);
  });

  it("the rollout record is written only after Swarm reports the stage rolled out (and the migration)", () => {
    const rec = evals.get(10)!.resources.find((r) => r.type === "valuecanvas:rollout:RolloutRecord");
    assert.ok(rec, "the program declares a RolloutRecord");
    assert.deepEqual(rec.options.dependsOn, ["pulumi-nodejs:dynamic/database:Migrations::database-migrations", "valuecanvas:rollout:RolloutWait::app-rollout"]);
    const wait = evals.get(10)!.resources.find((r) => r.type === "valuecanvas:rollout:RolloutWait");
    assert.deepEqual(wait?.options.dependsOn, ["valuecanvas:app:App::app"], "the wait comes after the service");
  });

  it("a round trip 0 → 100 → 0 restores identical inputs", async () => {
    const first = evals.get(0)!;
    const back = await evaluateStack("prod", { sets: { ...flagsOn, canaryPercentage: "0" } });
    assert.deepEqual(diffEvaluations(first, back), []);
    const changed = diffEvaluations(evals.get(100)!, back).filter((c) => !RECORD_TYPES.test(c.type) && !WAIT_TYPES.test(c.type));
    assert.deepEqual(changed.map((c) => c.name), [appService(back).name]);
  });
});

describe("the rollout record's reason", function () {
  this.timeout(60_000);
  it("carries a forced skip's reason from the stack file into the record, and nothing otherwise", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vc-reason-"));
    try {
      // A copy of the project's program next to an edited stack file.
      for (const f of ["index.ts", "Pulumi.yaml", "Pulumi.prod.yaml"]) fs.copyFileSync(path.join(PROJECT_DIR, f), path.join(dir, f));
      // Every source folder (whatever the layout calls them) and sql/; not the tests, docs or dependencies.
      const NOT_PROGRAM = new Set(["node_modules", "test", "docs", "images", "reference-app", "bench", "out"]);
      for (const d of fs.readdirSync(PROJECT_DIR, { withFileTypes: true })) {
        if (d.isDirectory() && !d.name.startsWith(".") && !NOT_PROGRAM.has(d.name)) fs.cpSync(path.join(PROJECT_DIR, d.name), path.join(dir, d.name), { recursive: true });
      }
      fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(dir, "node_modules"));
      editStack(dir, "prod", (c) => planAdvance(c, { to: 50, force: true, reason: "load test passed at 50%" }));
      const { config, secretKeys } = programConfig(readStackFile(dir, "prod"));
      const ev = await evaluateProgram({ stack: "prod", config, secretKeys, program: path.join(dir, "index.ts") });
      const event = ev.resources.find((r) => RECORD_TYPES.test(r.type) && r.custom);
      assert.equal(event?.inputs.reason, "forced skip 0% -> 50%: load test passed at 50%");
      const plain = await evaluateStack("prod", { sets: { enableStatelessOrchestration: "true", enableSafeJsonParser: "true", canaryPercentage: "10" } });
      assert.equal(plain.resources.find((r) => RECORD_TYPES.test(r.type) && r.custom)?.inputs.reason, null);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a hold (issue 25) configures no resource", function () {
  this.timeout(120_000);
  const HOLD = { reason: `bug #12: "exports" fail # for SSO: \\ users — ünï 🚀`, by: "Jane Doe", at: "2026-12-07T19:21:18Z" };
  const on = { enableStatelessOrchestration: "true", enableSafeJsonParser: "true" };
  for (const [what, sets] of [["staging at 0 %, flags off", {}], ["prod at 100 %, flags on", { ...on, canaryPercentage: "100" }]] as Array<[string, Record<string, string>]>) {
    it(`${what}: setting a hold (as Pulumi hands it over: JSON) previews as nothing, not even the rollout record or the wait`, async () => {
      const stack = what.startsWith("staging") ? "staging" : "prod";
      const base = await evaluateStack(stack, { sets });
      const held = await evaluateStack(stack, { sets: { ...sets, hold: JSON.stringify(HOLD) } });
      assert.ok(base.resources.length > 10);
      assert.deepEqual(diffEvaluations(base, held), []);
      // The control: the same evaluation does see a real change.
      const raised = await evaluateStack(stack, { sets: { ...sets, appReplicas: "5" } });
      assert.notDeepEqual(diffEvaluations(base, raised), []);
      // And the program does read the hold: a bad one fails it before any resource, naming the key and what is allowed.
      await assert.rejects(evaluateStack(stack, { sets: { ...sets, hold: JSON.stringify({ ...HOLD, at: "soon" }) } }), /valuecanvas:hold\.at = "soon": expected when the hold was set/);
    });
  }
});
