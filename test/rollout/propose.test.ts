/**
 * `rollout propose` end to end, the scheduled path (issue 25 part 1), on the drill's data: the real
 * CLI (cli/rollout.ts main), the real gate on real PostgreSQL (three drills stopped at 10 %: clean,
 * an error spike, contamination), real git (a bare repository as the remote, a clone as the
 * workflow's checkout) and the real GitHub client (@octokit/rest) pointed at the tests' stand-in for
 * GitHub's REST calls (test/support/githubStandIn.ts).
 *
 * In order, on one repository: --dry-run changes nothing; PAUSE proposes nothing; PROCEED opens one
 * proposal with the edit advance makes; a rerun changes nothing; ROLLBACK comments and labels it,
 * once; PROCEED again takes the label off; main's stack file changes, so the proposal is stale:
 * closed, its branch deleted, a new one opened; a rerun changes nothing. The token never appears in
 * any output, request body, comment or commit, even when GitHub's answer echoes it.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../cli/rollout";
import { runDrill } from "../../drill/drill";
import { PROPOSAL_LABEL, VERDICT_LABELS } from "../../core/proposal";
import { reviewerChecksMarkdown } from "../../core/reviewerChecks";
import { loadStack, readStackFile } from "../../stack/stackFile";
import { sharedPostgres } from "../support/postgres";
import { StandIn, startGitHubStandIn } from "../support/githubStandIn";
import { GIT_ENV } from "../ci/gitFixture";
import { PROJECT_DIR } from "./support";

const REPOSITORY = "valuecanvas/rollout-fixture";
const TOKEN = `ghs_standin${"x".repeat(8)}${process.pid}tokenvalue`;

interface Run {
  code: number;
  out: string;
  err: string;
}

async function rollout(...args: string[]): Promise<Run> {
  let out = "";
  let err = "";
  const code = await main(["node", "rollout", ...args], { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const git = (dir: string, ...args: string[]) => execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

describe("[pg] rollout propose: the scheduled path on the drill's data", function () {
  this.timeout(300_000);
  const prod = loadStack(PROJECT_DIR, "prod").cfg;
  const sc = readStackFile(PROJECT_DIR, "prod");
  let tmp: string;
  let bare: string;
  let checkout: string;
  let hub: StandIn;
  const urls: Record<"PROCEED" | "PAUSE" | "ROLLBACK", string> = { PROCEED: "", PAUSE: "", ROLLBACK: "" };
  let stackAt10 = "";
  const saved: Record<string, string | undefined> = {};
  const outputs: string[] = [];

  const propose = async (db: keyof typeof urls, ...extra: string[]): Promise<Run & { json?: Record<string, unknown> }> => {
    const r = await rollout("propose", "--stack", "prod", "--project-dir", checkout, "--database-url", urls[db], "--repo", REPOSITORY, "--api-url", hub.url, ...extra);
    outputs.push(r.out, r.err);
    return extra.includes("--json") ? { ...r, json: JSON.parse(r.out) as Record<string, unknown> } : r;
  };
  const writes = () => hub.requests.filter((r) => r.method !== "GET").length;
  const remoteHeads = () => git(bare, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads").split("\n").filter(Boolean).sort();

  before(async () => {
    for (const k of ["GITHUB_TOKEN", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_CONFIG_NOSYSTEM", "HOME"]) saved[k] = process.env[k];
    Object.assign(process.env, { GITHUB_TOKEN: TOKEN, GIT_AUTHOR_NAME: "rollout propose", GIT_AUTHOR_EMAIL: "rollout@example.invalid", GIT_COMMITTER_NAME: "rollout propose", GIT_COMMITTER_EMAIL: "rollout@example.invalid", GIT_CONFIG_NOSYSTEM: "1", HOME: os.tmpdir() });
    const pg = await sharedPostgres();
    // Three drills stopped at 10 %, each on a database of its own: the gate's data for each verdict.
    for (const [verdict, inject] of [["PROCEED", undefined], ["PAUSE", "error-spike"], ["ROLLBACK", "contamination"]] as const) {
      const url = await pg.createDatabase();
      const r = await runDrill({ database: { url, description: "test database" }, stopAt: 10, inject, injectAt: inject ? 10 : undefined, stack: "prod", thresholds: prod.thresholds, gate: prod.gate, stackFile: { file: sc.file, text: sc.text } });
      assert.equal(r.stages[r.stages.length - 1].verdict, verdict, `the drill's ${inject ?? "clean"} run ends in ${verdict} at 10 %`);
      urls[verdict] = url;
      if (verdict === "PROCEED") stackAt10 = r.finalStackText ?? "";
    }
    assert.match(stackAt10, /canaryPercentage: "?10"?/);
    // The repository: a bare remote with main holding the project file and prod's stack file at 10 %; a clone as the checkout.
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rollout-propose-"));
    bare = path.join(tmp, "remote.git");
    git(tmp, "init", "-q", "--bare", "-b", "main", bare);
    const seed = path.join(tmp, "seed");
    git(tmp, "clone", "-q", bare, seed);
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(seed, "Pulumi.yaml"));
    fs.writeFileSync(path.join(seed, "Pulumi.prod.yaml"), stackAt10);
    git(seed, "add", "-A");
    git(seed, "commit", "-q", "-m", "prod at 10%");
    git(seed, "push", "-q", "origin", "HEAD:refs/heads/main");
    checkout = path.join(tmp, "checkout");
    git(tmp, "clone", "-q", bare, checkout);
    hub = await startGitHubStandIn({ repository: REPOSITORY, token: TOKEN, gitDir: bare });
  });

  after(async () => {
    await hub?.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("--dry-run --json: says it would open rollout/prod-25 with advance's diff, and writes, pushes and sends nothing", async () => {
    const before = remoteHeads();
    const r = await propose("PROCEED", "--dry-run", "--json");
    assert.equal(r.code, 0, r.err);
    const j = r.json as { ok: boolean; command: string; verdict: string; dryRun: boolean; done: Array<{ action: string; branch: string; number: number | null; detail: string }> };
    assert.equal(j.ok, true);
    assert.equal(j.command, "propose");
    assert.equal(j.verdict, "PROCEED");
    assert.equal(j.dryRun, true);
    assert.deepEqual(j.done.map((d) => [d.action, d.branch, d.number]), [["open", "rollout/prod-25", null]]);
    assert.match(j.done[0].detail, /^would open "rollout\(prod\): advance 10% -> 25%" from rollout\/prod-25/);
    assert.match(j.done[0].detail, /-\s+valuecanvas:canaryPercentage: "?10"?\n\+\s+valuecanvas:canaryPercentage: "?25"?/);
    assert.equal(writes(), 0);
    assert.deepEqual(remoteHeads(), before);
    const text = await propose("PROCEED", "--dry-run");
    assert.match(text.out, /dry run: nothing was written, pushed or sent to GitHub/);
    assert.equal(git(checkout, "status", "--porcelain"), "", "the checkout is untouched");
    assert.equal(git(checkout, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree ")).length, 1, "no worktree is left");
  });

  it("PAUSE (the drill's error spike), nothing open: nothing is proposed, nothing sent", async () => {
    const r = await propose("PAUSE");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /verdict: PAUSE/);
    assert.match(r.out, /note: the gate says PAUSE: nothing to propose\nnothing to do\n/);
    assert.equal(writes(), 0);
    assert.deepEqual(remoteHeads().map((l) => l.split(" ")[0]), ["refs/heads/main"]);
  });

  it("PROCEED: one proposal: the branch holds exactly advance's edit with the evidence in the commit, the pull request its gate and the reviewer's list", async () => {
    const r = await propose("PROCEED");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /opened #1 "rollout\(prod\): advance 10% -> 25%" from rollout\/prod-25/);
    assert.equal(hub.pulls.size, 1);
    const p = hub.pulls.get(1)?.pull;
    assert.ok(p);
    assert.equal(p.head.ref, "rollout/prod-25");
    assert.equal(p.base.ref, "main");
    assert.equal(p.title, "rollout(prod): advance 10% -> 25%");
    assert.deepEqual(p.labels.map((l) => l.name), [PROPOSAL_LABEL]);
    assert.match(p.body ?? "", /verdict: PROCEED \(exit 0\)/);
    assert.ok((p.body ?? "").includes(reviewerChecksMarkdown("pull-request")));
    // The branch: one commit on main, changing only Pulumi.prod.yaml, to what `rollout advance` writes.
    const main = git(bare, "rev-parse", "refs/heads/main");
    const head = git(bare, "rev-parse", "refs/heads/rollout/prod-25");
    assert.equal(p.head.sha, head);
    assert.equal(git(bare, "rev-parse", `${head}^`), main);
    assert.deepEqual(git(bare, "diff", "--name-only", main, head).split("\n"), ["Pulumi.prod.yaml"]);
    const copy = path.join(tmp, "advance-copy");
    fs.mkdirSync(copy);
    fs.copyFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), path.join(copy, "Pulumi.yaml"));
    fs.writeFileSync(path.join(copy, "Pulumi.prod.yaml"), stackAt10);
    const adv = await rollout("advance", "--stack", "prod", "--project-dir", copy, "--database-url", urls.PROCEED);
    assert.equal(adv.code, 0, adv.err);
    assert.equal(git(bare, "show", `${head}:Pulumi.prod.yaml`), fs.readFileSync(path.join(copy, "Pulumi.prod.yaml"), "utf8").trimEnd());
    const message = git(bare, "log", "-1", "--format=%B", head);
    assert.match(message, /^rollout\(prod\): advance 10% -> 25%\n\nProposed by rollout propose: the gate said PROCEED/);
    assert.match(message, /verdict: PROCEED \(exit 0\)/);
    assert.match(message, /p95 latency/);
  });

  it("a second run changes nothing: no request but the listing, no new branch or commit", async () => {
    const w = writes();
    const heads = remoteHeads();
    const r = await propose("PROCEED", "--json");
    assert.equal(r.code, 0, r.err);
    assert.deepEqual((r.json as { done: unknown[] }).done, []);
    assert.equal(writes(), w);
    assert.deepEqual(remoteHeads(), heads);
    assert.equal(hub.pulls.size, 1);
  });

  it("ROLLBACK (the drill's contamination) on the open proposal: one comment with the gate's text and the rollback label; rerun: nothing more", async () => {
    const r = await propose("ROLLBACK");
    assert.equal(r.code, 0, r.err);
    const s = hub.pulls.get(1);
    assert.ok(s);
    assert.deepEqual(s.pull.labels.map((l) => l.name), [PROPOSAL_LABEL, VERDICT_LABELS.ROLLBACK]);
    assert.equal(s.comments.length, 1);
    assert.match(s.comments[0].body ?? "", /The gate now says ROLLBACK/);
    assert.match(s.comments[0].body ?? "", /verdict: ROLLBACK/);
    assert.equal(s.pull.state, "open", "not stale: left open for the reviewer");
    const w = writes();
    await propose("ROLLBACK");
    assert.equal(writes(), w);
    assert.equal(s.comments.length, 1);
  });

  it("PROCEED again: the label comes off, with a comment", async () => {
    await propose("PROCEED");
    const s = hub.pulls.get(1);
    assert.ok(s);
    assert.deepEqual(s.pull.labels.map((l) => l.name), [PROPOSAL_LABEL]);
    assert.equal(s.comments.length, 2);
    assert.match(s.comments[1].body ?? "", /PROCEED\*\* again/);
  });

  it("main's stack file changes: the proposal is stale, closed with a comment, its branch deleted; on PROCEED a new one; rerun: nothing", async () => {
    const seed = path.join(tmp, "seed");
    fs.appendFileSync(path.join(seed, "Pulumi.prod.yaml"), "# reviewed again on main\n");
    git(seed, "commit", "-q", "-am", "a comment in prod's stack file");
    git(seed, "push", "-q", "origin", "HEAD:refs/heads/main");
    const r = await propose("PROCEED");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /closed #1 \(rollout\/prod-25\) as stale: Pulumi\.prod\.yaml on main changed/);
    const old = hub.pulls.get(1);
    assert.ok(old);
    assert.equal(old.pull.state, "closed");
    assert.match(old.comments[old.comments.length - 1].body ?? "", /Closed by `rollout propose` as stale/);
    const fresh = hub.pulls.get(2)?.pull;
    assert.ok(fresh);
    // The old branch was deleted first: a branch with commits that are not on main is never overwritten.
    assert.equal(git(bare, "rev-parse", "refs/heads/rollout/prod-25"), fresh.head.sha);
    assert.notEqual(fresh.head.sha, old.pull.head.sha);
    assert.equal(fresh.state, "open");
    assert.equal(git(bare, "rev-parse", `${fresh.head.sha}^`), git(bare, "rev-parse", "refs/heads/main"), "the new proposal is on today's main");
    assert.match(git(bare, "show", `${fresh.head.sha}:Pulumi.prod.yaml`), /# reviewed again on main/);
    const w = writes();
    await propose("PROCEED");
    assert.equal(writes(), w);
  });

  it("a hold on main (rollout hold, issue 25 part 3): the gate says PAUSE naming it, the open proposal is closed as stale, nothing new is proposed; once released, PROCEED proposes again", async () => {
    const seed = path.join(tmp, "seed");
    git(seed, "pull", "-q", "--ff-only", "origin", "main");
    const held = await rollout("hold", "--stack", "prod", "--project-dir", seed, "--reason", "bug #1234: exports fail for SSO users", "--by", "on-call");
    assert.equal(held.code, 0, held.err);
    git(seed, "commit", "-q", "-am", "hold prod");
    git(seed, "push", "-q", "origin", "HEAD:refs/heads/main");
    const open = () => [...hub.pulls.values()].filter((x) => x.pull.state === "open").map((x) => x.pull.number);
    const before = hub.pulls.size;
    const r = await propose("PROCEED");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /verdict: PAUSE/);
    assert.match(r.out, /bug #1234: exports fail for SSO users/, "the gate names the hold");
    assert.deepEqual(open(), [], "the proposal made before the hold is closed (main's stack file changed)");
    assert.equal(hub.pulls.size, before, "nothing new is proposed while the hold is on main");
    const w = writes();
    await propose("PROCEED");
    assert.equal(writes(), w, "a rerun under the hold changes nothing");

    const released = await rollout("release", "--stack", "prod", "--project-dir", seed);
    assert.equal(released.code, 0, released.err);
    git(seed, "commit", "-q", "-am", "release prod");
    git(seed, "push", "-q", "origin", "HEAD:refs/heads/main");
    const again = await propose("PROCEED");
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /opened #\d+ "rollout\(prod\): advance 10% -> 25%" from rollout\/prod-25/);
    assert.equal(open().length, 1);
  });

  it("the token: never in any output, request body, comment, pull request or commit; every request carried it; GitHub's answer echoing it is masked (exit 1)", async () => {
    hub.failNext("POST", /\/issues\/\d+\/comments$/, 500, (req) => `internal error while handling ${req.authorization ?? ""}`);
    const r = await propose("ROLLBACK");
    assert.equal(r.code, 1);
    assert.match(r.err, /GitHub: commenting on #\d+ in valuecanvas\/rollout-fixture failed \(HTTP 500\): internal error while handling token \[secret\]/);
    assert.ok(hub.requests.every((q) => q.authorization === `token ${TOKEN}`), "every request authenticated with the token");
    const bodies = hub.requests.map((q) => JSON.stringify(q.body ?? ""));
    const pulls = [...hub.pulls.values()].map((p) => JSON.stringify(p));
    const commits = git(bare, "log", "--all", "--format=%B");
    for (const t of [...outputs, ...bodies, ...pulls, commits]) assert.ok(!t.includes(TOKEN), "the token leaked");
  });
});
