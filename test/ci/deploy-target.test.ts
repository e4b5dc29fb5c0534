/**
 * Where `pulumi up` deploys: a self-hosted runner per stack (DEPLOY_RUNNER_<STACK>)
 * or a remote Docker engine (`docker:host` in the stack file); never the
 * throwaway GitHub-hosted runner. The deploy workflow runs the check before
 * `pulumi up` and picks the runner from the same variable.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { deployRunnerVariable, deployTarget } from "../../ci/deployTarget";
import { StackFileError } from "../../stack/stackFileError";

const ROOT = path.resolve(__dirname, "../..");

const stackFile = (extra: string[] = []) =>
  ["config:", `  valuecanvas:appImage: ghcr.io/valuecanvas/app@sha256:${"a".repeat(64)}`, '  valuecanvas:canaryPercentage: "0"', ...extra].join("\n") + "\n";

describe("CI: where pulumi up deploys a stack", () => {
  it("the runner variable is DEPLOY_RUNNER_ and the stack in capitals", () => {
    assert.equal(deployRunnerVariable("prod"), "DEPLOY_RUNNER_PROD");
    assert.equal(deployRunnerVariable("eu-west.1"), "DEPLOY_RUNNER_EU_WEST_1");
  });

  it("neither a runner nor docker:host: refused, naming the variable and the docker:host command", () => {
    const t = deployTarget("prod", stackFile(), undefined);
    assert.equal(t.ok, false);
    assert.match(t.message, /refusing to run pulumi up: Pulumi\.prod\.yaml has no docker:host and repository variable DEPLOY_RUNNER_PROD is not set/);
    assert.match(t.message, /pulumi config set --stack prod docker:host ssh:\/\//);
    assert.equal(deployTarget("prod", stackFile(), "  ").ok, false, "blank counts as unset");
  });

  it("a GitHub-hosted label in the variable is refused too (it is as throwaway as the default)", () => {
    const t = deployTarget("prod", stackFile(), "ubuntu-24.04");
    assert.equal(t.ok, false);
    assert.match(t.message, /DEPLOY_RUNNER_PROD is "ubuntu-24\.04", a GitHub-hosted runner/);
  });

  it("a self-hosted runner label: deploys to that machine's local Docker engine", () => {
    const t = deployTarget("prod", stackFile(), "deploy-prod");
    assert.ok(t.ok);
    assert.equal(t.runner, "deploy-prod");
    assert.equal(t.dockerHost, null);
    assert.match(t.message, /local Docker engine of the self-hosted runner "deploy-prod"/);
    assert.match(t.message, /that engine must be a Docker Swarm manager/);
  });

  it("docker:host in the stack file: deploys to that engine, from any runner", () => {
    const t = deployTarget("prod", stackFile(["  docker:host: ssh://deploy@app-host.valuecanvas.internal"]), undefined);
    assert.ok(t.ok);
    assert.equal(t.dockerHost, "ssh://deploy@app-host.valuecanvas.internal");
    assert.match(t.message, /Docker engine at ssh:\/\/deploy@app-host\.valuecanvas\.internal .* from runner ubuntu-latest/);
    assert.match(t.message, /that engine must be a Docker Swarm manager/);
  });

  it("the repository's CI stacks (staging, prod) say where they deploy only through the variable today", () => {
    for (const stack of ["staging", "prod"]) {
      const t = deployTarget(stack, fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8"), undefined);
      assert.equal(t.ok, false, `${stack}: ${t.message}`);
    }
  });

  it("a malformed stack file is the stack reader's clear error", () => {
    assert.throws(() => deployTarget("prod", "config: [", "deploy-prod"), StackFileError);
  });

  it("cli/deploy-target.ts exits 1 with the message when refused, 0 with it when allowed", function () {
    this.timeout(60_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-target-"));
    try {
      fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), stackFile());
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [require.resolve("ts-node/dist/bin.js"), "--transpile-only", "cli/deploy-target.ts", "--stack", "prod", "--project-dir", dir, ...args], { cwd: ROOT, encoding: "utf8" });
      const refused = run();
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /^deploy-target: prod: refusing to run pulumi up/);
      const ok = run("--runner", "deploy-prod");
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /self-hosted runner "deploy-prod"/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
