/**
 * The harness's translation of the declared docker.Service into docker CLI
 * arguments (test/support/serviceSpec.ts), on the program's own evaluations:
 * `docker service create` carries the whole declared spec, and a change is an
 * in-place `docker service update` of exactly the changed fields. No engine
 * needed: the [docker] suites run these arguments on a real Swarm.
 */
import { strict as assert } from "node:assert";
import { ENV_NAMES } from "../../core/stages";
import { rolloutLabelName } from "../../program/labels";
import { appService, evaluateStack, serviceInputs } from "../support/program";
import { declaredService } from "../support/stack";
import { ServiceInputs, checkTranslated, durationMs, serviceCreateArgs, serviceUpdateArgs } from "../support/serviceSpec";

const SETS = { appImage: "valuecanvas-local/reference-app:1", appReplicas: "3", canaryPercentage: "10" };
const spec = async (sets: Record<string, string> = {}) => declaredService(await evaluateStack("dev", { sets: { ...SETS, ...sets } }));
const flagValues = (flags: string[], flag: string) => flags.flatMap((f, i) => (f === flag ? [flags[i + 1]] : []));

describe("the declared app service as docker CLI arguments", function () {
  this.timeout(120_000);
  let base: { resource: { name: string }; spec: ServiceInputs };
  let networks: Record<string, string>;
  before(async () => {
    base = await spec();
    const n = base.spec.taskSpec.networksAdvanceds?.[0];
    networks = { [n?.id ?? n?.name ?? ""]: "real-net" };
  });

  it("one ServiceInputs, derived from the provider's types: the program tests' serviceInputs and the harness's declaredService read the same declared inputs, all of them translated", async () => {
    const ev = await evaluateStack("dev", { sets: SETS });
    const read: ServiceInputs = serviceInputs(appService(ev));
    assert.equal(declaredService(ev).spec, read);
    assert.doesNotThrow(() => checkTranslated("app", read));
    assert.equal(read.taskSpec.containerSpec.image, SETS.appImage);
    assert.equal(read.mode?.replicated?.replicas, 3);
  });

  it("create: the whole spec — replicas, dnsrr, service and container labels, env, network by id with its alias, exec health check, stop, restart, update and rollback policies", () => {
    const c = serviceCreateArgs(base.resource.name, base.spec, { networks });
    const f = c.flags;
    assert.deepEqual(flagValues(f, "--replicas"), ["3"]);
    assert.deepEqual(flagValues(f, "--endpoint-mode"), ["dnsrr"]);
    assert.ok(flagValues(f, "--label").includes(`${rolloutLabelName(ENV_NAMES.canaryPercentage)}=10`));
    assert.ok(flagValues(f, "--container-label").length > 0);
    // The settings are the ordered args (/usr/bin/env NAME=VALUE … <command>), not the env; the URL is a secret file.
    assert.deepEqual(flagValues(f, "--env"), []);
    assert.ok(c.args.includes(`${ENV_NAMES.canaryPercentage}=10`));
    assert.equal(c.args[0], "/usr/bin/env");
    assert.deepEqual(flagValues(f, "--user"), ["10001:10001"]);
    assert.deepEqual(flagValues(f, "--secret"), ["source=app-database-url-mock,target=/run/secrets/database_url,uid=10001,gid=10001,mode=0400"]);
    assert.deepEqual(flagValues(f, "--network"), ["name=real-net,alias=app"]);
    // The exec-form check is one shell-quoted argv (the CLI only makes CMD-SHELL checks).
    const hc = base.spec.taskSpec.containerSpec.healthcheck!;
    assert.equal(hc.tests?.[0], "CMD");
    assert.deepEqual(flagValues(f, "--health-cmd"), [hc.tests!.slice(1).join(" ")]);
    assert.deepEqual(flagValues(f, "--health-start-period"), [hc.startPeriod]);
    assert.deepEqual(flagValues(f, "--stop-grace-period"), [base.spec.taskSpec.containerSpec.stopGracePeriod]);
    assert.deepEqual(flagValues(f, "--update-order"), ["start-first"]);
    assert.deepEqual(flagValues(f, "--update-failure-action"), ["rollback"]);
    assert.deepEqual(flagValues(f, "--update-parallelism"), ["1"]);
    assert.deepEqual(flagValues(f, "--rollback-order"), [base.spec.rollbackConfig?.order]);
    assert.ok(f.includes("--no-resolve-image") && f.includes("--detach"));
    assert.equal(c.image, SETS.appImage);
  });

  it("a stage change is an in-place update of the args (the settings) and the rollout label only", async () => {
    const next = await spec({ canaryPercentage: "25" });
    const u = serviceUpdateArgs(base.resource.name, base.spec, next.spec);
    assert.deepEqual(u.changed.sort(), ["labels", "taskSpec.containerSpec.args"]);
    const args = flagValues(u.flags, "--args");
    assert.equal(args.length, 1);
    assert.ok(args[0].startsWith("/usr/bin/env ") && args[0].includes(` ${ENV_NAMES.canaryPercentage}=25 `), args[0]);
    assert.deepEqual(flagValues(u.flags, "--label-add"), [`${rolloutLabelName(ENV_NAMES.canaryPercentage)}=25`]);
    assert.equal(u.rollingUpdate, true);
  });

  it("the immediate rollback also sets update parallelism 0 (every task at once)", async () => {
    const next = await spec({ enableStatelessOrchestration: "false", enableSafeJsonParser: "false" });
    const u = serviceUpdateArgs(base.resource.name, base.spec, next.spec);
    assert.deepEqual(flagValues(u.flags, "--update-parallelism"), ["0"]);
    assert.ok(u.changed.includes("updateConfig"));
  });

  it("an image change is --image, a replica change --replicas (no rolling update), nothing else", async () => {
    const img = serviceUpdateArgs(base.resource.name, base.spec, (await spec({ appImage: "valuecanvas-local/reference-app:bad" })).spec);
    assert.deepEqual(img.changed, ["taskSpec.containerSpec.image"]);
    assert.deepEqual(flagValues(img.flags, "--image"), ["valuecanvas-local/reference-app:bad"]);
    const scale = serviceUpdateArgs(base.resource.name, base.spec, (await spec({ appReplicas: "5" })).spec);
    assert.deepEqual(scale.changed, ["mode.replicated.replicas"]);
    assert.deepEqual(scale.flags, ["--detach", "--no-resolve-image", "--replicas", "5"]);
    assert.equal(scale.rollingUpdate, false);
    assert.deepEqual(serviceUpdateArgs(base.resource.name, base.spec, base.spec).flags, [], "no change, no update");
  });

  it("refuses what the provider would replace the service for, and any input it does not translate, naming the field", () => {
    const c = base.spec.taskSpec.containerSpec;
    const withLabels: ServiceInputs = { ...base.spec, taskSpec: { ...base.spec.taskSpec, containerSpec: { ...c, labels: [...(c.labels ?? []), { label: "x", value: "1" }] } } };
    assert.throws(() => serviceUpdateArgs("app", base.spec, withLabels), /app: taskSpec\.containerSpec\.labels changed .*the provider replaces the service/);
    const withHostname: ServiceInputs = { ...base.spec, taskSpec: { ...base.spec.taskSpec, containerSpec: { ...c, hostname: "x" } } };
    assert.throws(() => serviceCreateArgs("app", withHostname, { networks }), /app: taskSpec\.containerSpec\.hostname is declared but not translated/);
    assert.throws(() => serviceCreateArgs("app", base.spec, { networks: {} }), /has no real network/);
  });

  it("durations as the provider reads them", () => {
    assert.equal(durationMs("7s"), 7000);
    assert.equal(durationMs("1m30s"), 90_000);
    assert.equal(durationMs("500ms"), 500);
    assert.throws(() => durationMs("7"), /duration "7": expected a Go duration/);
  });
});
