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
  it("there is a pull-request workflow and a deploy workflow", () => {
    assert.deepEqual(files, ["deploy.yml", "pull-request.yml"]);
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

  describe("pull request", () => {
    const w = load("pull-request.yml");

    it("runs on pull requests to main, again when a label changes (the override label)", () => {
      const pr = w.on.pull_request as { branches: string[]; types: string[] };
      assert.deepEqual(pr.branches, ["main"]);
      for (const t of ["opened", "synchronize", "reopened", "labeled", "unlabeled"]) assert.ok(pr.types.includes(t), t);
    });

    it("the test job runs .ci/run unit, which runs npm ci and npm test, then npm run verify without the suite", () => {
      const runs = w.jobs.test.steps.map((s) => s.run ?? "");
      assert.ok(runs.includes(".ci/run unit"));
      const ciRun = fs.readFileSync(path.join(ROOT, ".ci/run"), "utf8");
      assert.match(ciRun, /^npm ci\b/m);
      assert.match(ciRun, /^npm test\b/m);
      assert.ok(runs.includes("npm run verify -- --skip-tests"));
    });

    it("previews each changed stack with the official Pulumi action, diff on, commented on the PR", () => {
      const job = w.jobs.preview;
      assert.match(JSON.stringify(job.strategy?.matrix), /fromJSON\(needs\.changes\.outputs\.matrix\)/);
      const preview = job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
      assert.ok(preview?.with);
      assert.equal(preview.with.command, "preview");
      assert.equal(preview.with.diff, true);
      assert.equal(preview.with["comment-on-pr"], true);
      assert.match(String(preview.with["stack-name"]), /matrix\.stack/);
      assert.equal(job.env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
    });

    it("gates only raised stacks, against that stack's monitoring database secret, and enforces the verdict after commenting", () => {
      const job = w.jobs.preview;
      const gate = job.steps.find((s) => s.id === "gate");
      assert.equal(gate?.if, "matrix.raised");
      assert.match(gate?.run ?? "", /npx rollout gate --stack "\$STACK" --project-dir "\$RUNNER_TEMP\/gate-config" --json/);
      assert.equal(gate?.env?.ROLLOUT_DATABASE_URL, "${{ secrets[matrix.databaseSecret] }}");
      const order = job.steps.map((s) => s.id ?? s.name);
      const i = (x: string) => order.indexOf(x);
      assert.ok(i("gate") < i("review") && i("review") < i("Post or update the review comment") && i("Post or update the review comment") < i("Enforce the gate"));
      const enforce = job.steps.find((s) => s.name === "Enforce the gate");
      assert.match(enforce?.if ?? "", /steps\.review\.outputs\.status == 'blocked'/);
      assert.match(job.steps.find((s) => s.id === "review")?.run ?? "", /--secret-env ROLLOUT_DATABASE_URL PULUMI_ACCESS_TOKEN/);
    });

    it("the gate judges with the base branch's stack file (a pull request cannot loosen its own gate), and the comment says so", () => {
      const job = w.jobs.preview;
      const config = job.steps.find((s) => s.id === "gate-config");
      assert.equal(config?.if, "matrix.raised");
      assert.match(config?.run ?? "", /npm run --silent ci:gate-config -- .*--base "\$BASE" --head "\$HEAD" --stack "\$STACK" --out "\$RUNNER_TEMP\/gate-config"/);
      assert.equal(config?.env?.BASE, "${{ github.event.pull_request.base.sha }}");
      const order = job.steps.map((s) => s.id ?? s.name);
      assert.ok(order.indexOf("gate-config") < order.indexOf("gate"));
      assert.equal(job.steps.find((s) => s.id === "review")?.env?.GATE_CONFIG_NOTE, "${{ steps.gate-config.outputs.note }}");
      // the checkout has the base commit
      assert.equal(job.steps.find((s) => s.uses?.startsWith("actions/checkout@"))?.with?.["fetch-depth"], 0);
    });

    it("writes the rollout report for raised stacks, uploads it as an artifact, and the comment links it and charts it", () => {
      const job = w.jobs.preview;
      const report = job.steps.find((s) => s.id === "report");
      assert.equal(report?.if, "matrix.raised");
      assert.equal(report?.["continue-on-error"], true, "a report that cannot be written must not fail the review");
      assert.match(report?.run ?? "", /npx rollout report --stack "\$STACK" --project-dir "\$RUNNER_TEMP\/gate-config" --out "[^"]+\.html" --json > "\$RUNNER_TEMP\/report\.json"/);
      assert.equal(report?.env?.ROLLOUT_DATABASE_URL, "${{ secrets[matrix.databaseSecret] }}");
      const upload = job.steps.find((s) => s.id === "report-artifact");
      assert.match(upload?.uses ?? "", /^actions\/upload-artifact@v\d+$/);
      assert.match(upload?.if ?? "", /steps\.report\.outcome == 'success'/);
      assert.match(String(upload?.with?.path), /rollout-report-\$\{\{ matrix\.stack \}\}\.html$/);
      const review = job.steps.find((s) => s.id === "review");
      assert.equal(review?.env?.REPORT_URL, "${{ steps.report-artifact.outputs.artifact-url }}");
      assert.match(review?.run ?? "", /--report-json "\$RUNNER_TEMP\/report\.json"/);
      const order = job.steps.map((s) => s.id ?? s.name);
      assert.ok(order.indexOf("gate") < order.indexOf("report") && order.indexOf("report-artifact") < order.indexOf("review"));
    });

    it("a stable `rollout review` check fails when any job failed, the [docker] suites included", () => {
      assert.deepEqual(w.jobs.review.needs, ["test", "docker", "changes", "preview"]);
      assert.equal(w.jobs.review.if, "always()");
      const check = w.jobs.review.steps[0];
      assert.equal(check.env?.DOCKER, "${{ needs.docker.result }}");
      assert.match(check.run ?? "", /\[ "\$DOCKER" = success \]/);
    });
  });

  describe("deploy", () => {
    const w = load("deploy.yml");

    it("runs on pushes to main (and by hand from a given base)", () => {
      assert.deepEqual((w.on.push as { branches: string[] }).branches, ["main"]);
      assert.ok("workflow_dispatch" in w.on);
    });

    it("pulumi up one stack at a time, a concurrency group per stack never cancelled mid-update, then rollout status", () => {
      const up = w.jobs.up;
      assert.deepEqual(up.needs, ["test", "docker", "changes"]);
      assert.equal(up.strategy?.["max-parallel"], 1);
      assert.equal(up.concurrency?.group, "pulumi-up-${{ matrix.stack }}");
      assert.equal(up.concurrency?.["cancel-in-progress"], false);
      const names = up.steps.map((s) => s.uses?.split("@")[0] ?? s.run ?? "");
      const pulumi = up.steps.find((s) => s.uses?.startsWith("pulumi/actions@"));
      assert.equal(pulumi?.with?.command, "up");
      assert.ok(names.indexOf("pulumi/actions") < names.indexOf('npx rollout status --stack "$STACK"'));
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
      assert.ok(names.indexOf(check.name) < up.steps.findIndex((s) => s.uses?.startsWith("pulumi/actions@")));
    });

    it("the merged tree is tested (npm ci, npm test through .ci/run, the [docker] suites too) before anything is deployed", () => {
      assert.ok(w.jobs.test.steps.some((s) => s.run === ".ci/run unit"));
      assert.ok(w.jobs.up.needs?.includes("docker"));
    });
  });

  describe("the [docker] suites", () => {
    const raw = (f: string) => parse(fs.readFileSync(path.join(WORKFLOWS, f), "utf8")) as { jobs: Record<string, { "runs-on": string; "timeout-minutes"?: number; container?: unknown }> };
    const ciRun = fs.readFileSync(path.join(ROOT, ".ci/run"), "utf8");

    for (const f of files) {
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

  it("both workflows leave the local-only dev stack out and decide with the same script", () => {
    for (const f of files) {
      const detect = steps(load(f)).filter((s) => /ci:changed-stacks/.test(s.run ?? ""));
      assert.ok(detect.length > 0, f);
      for (const s of detect) assert.match(s.run ?? "", /--exclude dev\b/);
    }
  });
});
