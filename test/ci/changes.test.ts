/**
 * Changed-stack and raised-canary detection, on real git history in a
 * temporary repository: raise, lower, unchanged, new stack, secret-only
 * change, program change, removed stack, and the merge-base rule.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError } from "../../core/config";
import { canaryChange, changedStacks, deployOrder, isProgramPath, monitoringSecretName, programPaths } from "../../ci/changes";
import { actionsMatrix, detectChanges, programTexts } from "../../ci/detect";
import { GitError, ZERO_SHA } from "../../ci/git";
import { githubOutputs } from "../../cli/changed-stacks";
import { editStackText } from "../../stack/splice";
import { GIT_ENV } from "./gitFixture";

const ROOT = path.resolve(__dirname, "../..");


class Repo {
  readonly dir: string;
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "ci-changes-"));
    this.git("init", "-q", "-b", "main");
  }
  git(...args: string[]): string {
    return execFileSync("git", args, { cwd: this.dir, env: GIT_ENV, encoding: "utf8" }).trim();
  }
  write(file: string, text: string): this {
    fs.mkdirSync(path.dirname(path.join(this.dir, file)), { recursive: true });
    fs.writeFileSync(path.join(this.dir, file), text);
    return this;
  }
  remove(file: string): this {
    fs.rmSync(path.join(this.dir, file));
    return this;
  }
  commit(message: string): string {
    this.git("add", "-A");
    this.git("commit", "-q", "--allow-empty", "-m", message);
    return this.git("rev-parse", "HEAD");
  }
  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A stack file like the repo's, with the rollout keys and an optional secret as given. */
function stackFile(opts: { pct?: string; flags?: boolean; secret?: string; comment?: string; image?: string }): string {
  const lines = [
    `# ${opts.comment ?? "a stack"}`,
    "config:",
    `  valuecanvas:appImage: ${opts.image ?? "ghcr.io/valuecanvas/app@sha256:" + "a".repeat(64)}`,
    `  valuecanvas:enableStatelessOrchestration: "${opts.flags ?? true}"`,
    `  valuecanvas:enableSafeJsonParser: "${opts.flags ?? true}"`,
  ];
  if (opts.pct !== undefined) lines.push(`  valuecanvas:canaryPercentage: "${opts.pct}"`);
  if (opts.secret !== undefined) lines.push("  valuecanvas:pagerdutyRoutingKey:", `    secure: ${opts.secret}`);
  return lines.join("\n") + "\n";
}

describe("CI change detection on real git history", () => {
  let repo: Repo;
  let base: string;

  beforeEach(() => {
    repo = new Repo();
    repo
      .write("Pulumi.yaml", "name: valuecanvas\nruntime: nodejs\n")
      // A program shaped like the real one: index.ts loads a component, which bundles the migration runner;
      // the stage types are imported type-only; CI tooling imports program code but is not loaded by it.
      .write("index.ts", 'import { Database } from "./components/database";\nimport type { Stage } from "./lib/stages";\nexport const db = new Database();\nexport const s: Stage = 0;\n')
      .write("components/database.ts", 'import { migrate } from "../lib/migrate";\nexport class Database { run = migrate; }\n')
      .write("lib/migrate.ts", 'export const migrate = () => require("./stackFile");\n')
      .write("lib/stackFile.ts", "export const read = 1;\n")
      .write("lib/stages.ts", "export type Stage = 0;\n")
      .write("lib/ci/comment.ts", 'import type { Stage } from "../stages";\nexport const comment = (s: Stage) => `## ${s}`;\n')
      .write("sql/001_init.sql", "CREATE TABLE t (id int);\n")
      .write("package.json", "{}\n")
      .write("README.md", "# readme\n")
      .write("Pulumi.staging.yaml", stackFile({ pct: "10", image: "ghcr.io/valuecanvas/app:phase3" }))
      .write("Pulumi.prod.yaml", stackFile({ pct: "10", secret: "v1:AAAAfirstciphertext==" }))
      .write("Pulumi.dev.yaml", stackFile({ pct: "10", image: "app:dev" }));
    base = repo.commit("base");
  });
  afterEach(() => repo.cleanup());

  const detect = (head: string, exclude: string[] = []) => detectChanges(repo.dir, base, head, { exclude });
  const only = (d: ReturnType<typeof detect>, stack: string) => {
    const s = d.stacks.find((x) => x.stack === stack);
    assert.ok(s, `expected ${stack} among changed stacks ${JSON.stringify(d.stacks.map((x) => x.stack))}`);
    return s;
  };

  it("raise: prod 10 → 25 is a changed stack with a raised canary; the others are untouched", () => {
    repo.write("Pulumi.prod.yaml", stackFile({ pct: "25", secret: "v1:AAAAfirstciphertext==" }));
    const d = detect(repo.commit("prod to 25"));
    assert.deepEqual(d.stacks.map((s) => s.stack), ["prod"]);
    const prod = only(d, "prod");
    assert.equal(prod.canary.raised, true);
    assert.equal(prod.canary.percentageRaised, true);
    assert.equal(prod.canary.from.canaryPercentage, 10);
    assert.equal(prod.canary.to.canaryPercentage, 25);
    assert.deepEqual(prod.reasons, ["Pulumi.prod.yaml changed"]);
    assert.equal(prod.databaseSecret, "MONITORING_DATABASE_URL_PROD");
    assert.match(prod.canary.summary, /10% .*→ 25% .*raised/);
  });

  it("lower: prod 10 → 0 (gradual rollback) is changed but not a raise", () => {
    repo.write("Pulumi.prod.yaml", stackFile({ pct: "0", secret: "v1:AAAAfirstciphertext==" }));
    const prod = only(detect(repo.commit("prod back to 0")), "prod");
    assert.equal(prod.canary.raised, false);
    assert.equal(prod.canary.to.canaryPercentage, 0);
    assert.match(prod.canary.summary, /not a raise/);
  });

  it("immediate rollback (flags off) is not a raise; turning the flags back on is", () => {
    repo.write("Pulumi.prod.yaml", stackFile({ pct: "10", flags: false, secret: "v1:AAAAfirstciphertext==" }));
    const off = repo.commit("immediate rollback");
    const offDecision = only(detect(off), "prod");
    assert.equal(offDecision.canary.raised, false);
    base = off;
    repo.write("Pulumi.prod.yaml", stackFile({ pct: "10", flags: true, secret: "v1:AAAAfirstciphertext==" }));
    const on = only(detect(repo.commit("flags back on")), "prod");
    assert.equal(on.canary.percentageRaised, false, "the percentage itself stayed at 10");
    assert.equal(on.canary.exposureRaised, true, "but the share routed to the new path went 0 → 10");
    assert.equal(on.canary.raised, true);
  });

  it("unchanged: a commit that touches no stack file and no program code changes no stack", () => {
    repo.write("README.md", "# readme, edited\n");
    const d = detect(repo.commit("docs"));
    assert.deepEqual(d.stacks, []);
    assert.deepEqual(actionsMatrix(d), { include: [] });
    assert.match(githubOutputs(d), /^any=false$/m);
  });

  it("a comment-only edit of a stack file previews that stack but is not a raise", () => {
    repo.write("Pulumi.prod.yaml", stackFile({ pct: "10", secret: "v1:AAAAfirstciphertext==", comment: "edited comment" }));
    const prod = only(detect(repo.commit("comment")), "prod");
    assert.equal(prod.canary.raised, false);
    assert.match(prod.canary.summary, /unchanged at 10%/);
  });

  it("new stack: a new file at 10 is changed and raised from the default 0; a new file at 0 is not raised", () => {
    repo.write("Pulumi.eu.yaml", stackFile({ pct: "10" }));
    repo.write("Pulumi.us.yaml", stackFile({}));
    const d = detect(repo.commit("two new stacks"));
    assert.deepEqual(d.stacks.map((s) => s.stack), ["eu", "us"]);
    const eu = only(d, "eu");
    assert.equal(eu.canary.newStack, true);
    assert.equal(eu.canary.from.canaryPercentage, 0);
    assert.equal(eu.canary.raised, true);
    assert.match(eu.canary.summary, /raised from the default 0%/);
    const us = only(d, "us");
    assert.equal(us.canary.newStack, true);
    assert.equal(us.canary.to.canaryPercentage, 0, "absent canaryPercentage is the schema default 0");
    assert.equal(us.canary.raised, false);
  });

  it("secret-only change: a new `secure:` value previews the stack but is not a raise, and never shows the ciphertext", () => {
    repo.write("Pulumi.prod.yaml", stackFile({ pct: "10", secret: "v1:BBBBrotatedciphertext==" }));
    const d = detect(repo.commit("rotate the PagerDuty key"));
    const prod = only(d, "prod");
    assert.equal(prod.canary.raised, false);
    assert.equal(prod.canary.percentageRaised, false);
    assert.equal(prod.canary.exposureRaised, false);
    const out = JSON.stringify(d) + githubOutputs(d);
    assert.ok(!out.includes("rotatedciphertext") && !out.includes("firstciphertext"), "no secure value in the decision");
  });

  it("program change: index.ts or a lib/ module it loads changes every stack, none raised", () => {
    repo.write("lib/stages.ts", "export type Stage = 0 | 10;\n");
    const d = detect(repo.commit("program"));
    assert.deepEqual(d.stacks.map((s) => s.stack), ["dev", "staging", "prod"], "prod deploys last");
    for (const s of d.stacks) {
      assert.equal(s.canary.raised, false);
      assert.match(s.reasons[0], /program code changed \(lib\/stages\.ts\)/);
    }
    assert.deepEqual(d.programFiles, ["lib/stages.ts"]);
  });

  it("everything the program loads, bundles or reads counts: migration runner, component, a require()d module, sql/, dependencies, project file", () => {
    for (const [file, text] of [
      ["lib/migrate.ts", 'export const migrate = () => require("./stackFile") && 2;\n'],
      ["components/database.ts", 'import { migrate } from "../lib/migrate";\nexport class Database { run = migrate; x = 1; }\n'],
      ["lib/stackFile.ts", "export const read = 2;\n"],
      ["sql/001_init.sql", "CREATE TABLE t (id bigint);\n"],
      ["sql/002_new.sql", "CREATE TABLE u (id int);\n"],
      ["package.json", '{"dependencies":{}}\n'],
      ["Pulumi.yaml", "name: valuecanvas\nruntime: nodejs\ndescription: d\n"],
    ]) {
      repo.write(file, text);
      const d = detect(repo.commit(`edit ${file}`));
      assert.deepEqual(d.stacks.map((s) => s.stack), ["dev", "staging", "prod"], file);
      assert.deepEqual(d.programFiles, [file]);
      base = d.head;
    }
  });

  it("CI tooling, docs, tests, scripts and lib/ files index.ts does not load change no stack", () => {
    repo.write("lib/ci/comment.ts", 'import type { Stage } from "../stages";\nexport const comment = (s: Stage) => `### ${s}`;\n');
    repo.write("lib/ci/newTool.ts", 'import { read } from "../stackFile";\nexport const t = read;\n');
    repo.write("lib/unused.ts", "export const u = 1;\n");
    repo.write("docs/x.md", "# x\n").write("test/x.test.ts", 'import "../lib/migrate";\n').write("scripts/x.ts", 'import "../lib/ci/comment";\n');
    const d = detect(repo.commit("tooling only"));
    assert.deepEqual(d.stacks, []);
    assert.deepEqual(d.programFiles, []);
    assert.match(githubOutputs(d), /^any=false$/m);
  });

  it("a new file imported from index.ts is program code from then on", () => {
    repo.write("lib/extra.ts", "export const extra = 1;\n");
    const before = detect(repo.commit("an unused file"));
    assert.deepEqual(before.stacks, [], "not loaded yet");
    base = before.head;
    repo.write("index.ts", 'import { Database } from "./components/database";\nimport type { Stage } from "./lib/stages";\nimport { extra } from "./lib/extra";\nexport const db = new Database();\nexport const s: Stage = 0;\nexport const e = extra;\n');
    const wired = detect(repo.commit("index.ts imports it"));
    assert.deepEqual(wired.programFiles, ["index.ts"]);
    base = wired.head;
    repo.write("lib/extra.ts", "export const extra = 2;\n");
    const edited = detect(repo.commit("edit it"));
    assert.deepEqual(edited.stacks.map((s) => s.stack), ["dev", "staging", "prod"]);
    assert.deepEqual(edited.programFiles, ["lib/extra.ts"]);
  });

  it("a module the base's program loaded still counts when the head stops loading it", () => {
    repo.write("components/database.ts", "export class Database {}\n").remove("lib/migrate.ts");
    const d = detect(repo.commit("drop the runner"));
    assert.deepEqual(d.programFiles, ["components/database.ts", "lib/migrate.ts"]);
  });

  it("program change plus a raise: every stack is previewed, only the raised one is gated", () => {
    repo.write("index.ts", "export const y = 2;\n");
    repo.write("Pulumi.prod.yaml", stackFile({ pct: "25", secret: "v1:AAAAfirstciphertext==" }));
    const d = detect(repo.commit("both"), ["dev"]);
    assert.deepEqual(d.stacks.map((s) => s.stack), ["staging", "prod"]);
    assert.deepEqual(d.excluded, ["dev"]);
    assert.deepEqual(d.stacks.filter((s) => s.canary.raised).map((s) => s.stack), ["prod"]);
    assert.equal(only(d, "prod").reasons.length, 2);
    const m = actionsMatrix(d);
    assert.deepEqual(m.include.map((e) => [e.stack, e.raised, e.from, e.to, e.runnerVar]), [
      ["staging", false, 10, 10, "DEPLOY_RUNNER_STAGING"],
      ["prod", true, 10, 25, "DEPLOY_RUNNER_PROD"],
    ]);
    assert.match(githubOutputs(d), /^raised=\["prod"\]$/m);
  });

  it("a removed stack file is reported as removed, not previewed", () => {
    repo.remove("Pulumi.staging.yaml");
    const d = detect(repo.commit("drop staging"));
    assert.deepEqual(d.stacks, []);
    assert.deepEqual(d.removed, ["staging"]);
  });

  it("measures from the merge base: a change on main after the branch point is not the PR's change", () => {
    repo.git("checkout", "-q", "-b", "feature");
    repo.write("Pulumi.prod.yaml", stackFile({ pct: "25", secret: "v1:AAAAfirstciphertext==" }));
    const head = repo.commit("prod to 25 on the branch");
    repo.git("checkout", "-q", "main");
    repo.write("Pulumi.staging.yaml", stackFile({ pct: "25", image: "ghcr.io/valuecanvas/app:phase3" }));
    const mainTip = repo.commit("staging to 25 on main");
    const d = detectChanges(repo.dir, mainTip, head);
    assert.equal(d.base, base);
    assert.deepEqual(d.stacks.map((s) => s.stack), ["prod"]);
  });

  it("a first push (all-zero base) treats every stack as new", () => {
    const d = detectChanges(repo.dir, ZERO_SHA, base, { exclude: ["dev"] });
    assert.equal(d.base, null);
    assert.deepEqual(d.stacks.map((s) => [s.stack, s.canary.newStack, s.canary.raised]), [
      ["staging", true, true],
      ["prod", true, true],
    ]);
  });

  it("a stack file that does not parse at head is an error naming the key, value and what is allowed", () => {
    repo.write("Pulumi.prod.yaml", stackFile({ pct: "33", secret: "v1:AAAAfirstciphertext==" }));
    const head = repo.commit("bad stage");
    assert.throws(
      () => detect(head),
      (e: unknown) =>
        e instanceof ConfigError && /valuecanvas:canaryPercentage = "33": expected one of the stages 0, 10, 25, 50, 75, 100/.test(e.message),
    );
  });

  it("a base that does not parse counts as the defaults, so the head's stage is gated", () => {
    repo.write("Pulumi.prod.yaml", stackFile({ pct: "33" }));
    base = repo.commit("broken base");
    repo.write("Pulumi.prod.yaml", stackFile({ pct: "25" }));
    const prod = only(detect(repo.commit("fixed")), "prod");
    assert.equal(prod.canary.raised, true);
    assert.match(prod.canary.baseInvalid ?? "", /Invalid config/);
  });

  it("an unknown commit is a clear error that says how to fix the checkout", () => {
    assert.throws(() => detectChanges(repo.dir, "deadbeef", base), (e: unknown) => e instanceof GitError && /deadbeef.*fetch-depth: 0/.test(e.message));
  });

  it("the CLI prints the decision and writes GitHub outputs", function () {
    this.timeout(60_000);
    repo.write("Pulumi.prod.yaml", stackFile({ pct: "25", secret: "v1:AAAAfirstciphertext==" }));
    const head = repo.commit("prod to 25");
    const out = path.join(repo.dir, "gh-output");
    const stdout = execFileSync(
      path.join(ROOT, "node_modules/.bin/ts-node"),
      ["--transpile-only", path.join(ROOT, "cli/changed-stacks.ts"), "--repo", repo.dir, "--base", base, "--head", head, "--exclude", "dev", "--github-output", out],
      { cwd: ROOT, encoding: "utf8" },
    );
    assert.match(stdout, /prod: Pulumi\.prod\.yaml changed/);
    assert.match(stdout, /gate required \(database secret MONITORING_DATABASE_URL_PROD\)/);
    const gh = fs.readFileSync(out, "utf8");
    assert.match(gh, /^stacks=\["prod"\]$/m);
    assert.match(gh, /^matrix=\{"include":\[\{"stack":"prod","raised":true,"from":10,"to":25,/m);
  });

  describe("hold-only changes (issue 25): no resource changes, no test run; anything more is not hold-only", () => {
    const HOLD = { kind: "set" as const, hold: { reason: "bug #12: exports fail", by: "Jane Doe", at: "2026-12-07T19:21:18Z" } };
    /** The file as `rollout hold` writes it: the editor's own splice. */
    const held = (text: string, h: typeof HOLD = HOLD) => editStackText("Pulumi.prod.yaml", text, [], undefined, h);
    const PROD = stackFile({ pct: "10", secret: "v1:AAAAfirstciphertext==" });

    it("setting a hold, changing its reason, and releasing it are each hold-only: previewed, not raised, no test run", () => {
      repo.write("Pulumi.prod.yaml", held(PROD));
      const set = repo.commit("hold prod");
      const d = detect(set);
      const prod = only(d, "prod");
      assert.equal(prod.canary.holdOnly, true);
      assert.equal(prod.canary.raised, false);
      assert.deepEqual(prod.canary.hold, { from: null, to: HOLD.hold });
      assert.match(prod.canary.summary, /^rollout unchanged at 10% .*; hold set \(hold-only: no resource changes, no test run needed\)$/);
      assert.ok(!prod.canary.summary.includes("bug #12"), "a person's words stay out of the summary (the comment quotes them apart)");
      assert.deepEqual(d.tests, { needed: false, why: "only holds changed (prod): no resource changes, nothing for the tests to check" });
      assert.match(githubOutputs(d), /^testsNeeded=false$/m);
      base = set;
      const other = { kind: "set" as const, hold: { ...HOLD.hold, reason: "bug #13 too" } };
      repo.write("Pulumi.prod.yaml", held(PROD, other));
      const changed = detect(repo.commit("another reason"));
      assert.equal(only(changed, "prod").canary.holdOnly, true);
      assert.match(only(changed, "prod").canary.summary, /; hold changed \(hold-only/);
      assert.deepEqual(only(changed, "prod").canary.hold, { from: HOLD.hold, to: other.hold });
      repo.write("Pulumi.prod.yaml", PROD);
      const released = detect(repo.commit("release"));
      assert.equal(only(released, "prod").canary.holdOnly, true);
      assert.match(only(released, "prod").canary.summary, /; hold released \(hold-only/);
      assert.equal(released.tests.needed, false);
    });

    it("hostile: a hold plus a stage raise is still a raise, gated, and needs the tests", () => {
      repo.write("Pulumi.prod.yaml", held(stackFile({ pct: "25", secret: "v1:AAAAfirstciphertext==" })));
      const d = detect(repo.commit("hold and raise"));
      const prod = only(d, "prod");
      assert.equal(prod.canary.raised, true);
      assert.equal(prod.canary.holdOnly, false);
      assert.equal(d.tests.needed, true);
      assert.match(githubOutputs(d), /^raised=\["prod"\]$/m);
      assert.match(githubOutputs(d), /^testsNeeded=true$/m);
    });

    for (const [what, head] of [
      ["a hold plus a gradual rollback", () => held(stackFile({ pct: "0", secret: "v1:AAAAfirstciphertext==" }))],
      ["a hold plus flags turned off", () => held(stackFile({ pct: "10", flags: false, secret: "v1:AAAAfirstciphertext==" }))],
      ["a hold plus another key", () => held(stackFile({ pct: "10", secret: "v1:AAAAfirstciphertext==", image: "ghcr.io/valuecanvas/app@sha256:" + "b".repeat(64) }))],
      ["a hold plus a rotated secret", () => held(stackFile({ pct: "10", secret: "v1:BBBBrotated==" }))],
      ["a hold plus a comment (a forced-skip note is a comment the program reads)", () => held(stackFile({ pct: "10", secret: "v1:AAAAfirstciphertext==", comment: "rollout advance --force 0 -> 10 on 2026-01-01 by x: forged" }))],
      ["a hold plus a hold-like key in another namespace", () => held(PROD) + "  other:hold: x\n"],
    ] as Array<[string, () => string]>) {
      it(`hostile: ${what} is not hold-only, and needs the tests`, () => {
        repo.write("Pulumi.prod.yaml", head());
        const d = detect(repo.commit(what));
        assert.equal(only(d, "prod").canary.holdOnly, false, what);
        assert.equal(d.tests.needed, true);
      });
    }

    it("hostile: a hold in a new stack file, a hold beside a docs or program change, and a hold at head the schema refuses", () => {
      repo.write("Pulumi.eu.yaml", held(stackFile({ pct: "0" })));
      let d = detect(repo.commit("new held stack"));
      assert.equal(only(d, "eu").canary.holdOnly, false, "no base: compared with the defaults, not hold-only");
      assert.equal(d.tests.needed, true);
      base = repo.commit("base 2");
      repo.write("Pulumi.prod.yaml", held(PROD)).write("README.md", "# readme, edited\n");
      d = detect(repo.commit("hold and docs"));
      assert.equal(only(d, "prod").canary.holdOnly, true);
      assert.deepEqual(d.tests, { needed: true, why: "README.md changed beyond a hold or a rollback" });
      repo.write("README.md", "# readme\n").write("lib/stages.ts", "export type Stage = 0 | 10;\n");
      d = detect(repo.commit("hold and program"));
      assert.equal(d.tests.needed, true);
      repo.write("lib/stages.ts", "export type Stage = 0;\n").write("Pulumi.prod.yaml", held(PROD).replace("Jane Doe", "Jane: Doe"));
      assert.throws(() => detect(repo.commit("bad hold")), (e: Error) => e instanceof ConfigError && /valuecanvas:hold\.by = "Jane: Doe"/.test(e.message));
    });

    it("deleting the rollout keys of a stack at 100 % is named: the defaults (0 %, flags off) send every user back", () => {
      repo.write("Pulumi.prod.yaml", stackFile({ pct: "100", secret: "v1:AAAAfirstciphertext==" }));
      base = repo.commit("prod at 100");
      const bare = stackFile({ secret: "v1:AAAAfirstciphertext==" }).split("\n").filter((l) => !/enable/.test(l)).join("\n");
      repo.write("Pulumi.prod.yaml", bare);
      const prod = only(detect(repo.commit("clean up the rollout keys")), "prod");
      assert.equal(prod.canary.raised, false);
      assert.deepEqual(prod.canary.keysRemoved, ["valuecanvas:canaryPercentage", "valuecanvas:enableStatelessOrchestration", "valuecanvas:enableSafeJsonParser"]);
      assert.match(prod.canary.summary, /100% \(flags on, effective 100%\) → 0% \(flags off, effective 0%\): not a raise; valuecanvas:canaryPercentage, .* removed from the stack file: the defaults \(0%, flags off\) apply, which sends every user back to the legacy path/);
    });
  });

  describe("rollback-only changes (issue 25): the long test jobs skip themselves; anything more runs them", () => {
    const at = (pct: string, flags = true, extra: { image?: string; secret?: string } = {}) => stackFile({ pct, flags, secret: "v1:AAAAfirstciphertext==", ...extra });

    beforeEach(() => {
      repo.write("Pulumi.prod.yaml", at("50")).write("Pulumi.staging.yaml", at("75"));
      base = repo.commit("prod at 50, staging at 75");
    });

    for (const [what, prod, staging] of [
      ["an immediate rollback (flags off)", at("50", false), at("75")],
      ["a gradual rollback (50 → 25)", at("25"), at("75")],
      ["a rollback to 0 %", at("0"), at("75")],
      ["rollbacks of two stacks at once", at("0", false), at("25")],
    ] as Array<[string, string, string]>) {
      it(`${what}: deploy "rollback", testsNeeded=false`, () => {
        repo.write("Pulumi.prod.yaml", prod).write("Pulumi.staging.yaml", staging);
        const d = detect(repo.commit(what));
        assert.ok(d.stacks.every((s) => s.deploy === "rollback"), what);
        assert.equal(d.tests.needed, false, d.tests.why);
        assert.match(d.tests.why, /^only rollbacks \((prod|prod, staging)\) changed: a return to a state the tests already passed/);
        assert.match(githubOutputs(d), /^testsNeeded=false$/m);
      });
    }

    for (const [what, write] of [
      ["a rollback of one stack and a raise of another", () => repo.write("Pulumi.prod.yaml", at("25")).write("Pulumi.staging.yaml", at("100"))],
      ["a rollback plus another key (the image)", () => repo.write("Pulumi.prod.yaml", at("25", true, { image: "ghcr.io/valuecanvas/app@sha256:" + "b".repeat(64) }))],
      ["a rollback plus a rotated secret", () => repo.write("Pulumi.prod.yaml", at("25", true, { secret: "v1:BBBBrotated==" }))],
      ["a rollback plus a docs change", () => repo.write("Pulumi.prod.yaml", at("25")).write("README.md", "# readme, edited\n")],
      ["a rollback plus a program change", () => repo.write("Pulumi.prod.yaml", at("25")).write("lib/stages.ts", "export type Stage = 0 | 10 | 25;\n")],
      ["flags off but the percentage up (50 → 75, flags off)", () => repo.write("Pulumi.prod.yaml", at("75", false))],
      ["a rollback in a new stack file", () => repo.write("Pulumi.eu.yaml", at("0"))],
    ] as Array<[string, () => void]>) {
      it(`hostile: ${what} needs the tests`, () => {
        write();
        const d = detect(repo.commit(what));
        assert.equal(d.tests.needed, true, `${what}: ${d.tests.why}`);
        assert.match(githubOutputs(d), /^testsNeeded=true$/m);
      });
    }
  });
});

describe("CI change decisions (pure)", () => {
  it("program paths are what index.ts loads, transitively and by every import form, plus sql/, dependencies and build settings", () => {
    const files = new Map([
      ["index.ts", 'import type { T } from "./lib/types";\nexport * from "./components/app";\nimport "./lib/sideEffect";\nconst x = "import(\'./lib/inString\')"; // require("./lib/inComment")\n'],
      ["components/app.ts", 'export { a } from "../lib/a";\nexport const load = () => import("../lib/lazy");\nconst data = require("../lib/data.json");\n'],
      ["lib/a.ts", 'const r = require("./req");\nexport const a = r;\n'],
      ["lib/req.ts", 'import { a } from "./a";\nexport const q = a;\n'],
      ["lib/types.ts", "export type T = 1;\n"],
      ["lib/sideEffect.ts", "console.log(1);\n"],
      ["lib/lazy/index.ts", "export {};\n"],
      ["lib/inString.ts", "export {};\n"],
      ["lib/inComment.ts", "export {};\n"],
      ["lib/ci/comment.ts", 'import "../a";\n'],
      ["test/x.test.ts", 'import "../index";\n'],
    ]);
    const program = programPaths(files);
    assert.deepEqual(program, [
      "Pulumi.yaml", "bin/load.cjs", "bin/program.cjs", "components/app.ts", "index.ts", "lib/a.ts", "lib/data.json", "lib/lazy/index.ts", "lib/req.ts", "lib/sideEffect.ts",
      "lib/types.ts", "package-lock.json", "package.json", "sql/", "tools/build.cjs", "tsconfig.build.json", "tsconfig.json",
    ]);
    for (const p of ["index.ts", "lib/types.ts", "sql/001.sql", "package.json", "package-lock.json", "Pulumi.yaml", "tsconfig.json"]) {
      assert.equal(isProgramPath(p, program), true, p);
    }
    for (const p of ["lib/ci/comment.ts", "lib/inString.ts", "lib/inComment.ts", "README.md", "docs/RUNBOOK.md", "test/x.test.ts", "Pulumi.prod.yaml", "libx.ts", ".github/workflows/pr.yml"]) {
      assert.equal(isProgramPath(p, program), false, p);
    }
  });

  it("in this repository, the migration runner, the stack reader and the components are program code; CI tooling is not", () => {
    const program = programPaths(programTexts(ROOT, "HEAD"));
    for (const p of ["index.ts", "db/migrate.ts", "stack/stackFile.ts", "core/stages.ts", "core/config.ts", "components/database.ts", "components/app.ts", "sql/"]) {
      assert.ok(program.includes(p), `${p} in ${program.join(", ")}`);
    }
    for (const p of ["ci/comment.ts", "ci/changes.ts", "ci/detect.ts", "ci/git.ts", "cli/changed-stacks.ts", "cli/rollout.ts", "offline/evaluate.ts"]) {
      assert.ok(!program.includes(p), `${p} is not program code`);
    }
  });

  it("deploys pinned (production) stacks last", () => {
    assert.deepEqual(deployOrder(["prod", "staging", "dev", "prod"]), ["dev", "staging", "prod"]);
  });

  it("changedStacks ignores stack files in subdirectories and reports exclusions", () => {
    const r = changedStacks({ changedPaths: ["examples/Pulumi.x.yaml", "Pulumi.dev.yaml"], stacksAtHead: ["dev", "prod"], exclude: ["dev"], programPaths: ["index.ts"] });
    assert.deepEqual(r.stacks, []);
    assert.deepEqual(r.excluded, ["dev"]);
  });

  it("canaryChange with no base is a new stack compared against the defaults", () => {
    const c = canaryChange("qa", undefined, stackFile({ pct: "50" }));
    assert.deepEqual([c.newStack, c.from.canaryPercentage, c.to.canaryPercentage, c.raised], [true, 0, 50, true]);
  });

  it("secret names are upper-case with non-alphanumerics as _", () => {
    assert.equal(monitoringSecretName("prod"), "MONITORING_DATABASE_URL_PROD");
    assert.equal(monitoringSecretName("eu-west.1"), "MONITORING_DATABASE_URL_EU_WEST_1");
  });
});
