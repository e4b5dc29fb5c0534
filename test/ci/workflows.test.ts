/**
 * The GitHub Actions workflows: valid for the real validator
 * (@action-validator/cli), wired to the scripts that hold the decisions, thin,
 * and never echoing a secret.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { monitoringSecretName } from "../../ci/changes";
import { twoCommits } from "./gitFixture";

const ROOT = path.resolve(__dirname, "../..");
const WORKFLOWS = path.join(ROOT, ".github/workflows");
const VALIDATOR = path.join(ROOT, "node_modules/.bin/action-validator");
/** A `run:` block longer than this is logic that belongs in a tested script. */
const MAX_RUN_LINES = 12;

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, string | boolean>;
  "continue-on-error"?: boolean;
}
interface Job {
  name?: string;
  environment?: string;
  outputs?: Record<string, string>;
  needs?: string | string[];
  if?: string;
  container?: string;
  strategy?: { matrix?: unknown; "max-parallel"?: number; "fail-fast"?: boolean };
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  env?: Record<string, string>;
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const load = (f: string): Workflow => parse(fs.readFileSync(path.join(WORKFLOWS, f), "utf8")) as Workflow;
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps);
const validate = (file: string) => spawnSync(VALIDATOR, [file], { cwd: ROOT, encoding: "utf8" });

describe("CI workflows", () => {
  it("there is a pull-request workflow (the PR's tests), a rollout-review workflow (the decisions), a deploy workflow and the scheduled proposals", () => {
    assert.deepEqual(files, ["deploy.yml", "propose.yml", "pull-request.yml", "rollout-review.yml"]);
  });

  for (const f of files) {
    it(`${f} passes the real validator (action-validator)`, () => {
      const r = validate(path.join(".github/workflows", f));
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    });
  }

  it("the validator really validates: a misspelt job key is rejected", () => {
    const bad = path.join(ROOT, ".tmp", "invalid-workflow.yml");
    fs.mkdirSync(path.dirname(bad), { recursive: true });
    fs.writeFileSync(bad, fs.readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8").replace("runs-on:", "runs_on:"));
    try {
      const r = validate(bad);
      assert.equal(r.status, 1);
      assert.match(r.stdout + r.stderr, /Additional property 'runs_on' is not allowed/);
    } finally {
      fs.rmSync(bad);
    }
  });

  it("every `npm run` script a workflow calls exists in package.json", () => {
    const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const called = new Set<string>();
    for (const f of files) for (const s of steps(load(f))) for (const m of (s.run ?? "").matchAll(/npm run (?:--silent )?([\w:-]+)/g)) called.add(m[1]);
    assert.ok(called.has("ci:changed-stacks") && called.has("ci:pr-comment") && called.has("verify"));
    for (const name of called) assert.ok(name in scripts, `package.json has no script "${name}"`);
  });

  it("logic stays in scripts: every run block is short", () => {
    for (const f of files) {
      for (const s of steps(load(f))) {
        const n = (s.run ?? "").trimEnd().split("\n").length;
        assert.ok(n <= MAX_RUN_LINES, `${f} step "${s.name ?? s.run}" has ${n} lines (max ${MAX_RUN_LINES})`);
      }
    }
  });

  it("secrets reach steps through env/with only, and no run block prints a variable that holds one", () => {
    for (const f of files) {
      const w = load(f);
      for (const [jobName, job] of Object.entries(w.jobs)) {
        const secretEnv = new Set(Object.entries(job.env ?? {}).filter(([, v]) => /secrets\./.test(String(v))).map(([k]) => k));
        for (const s of job.steps) {
          assert.doesNotMatch(s.run ?? "", /\$\{\{[^}]*secrets/, `${f}/${jobName}: a secret is interpolated into a script`);
          const names = new Set(secretEnv);
          for (const [k, v] of Object.entries(s.env ?? {})) if (/secrets[.[]/.test(String(v))) names.add(k);
          for (const name of names) {
            const printed = new RegExp(`(echo|printf|cat|tee)[^\\n]*\\$\\{?${name}\\b`);
            assert.doesNotMatch(s.run ?? "", printed, `${f}/${jobName}/${s.name}: prints ${name}`);
          }
        }
      }
    }
  });

  describe("pull request: the PR's own code, with no secret", () => {
    const w = load("pull-request.yml");
    const text = fs.readFileSync(path.join(WORKFLOWS, "pull-request.yml"), "utf8");

    it("runs on pull requests to main", () => {
      const pr = w.on.pull_request as { branches: string[]; types: string[] };
      assert.deepEqual(pr.branches, ["main"]);
      for (const t of ["opened", "synchronize", "reopened"]) assert.ok(pr.types.includes(t), t);
    });

    it("the test job runs .ci/run unit, which runs npm ci and npm test, then npm run verify without the suite", () => {
      const runs = w.jobs.test.steps.map((s) => s.run ?? "");
      assert.ok(runs.includes(".ci/run unit"));
      const ciRun = fs.readFileSync(path.join(ROOT, ".ci/run"), "utf8");
      assert.match(ciRun, /^npm ci\b/m);
      assert.match(ciRun, /^npm test\b/m);
      assert.ok(runs.includes("npm run verify -- --skip-tests"));
    });

    it("holds no secret and decides nothing but whether its long jobs may skip: no secrets., no gate or comment (a PR can edit this file)", () => {
      assert.doesNotMatch(text.replace(/^\s*#.*$/gm, ""), /secrets[.[]/);
      assert.doesNotMatch(text, /ci:pr-comment|rollout gate|pulumi\/actions/);
      assert.deepEqual(w.permissions, { contents: "read" });
      assert.deepEqual(w.jobs.tests.needs, ["scope", "test", "docker"]);
    });

    it("whether the long jobs may skip is decided by the BASE commit's code on the head's files as data, persisting no credentials", () => {
      const scope = w.jobs.scope;
      const checkout = scope.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
      assert.equal(checkout?.with?.ref, "${{ github.event.pull_request.base.sha }}");
      assert.equal(checkout?.with?.["persist-credentials"], false);
      const runs = scope.steps.map((s) => s.run ?? "").join("\n");
      assert.match(runs, /git fetch --no-tags "\$REPO_URL" "\+refs\/pull\/\$PR\/head:refs\/remotes\/pull\/head"/);
      assert.doesNotMatch(runs, /git (checkout|switch)|npm (test|run (?!--silent ci:changed-stacks))/, "nothing of the head runs");
      assert.equal(scope.outputs?.testsNeeded, "${{ steps.detect.outputs.testsNeeded }}");
      for (const j of ["test", "docker"]) {
        assert.equal(w.jobs[j].needs, "scope", j);
        assert.equal(w.jobs[j].if, "needs.scope.outputs.testsNeeded != 'false'", `${j}: runs unless told 'false' (an older base's empty answer runs it)`);
      }
    });
  });

  describe("a rollback-only pull request and merge skip the long test jobs (issue 25), run for real", () => {
    const pr = load("pull-request.yml");
    const aggregate = pr.jobs.tests.steps[0].run ?? "";
    const check = (env: Record<string, string>) => spawnSync("bash", ["-e", "-c", aggregate], { env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" }).status;

    it("the `pull request tests` check: passes when both jobs passed, or when none was needed and both skipped; fails otherwise", () => {
      assert.doesNotMatch(aggregate, /\$\{\{/);
      const cases: Array<[string, Record<string, string>, 0 | 1]> = [
        ["both passed", { SCOPE: "success", TESTS_NEEDED: "true", TEST: "success", DOCKER: "success" }, 0],
        ["a rollback: both skipped", { SCOPE: "success", TESTS_NEEDED: "false", TEST: "skipped", DOCKER: "skipped" }, 0],
        ["a rollback whose jobs ran anyway and passed", { SCOPE: "success", TESTS_NEEDED: "false", TEST: "success", DOCKER: "success" }, 0],
        ["needed, test failed", { SCOPE: "success", TESTS_NEEDED: "true", TEST: "failure", DOCKER: "success" }, 1],
        ["needed, docker cancelled", { SCOPE: "success", TESTS_NEEDED: "true", TEST: "success", DOCKER: "cancelled" }, 1],
        ["needed, both skipped (a hostile edit of the if:)", { SCOPE: "success", TESTS_NEEDED: "true", TEST: "skipped", DOCKER: "skipped" }, 1],
        ["no answer (an older base), both skipped", { SCOPE: "success", TESTS_NEEDED: "", TEST: "skipped", DOCKER: "skipped" }, 1],
        ["scope failed, both skipped", { SCOPE: "failure", TESTS_NEEDED: "", TEST: "skipped", DOCKER: "skipped" }, 1],
        ["scope failed, both passed", { SCOPE: "failure", TESTS_NEEDED: "", TEST: "success", DOCKER: "success" }, 1],
        ["a rollback, one skipped and one failed", { SCOPE: "success", TESTS_NEEDED: "false", TEST: "skipped", DOCKER: "failure" }, 1],
      ];
      for (const [what, env, want] of cases) assert.equal(check(env), want, what);
    });

    it("the scope step, run by bash on a real repository: a rollback PR says testsNeeded=false, a raise says true", function () {
      this.timeout(120_000);
      const detect = pr.jobs.scope.steps.find((s) => s.id === "detect")?.run ?? "";
      assert.doesNotMatch(detect, /\$\{\{/);
      const stack = (pct: number, flags: boolean) =>
        ["config:", `  valuecanvas:appImage: ghcr.io/valuecanvas/app@sha256:${"a".repeat(64)}`, `  valuecanvas:enableStatelessOrchestration: "${flags}"`, `  valuecanvas:enableSafeJsonParser: "${flags}"`, `  valuecanvas:canaryPercentage: "${pct}"`].join("\n") + "\n";
      for (const [what, head, want] of [
        ["an immediate rollback", stack(25, false), "false"],
        ["a raise", stack(50, true), "true"],
      ] as Array<[string, string, string]>) {
        const r = twoCommits({ "Pulumi.prod.yaml": stack(25, true) }, { "Pulumi.prod.yaml": head });
        try {
          // The step runs `npm run ci:changed-stacks` in the checkout: an untracked package.json there names this project's script.
          fs.writeFileSync(path.join(r.dir, "package.json"), JSON.stringify({ scripts: { "ci:changed-stacks": `node ${JSON.stringify(path.join(ROOT, "bin/run.cjs"))} cli/changed-stacks` } }));
          const out = path.join(r.dir, "gh-output");
          const p = spawnSync("bash", ["-e", "-c", detect], { cwd: r.dir, env: { ...process.env, BASE: r.base, HEAD: r.head, GITHUB_OUTPUT: out }, encoding: "utf8" });
          assert.equal(p.status, 0, p.stderr);
          assert.match(fs.readFileSync(out, "utf8"), new RegExp(`^testsNeeded=${want}$`, "m"), what);
        } finally {
          fs.rmSync(r.dir, { recursive: true, force: true });
        }
      }
    });
  });

  describe("rollout review: decisions by the base's code (the trust boundary, issue 21)", () => {
    const w = load("rollout-review.yml");
    const checkout = (j: Job) => j.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
    const BASE_SHA = "${{ github.event.pull_request.base.sha }}";
    const HEAD_SHA = "${{ github.event.pull_request.head.sha }}";

    it("runs as pull_request_target (GitHub takes this file from the base branch), on every event that can change the decision", () => {
      const t = w.on.pull_request_target as { branches: string[]; types: string[] };
      assert.deepEqual(Object.keys(w.on), ["pull_request_target"]);
      assert.deepEqual(t.branches, ["main"]);
      for (const x of ["opened", "synchronize", "reopened", "labeled", "unlabeled"]) assert.ok(t.types.includes(x), x);
      assert.deepEqual(w.permissions, {}, "no default token permission: each job asks for its own");
    });

    it("the deciding jobs check out the BASE commit only, persist no credentials, and never run a command from the head", () => {
      for (const name of ["decide", "review"]) {
        const job = w.jobs[name];
        const co = checkout(job);
        assert.equal(co?.with?.ref, BASE_SHA, `${name} checks out the base`);
        assert.equal(co?.with?.["persist-credentials"], false);
        assert.equal(job.steps.filter((s) => s.uses?.startsWith("actions/checkout@")).length, 1, `${name}: one checkout, the base's`);
        for (const s of job.steps) {
          // The head is only fetched as git objects and read with git (changed-stacks, gate-config, reviewed-plan manifest).
          assert.doesNotMatch(s.run ?? "", /git (checkout|switch|worktree|reset)|--head-dir|cd .*head/, `${name}/${s.name}: must not run the head`);
          assert.doesNotMatch(JSON.stringify(s.with ?? {}), /head\.sha|head\.ref/, `${name}/${s.name}: nothing of the head as an action input`);
        }
        assert.ok(job.steps.some((s) => s.run === "npm ci --no-audit --no-fund"), `${name}: its own npm ci of the base`);
        assert.ok(!job.steps.some((s) => s.uses?.startsWith("actions/setup-node@") && s.with?.cache), `${name}: no cache a head job could have poisoned`);
      }
    });

    it("only the preview job runs the head's code: with the preview token only, no database secret, a read-only token, no cache", () => {
      const job = w.jobs.preview;
      assert.equal(checkout(job)?.with?.ref, HEAD_SHA);
      assert.equal(checkout(job)?.with?.["persist-credentials"], false);
      assert.deepEqual(job.permissions, { contents: "read" });
      assert.equal(job.environment, "preview");
      const secretsUsed = JSON.stringify(job).match(/secrets[.[][^ }]*/g) ?? [];
      assert.deepEqual(secretsUsed, ["secrets.PULUMI_PREVIEW_TOKEN"]);
      assert.ok(!job.steps.some((s) => s.uses?.startsWith("actions/setup-node@") && s.with?.cache));
      assert.match(JSON.stringify(job.strategy?.matrix), /needs\.decide\.outputs\.previews/, "only stacks the base's code says need a plan");
    });

    it("the preview refreshes and saves a plan, with the argv from ci:reviewed-plan, and uploads it as data", () => {
      const job = w.jobs.preview;
      const run = job.steps.map((s) => s.run ?? "").join("\n");
      assert.match(run, /ci:reviewed-plan -- argv preview --stack "\$PULUMI_STACK" --plan "\$RUNNER_TEMP\/plan\/plan\.json"/);
      assert.match(run, /pulumi "\$\{args\[@\]\}"/);
      assert.match(run, /set -o pipefail/);
      assert.ok(job.steps.some((s) => s.uses?.startsWith("actions/upload-artifact@") && s.with?.name === "preview-${{ matrix.stack }}"));
    });

    it("the secrets with power (database URLs) are only in the review job, which runs the base's code; the deploy token never appears", () => {
      const text = fs.readFileSync(path.join(WORKFLOWS, "rollout-review.yml"), "utf8").replace(/^\s*#.*$/gm, "");
      assert.doesNotMatch(text, /secrets\.PULUMI_ACCESS_TOKEN/);
      for (const [name, job] of Object.entries(w.jobs)) {
        if (/secrets\[matrix\.databaseSecret\]/.test(JSON.stringify(job))) assert.equal(name, "review");
      }
      assert.equal(w.jobs.review.environment, "rollout-gate");
    });

    it("the review job records the manifest with the base's code and keeps plan + manifest as the reviewed-plan artifact", () => {
      const job = w.jobs.review;
      const manifest = job.steps.find((s) => s.id === "manifest");
      assert.match(manifest?.run ?? "", /ci:reviewed-plan -- manifest --repo \. --head "\$HEAD" --stack "\$STACK" --out "\$RUNNER_TEMP\/plan\/manifest\.json"/);
      const keep = job.steps.find((s) => s.with?.name === "reviewed-plan-${{ matrix.stack }}");
      assert.match(String(keep?.with?.path), /plan\.json[\s\S]*manifest\.json/);
      const order = job.steps.map((s) => s.id ?? s.name);
      assert.ok(order.indexOf("preview") < order.indexOf("manifest"));
    });

    it("gates only raised stacks with the base's thresholds, reads who applied the override label from the timeline, enforces after commenting", () => {
      const job = w.jobs.review;
      const gate = job.steps.find((s) => s.id === "gate");
      assert.equal(gate?.if, "matrix.raised");
      assert.match(gate?.run ?? "", /npx rollout gate --stack "\$STACK" --project-dir "\$RUNNER_TEMP\/gate-config" --json/);
      assert.equal(gate?.env?.ROLLOUT_DATABASE_URL, "${{ secrets[matrix.databaseSecret] }}");
      const config = job.steps.find((s) => s.id === "gate-config");
      assert.match(config?.run ?? "", /npm run --silent ci:gate-config -- .*--base "\$BASE" --head "\$HEAD" --stack "\$STACK" --out "\$RUNNER_TEMP\/gate-config"/);
      assert.equal(job.env?.BASE, BASE_SHA);
      const review = job.steps.find((s) => s.id === "review");
      assert.match(review?.run ?? "", /--timeline "\$RUNNER_TEMP\/timeline\.json"/);
      assert.equal(review?.env?.PR_AUTHOR, "${{ github.event.pull_request.user.login }}");
      assert.match(review?.run ?? "", /--secret-env ROLLOUT_DATABASE_URL/);
      const timeline = job.steps.find((s) => /listEventsForTimeline/.test(String(s.with?.script)));
      assert.ok(timeline, "the timeline is fetched");
      const order = job.steps.map((s) => s.id ?? s.name);
      const i = (x: string) => order.indexOf(x);
      assert.ok(i("gate-config") < i("gate") && i("gate") < i("review") && i("review") < i("Post or update the review comment") && i("Post or update the review comment") < i("Enforce the gate"));
      assert.ok(i(timeline.name ?? "") < i("review"));
    });

    it("a stable `rollout review` check fails when the decision, a needed preview or a review failed", () => {
      const j = w.jobs["rollout-review"];
      assert.equal(j.name, "rollout review");
      assert.deepEqual(j.needs, ["decide", "preview", "review"]);
      assert.equal(j.if, "always()");
      assert.match(j.steps[0].run ?? "", /\[ "\$DECIDE" = success \]/);
    });
  });

  describe("CODEOWNERS", () => {
    it("covers every path that decides or installs what decides, and every Pulumi file", () => {
      const owners = fs.readFileSync(path.join(ROOT, ".github/CODEOWNERS"), "utf8");
      for (const p of ["/.github/", "/ci/", "/cli/", "/core/", "/db/", "/stack/", "/bin/", "/tools/", "/components/", "/program/", "/index.ts", "/package.json", "/package-lock.json", "/Pulumi.*", "/Pulumi*"]) {
        assert.match(owners, new RegExp(`^${p.replace(/[.*/]/g, (c) => "\\" + c)}\\s+@\\S+`, "m"), p);
      }
    });
  });

  describe("deploy", () => {
    const w = load("deploy.yml");

    it("restores no cache (a job that ran a pull request's code could have saved one in main's scope)", () => {
      for (const job of Object.values(w.jobs)) assert.ok(!job.steps.some((s) => s.uses?.startsWith("actions/setup-node@") && s.with?.cache));
    });

    it("runs on pushes to main (and by hand from a given base)", () => {
      assert.deepEqual((w.on.push as { branches: string[] }).branches, ["main"]);
      assert.ok("workflow_dispatch" in w.on);
    });

    it("pulumi up one stack at a time, a concurrency group per stack never cancelled mid-update, then rollout status", () => {
      const up = w.jobs.up;
      assert.deepEqual(up.needs, ["changes", "test", "docker"]);
      assert.equal(up.strategy?.["max-parallel"], 1);
      assert.equal(up.concurrency?.group, "pulumi-up-${{ matrix.stack }}");
      assert.equal(up.concurrency?.["cancel-in-progress"], false);
      const i = (re: RegExp) => up.steps.findIndex((s) => re.test(s.run ?? ""));
      assert.ok(i(/pulumi "\$\{args\[@\]\}"/) >= 0 && i(/pulumi "\$\{args\[@\]\}"/) < i(/npx rollout status --stack "\$STACK"/));
    });

    it("applies the reviewed plan after checking it against the merged commit; a rollback skips plan and preview; always refreshed (ci:reviewed-plan)", () => {
      const up = w.jobs.up;
      const check = up.steps.find((s) => /ci:reviewed-plan -- check/.test(s.run ?? ""));
      assert.equal(check?.if, "matrix.deploy == 'plan'");
      assert.match(check?.run ?? "", /--ref "\$GITHUB_SHA" --stack "\$STACK" --manifest "\$RUNNER_TEMP\/plan\/manifest\.json"/);
      assert.equal(check?.["continue-on-error"], undefined, "a stale plan stops the deploy");
      const download = up.steps.find((s) => s.uses?.startsWith("actions/download-artifact@"));
      assert.equal(download?.with?.name, "reviewed-plan-${{ matrix.stack }}");
      const apply = up.steps.find((s) => /pulumi "\$\{args\[@\]\}"/.test(s.run ?? ""));
      assert.match(apply?.run ?? "", /ci:reviewed-plan -- argv up --stack "\$PULUMI_STACK" --mode "\$MODE" --plan "\$RUNNER_TEMP\/plan\/plan\.json"/);
      assert.equal(apply?.env?.MODE, "${{ matrix.deploy }}");
      assert.equal(apply?.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
      assert.equal(up.environment, "deploy");
      const order = up.steps.map((s) => s.name ?? s.uses ?? "");
      assert.ok(order.indexOf(check?.name ?? "") < order.indexOf(apply?.name ?? ""));
    });

    it("each stack deploys from its own runner (DEPLOY_RUNNER_<STACK>), and the job refuses a throwaway runner before pulumi up", () => {
      const raw = parse(fs.readFileSync(path.join(WORKFLOWS, "deploy.yml"), "utf8")) as { jobs: { up: { "runs-on": string } } };
      assert.equal(raw.jobs.up["runs-on"], "${{ vars[matrix.runnerVar] || 'ubuntu-latest' }}");
      const up = w.jobs.up;
      const names = up.steps.map((s) => s.name ?? s.uses ?? s.run);
      const check = up.steps.find((s) => /ci:deploy-target/.test(s.run ?? ""));
      assert.ok(check, "no deploy-target step");
      assert.match(check.run ?? "", /--stack "\$STACK" --runner "\$DEPLOY_RUNNER"/);
      assert.equal(check.env?.DEPLOY_RUNNER, "${{ vars[matrix.runnerVar] }}");
      assert.equal(check["continue-on-error"], undefined, "a refusal must stop the job");
      assert.ok(names.indexOf(check.name) < up.steps.findIndex((s) => /pulumi "\$\{args\[@\]\}"/.test(s.run ?? "")));
    });

    it("the merged tree is tested (npm ci, npm test through .ci/run, the [docker] suites too) before anything is deployed, unless it only rolls back or holds", () => {
      assert.ok(w.jobs.test.steps.some((s) => s.run === ".ci/run unit"));
      assert.ok(w.jobs.up.needs?.includes("docker"));
      for (const j of ["test", "docker"]) assert.equal(w.jobs[j].if, "needs.changes.outputs.testsNeeded != 'false'", j);
      assert.equal(w.jobs.changes.outputs?.testsNeeded, "${{ steps.detect.outputs.testsNeeded }}");
      assert.equal(
        w.jobs.up.if,
        "${{ !cancelled() && needs.changes.result == 'success' && needs.changes.outputs.any == 'true' && (needs.changes.outputs.testsNeeded == 'false' || (needs.test.result == 'success' && needs.docker.result == 'success')) }}",
      );
    });
  });

  describe("the [docker] suites", () => {
    const raw = (f: string) => parse(fs.readFileSync(path.join(WORKFLOWS, f), "utf8")) as { jobs: Record<string, { "runs-on": string; "timeout-minutes"?: number; container?: unknown }> };
    const ciRun = fs.readFileSync(path.join(ROOT, ".ci/run"), "utf8");

    for (const f of ["deploy.yml", "pull-request.yml"]) {
      it(`${f}: a docker job runs .ci/run docker as root on the hosted runner itself (its Docker engine), with a timeout`, () => {
        const job = load(f).jobs.docker;
        assert.ok(job, `${f} has no docker job`);
        const r = raw(f).jobs.docker;
        assert.equal(r.container, undefined, "a job container cannot start or reach an engine");
        assert.equal(r["runs-on"], "ubuntu-latest");
        // Measured from an empty data root: see docs/air-gapped.md; never GitHub's 6-hour default.
        assert.ok((r["timeout-minutes"] ?? 360) >= 30 && (r["timeout-minutes"] ?? 360) <= 60, String(r["timeout-minutes"]));
        assert.ok(job.steps.some((s) => s.uses?.startsWith("actions/setup-node@") && String(s.with?.["node-version"]) === "20"));
        assert.ok(job.steps.some((s) => s.run === 'sudo env "PATH=$PATH" .ci/run docker'));
        // The unprivileged job container runs the rest, so every test runs exactly once.
        assert.ok(load(f).jobs.test.steps.some((s) => s.run === ".ci/run unit"));
      });
    }

    it(".ci/run: each mode selects its part of the suite, and the docker part starts an engine and builds the images first", () => {
      assert.match(ciRun, /^\[ "\$mode" = unit \] && test_args=\(--grep '\\\[docker\\\]' --invert\)$/m);
      assert.match(ciRun, /^\[ "\$mode" = docker \] && test_args=\(--grep '\\\[docker\\\]'\)$/m);
      const i = (re: RegExp) => ciRun.search(re);
      assert.ok(i(/^npm ci\b/m) < i(/^ {2}\.ci\/start-dockerd$/m));
      assert.ok(i(/^ {2}\.ci\/start-dockerd$/m) < i(/^ {2}npm run images$/m));
      assert.ok(i(/^ {2}npm run images$/m) < i(/^npm test -- "\$\{test_args\[@\]\}"$/m));
      assert.match(ciRun, /packages\+=\(debootstrap debian-archive-keyring\)/);
      // A docker CLI alone is no engine: docker.io unless an engine answers or dockerd is installed.
      assert.match(ciRun, /^ {2}docker info >\/dev\/null 2>&1 \|\| command -v dockerd >\/dev\/null \|\| packages\+=\(docker\.io\)$/m);
    });

    it(".ci/start-dockerd uses an engine that answers, else starts dockerd --storage-driver=vfs and waits, bounded, for docker info", () => {
      const start = fs.readFileSync(path.join(ROOT, ".ci/start-dockerd"), "utf8");
      const i = (re: RegExp) => start.search(re);
      assert.ok(i(/^if docker info >\/dev\/null 2>&1; then$/m) >= 0 && i(/^if docker info/m) < i(/^nohup dockerd --storage-driver=vfs "\$@"/m));
      assert.match(start, /for _ in \$\(seq 1 "\$wait_s"\); do/);
      assert.match(start, /did not answer docker info within \$\{wait_s\}s/);
    });
  });

  describe("rollout propose: scheduled, main's code, proposes and never merges (issue 25)", () => {
    const w = load("propose.yml");
    const text = fs.readFileSync(path.join(WORKFLOWS, "propose.yml"), "utf8");
    const job = w.jobs.propose;
    const raw = parse(text) as { on: { schedule: Array<{ cron: string }>; workflow_dispatch: unknown }; jobs: { propose: { strategy: { matrix: { include: Array<{ stack: string; databaseSecret: string }> } } } } };

    it("runs on a schedule (every 30 minutes) and by hand, only those: main's workflow file and code", () => {
      assert.deepEqual(Object.keys(w.on).sort(), ["schedule", "workflow_dispatch"]);
      assert.deepEqual(raw.on.schedule.map((c) => c.cron), ["*/30 * * * *"]);
      assert.deepEqual(w.permissions, { contents: "read" });
      const checkout = job.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
      assert.equal(checkout?.with?.ref, "main");
    });

    it("one job per deployed stack (every stack file but dev), each with its own monitoring secret, one run per stack at a time", () => {
      const stacks = fs.readdirSync(ROOT).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((x): x is string => x !== undefined && x !== "dev").sort();
      const include = raw.jobs.propose.strategy.matrix.include;
      assert.deepEqual(include.map((i) => i.stack).sort(), stacks);
      for (const i of include) assert.equal(i.databaseSecret, monitoringSecretName(i.stack));
      assert.equal(job.environment, "rollout-gate", "the database secrets' environment, limited to main");
      assert.equal(job.concurrency?.group, "rollout-propose-${{ matrix.stack }}");
      assert.equal(job.concurrency?.["cancel-in-progress"], false);
    });

    it("the tool gets its token as GITHUB_TOKEN from the propose secret (not the built-in token, whose pull requests start no workflow), through env only", () => {
      const step = job.steps.find((s) => /rollout propose/.test(s.run ?? ""));
      assert.ok(step);
      assert.equal(step.run, 'npx rollout propose --stack "$STACK" --base main');
      assert.equal(step.env?.GITHUB_TOKEN, "${{ secrets.ROLLOUT_PROPOSE_TOKEN }}");
      assert.equal(step.env?.ROLLOUT_DATABASE_URL, "${{ secrets[matrix.databaseSecret] }}");
      assert.doesNotMatch(text.replace(/^\s*#.*$/gm, ""), /secrets\.GITHUB_TOKEN|github\.token/);
      // nothing merges, and no other command runs with the token
      assert.doesNotMatch(text, /gh pr merge|pulls\.merge|--auto|merge_method/);
      assert.deepEqual(job.steps.map((s) => s.run).filter(Boolean), ["npm ci --no-audit --no-fund", 'npx rollout propose --stack "$STACK" --base main']);
    });
  });

  it("the deciding workflows leave the local-only dev stack out and decide with the same script", () => {
    for (const f of ["deploy.yml", "rollout-review.yml"]) {
      const detect = steps(load(f)).filter((s) => /ci:changed-stacks/.test(s.run ?? ""));
      assert.ok(detect.length > 0, f);
      for (const s of detect) assert.match(s.run ?? "", /--exclude dev\b/);
    }
  });
});
