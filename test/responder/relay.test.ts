/**
 * `rollout responder` (cli/responder.ts) over real HTTP on loopback, with the real GitHub client
 * (ci/github.ts, @octokit/rest) against the tests' GitHub stand-in, whose git side is a bare repository:
 * what the relay commits is read back with git. Auth, dedupe (twice, and across a restart), resolved ->
 * a comment, auto-merge on and off, legacy-only and warnings -> nothing, hostile labels, no secret in
 * the log.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { canaryChange } from "../../ci/changes";
import { gitHubFiles, gitHubPullRequests } from "../../ci/github";
import { Responder, readSecretFile, startResponder, SecretFileError } from "../../cli/responder";
import { parseStackFile, stackConfigOf } from "../../stack/stackFile";
import { CreateRefBody, FieldTable, PutContentBody, StandIn, startGitHubStandIn } from "../support/githubStandIn";
import { GIT_ENV, gateStackFile } from "../ci/gitFixture";
import { webhook, webhookAlert } from "./support";

const REPOSITORY = "valuecanvas/relay-check";
const GH_TOKEN = "ghs_relayGitHubToken0123456789";
const BEARER = "relay-bearer-0123456789abcdef";
const FP = "0123456789abcdef";

// The stand-in's tables for the relay's calls are checked both ways by the compiler (tsc --noEmit fails if these stop failing).
// @ts-expect-error -- git/create-ref's "sha" is missing
export const createRefMissing = { ref: "string" } satisfies FieldTable<CreateRefBody>;
export const putContentExtra = {
  message: "string", content: "string", sha: "string", branch: "string", committer: "object", author: "object",
  // @ts-expect-error -- repos/create-or-update-file-contents has no field "force"
  force: "boolean",
} satisfies FieldTable<PutContentBody>;

describe("responder: the relay over HTTP against the GitHub stand-in", function () {
  this.timeout(60_000);
  let tmp: string;
  let bare: string;
  let hub: StandIn;
  const relays: Responder[] = [];
  const logs: string[] = [];
  const git = (...args: string[]) => execFileSync("git", args, { cwd: bare, env: GIT_ENV, encoding: "utf8" }).trim();

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "relay-"));
    bare = path.join(tmp, "remote.git");
    execFileSync("git", ["init", "-q", "--bare", "-b", "main", bare], { env: GIT_ENV });
    const work = path.join(tmp, "work");
    execFileSync("git", ["clone", "-q", bare, work], { env: GIT_ENV, stdio: "ignore" });
    fs.writeFileSync(path.join(work, "Pulumi.prod.yaml"), gateStackFile(25));
    fs.writeFileSync(path.join(work, "Pulumi.staging.yaml"), gateStackFile(50, ["  valuecanvas:rollback:", '    autoMergeOnContamination: "true"']));
    fs.writeFileSync(path.join(work, "Pulumi.qa.yaml"), gateStackFile(75, ["  valuecanvas:rollback:", '    autoMergeOnContamination: "true"']));
    fs.writeFileSync(path.join(work, "Pulumi.protected.yaml"), gateStackFile(50, ["  valuecanvas:rollback:", '    autoMergeOnContamination: "true"']));
    for (const stack of ["hostile", "forked"]) fs.writeFileSync(path.join(work, `Pulumi.${stack}.yaml`), gateStackFile(25));
    execFileSync("git", ["add", "."], { cwd: work, env: GIT_ENV });
    execFileSync("git", ["commit", "-q", "-m", "stacks"], { cwd: work, env: GIT_ENV });
    execFileSync("git", ["push", "-q", "origin", "HEAD:refs/heads/main"], { cwd: work, env: GIT_ENV });
    hub = await startGitHubStandIn({ repository: REPOSITORY, token: GH_TOKEN, gitDir: bare });
  });
  after(async () => {
    for (const r of relays) await r.close();
    await hub?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function relay(stack: string, on: StandIn = hub): Promise<Responder> {
    const gh = { repository: REPOSITORY, token: GH_TOKEN, baseUrl: on.url };
    const r = await startResponder(
      { stack, repository: REPOSITORY, base: "main", stackPath: `Pulumi.${stack}.yaml`, runbookUrl: `https://github.com/${REPOSITORY}/blob/main/docs/alerts.md`, bearerToken: BEARER, secrets: [BEARER, GH_TOKEN], log: (l) => logs.push(l), host: "127.0.0.1", port: 0 },
      gitHubPullRequests(gh),
      gitHubFiles(gh),
    );
    relays.push(r);
    return r;
  }
  const post = async (r: Responder, body: unknown, authorization: string | null = `Bearer ${BEARER}`, pathname = "/alerts") => {
    const res = await fetch(`${r.url}${pathname}`, { method: "POST", headers: { "content-type": "application/json", ...(authorization === null ? {} : { authorization }) }, body: JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  };
  const pullsOf = (branchPrefix: string) => [...hub.pulls.values()].filter((p) => p.pull.head.ref.startsWith(branchPrefix));
  const contamination = (o: { stack?: string; status?: "firing" | "resolved"; fingerprint?: string; summary?: string; version?: string } = {}) =>
    webhook([webhookAlert({ alertname: "SessionIsolationFailure", severity: "critical", summary: "Session isolation failure: 3 session(s) served more than one user in the last 24 hours", ...o })]);

  it("refuses every request without the bearer token: 401, no body, nothing sent to GitHub", async () => {
    const r = await relay("prod");
    const before = hub.requests.length;
    for (const auth of [null, "", `Bearer ${BEARER}x`, `Bearer ${BEARER.slice(0, -1)}`, `Basic ${Buffer.from(`x:${BEARER}`).toString("base64")}`, `token ${BEARER}`, `Bearer  ${BEARER}`, BEARER, `Bearer ${GH_TOKEN}`]) {
      const res = await post(r, contamination(), auth);
      assert.equal(res.status, 401, String(auth));
      assert.equal(res.text, "", String(auth));
    }
    assert.equal((await post(r, contamination(), null, `/alerts?token=${BEARER}`)).status, 401);
    assert.equal(hub.requests.length, before);
    assert.ok(!logs.some((l) => l.includes(BEARER) || l.includes(GH_TOKEN)), logs.join("\n"));
  });

  it("contamination -> one rollback pull request with rollback --immediate's edit and the alert as evidence; again and after a restart, still one", async () => {
    const r = await relay("prod");
    const res = await post(r, contamination());
    assert.equal(res.status, 200, res.text);
    const prefix = `rollback/prod-immediate-${FP}`;
    assert.equal(pullsOf(prefix).length, 1);
    const pr = pullsOf(prefix)[0].pull;
    assert.match(pr.head.ref, /^rollback\/prod-immediate-0123456789abcdef-20261207T230102Z$/);
    assert.deepEqual(pr.labels.map((l) => l.name), ["rollout-responder"]);
    assert.match(pr.body ?? "", /Session isolation failure: 3 session\(s\)/);
    assert.match(pr.body ?? "", /docs\/alerts\.md/);
    // The branch's stack file: both flags off, the percentage kept, nothing else changed.
    const text = git("show", `refs/heads/${pr.head.ref}:Pulumi.prod.yaml`);
    const cfg = stackConfigOf(parseStackFile("prod", "Pulumi.prod.yaml", `${text}\n`));
    assert.equal(cfg.enableStatelessOrchestration, false);
    assert.equal(cfg.enableSafeJsonParser, false);
    assert.equal(cfg.canaryPercentage, 25);
    assert.equal(`${text}\n`, gateStackFile(25).replace(/"true"/g, '"false"'));
    const message = git("log", "-1", "--format=%B", `refs/heads/${pr.head.ref}`);
    assert.match(message, /^rollout\(prod\): immediate rollback: both flags off \(percentage stays 25\)/);
    assert.match(message, /Alert: "SessionIsolationFailure" \(severity "critical"\)/);
    assert.match(message, /Value: "Session isolation failure: 3 session\(s\)/);
    assert.match(message, /Runbook: https:\/\/github\.com\/valuecanvas\/relay-check\/blob\/main\/docs\/alerts\.md/);
    // The branch starts at main: one commit, the stack file only.
    assert.equal(git("rev-parse", `refs/heads/${pr.head.ref}^`), git("rev-parse", "refs/heads/main"));
    assert.equal(git("diff", "--name-only", "refs/heads/main", `refs/heads/${pr.head.ref}`), "Pulumi.prod.yaml");
    // CI's trusted decision code reads it as what it is: flags off, no raise, nothing else.
    const change = canaryChange("prod", gateStackFile(25), `${text}\n`);
    assert.deepEqual([change.raised, change.holdOnly, change.keysRemoved, change.to.enableStatelessOrchestration, change.to.enableSafeJsonParser], [false, false, [], false, false]);

    assert.equal((await post(r, contamination())).status, 200);
    await r.close();
    const again = await relay("prod");
    const res2 = await post(again, contamination());
    assert.equal(res2.status, 200);
    assert.match(res2.text, /"action":"exists"/);
    assert.equal(pullsOf(prefix).length, 1);
    assert.equal(pr.state, "open");
    assert.equal(pr.merged_at, null, "auto-merge is off for prod");
  });

  it("resolved -> a comment on the open pull request, which stays open", async () => {
    const r = await relay("prod");
    const pr = pullsOf(`rollback/prod-immediate-${FP}`)[0];
    const res = await post(r, contamination({ status: "resolved" }));
    assert.equal(res.status, 200, res.text);
    assert.equal(pr.pull.state, "open");
    assert.equal(pr.comments.length, 1);
    assert.match(pr.comments[0].body ?? "", /The alert resolved/);
    assert.ok(!hub.requests.some((q) => q.method === "PATCH"), "nothing closed");
  });

  it("legacy-only error rate and latency, ContaminationUnmonitored, warnings, another stack's alert: no pull request", async () => {
    const r = await relay("prod");
    const n = hub.pulls.size;
    const alerts = [
      webhookAlert({ alertname: "HighErrorRate", severity: "critical", version: "Legacy", fingerprint: "1111111111111111" }),
      webhookAlert({ alertname: "HighLatency", severity: "critical", version: "Legacy", fingerprint: "2222222222222222" }),
      webhookAlert({ alertname: "ContaminationUnmonitored", severity: "critical", fingerprint: "3333333333333333" }),
      webhookAlert({ alertname: "ModerateErrorRate", severity: "warning", version: "New", fingerprint: "4444444444444444" }),
      webhookAlert({ alertname: "SessionIsolationFailure", severity: "critical", stack: "staging", fingerprint: "5555555555555555" }),
    ];
    const res = await post(r, webhook(alerts));
    assert.equal(res.status, 200, res.text);
    assert.equal(hub.pulls.size, n);
  });

  it("auto-merge: a contamination rollback on a stack with rollback.autoMergeOnContamination is merged at once; an error-rate rollback is not", async () => {
    const r = await relay("staging");
    const res = await post(r, contamination({ stack: "staging", fingerprint: "aaaaaaaaaaaaaaaa" }));
    assert.equal(res.status, 200, res.text);
    const [pr] = pullsOf("rollback/staging-immediate-aaaaaaaaaaaaaaaa");
    assert.equal(pr.pull.state, "closed");
    assert.notEqual(pr.pull.merged_at, null);
    const main = stackConfigOf(parseStackFile("staging", "Pulumi.staging.yaml", `${git("show", "refs/heads/main:Pulumi.staging.yaml")}\n`));
    assert.equal(main.enableStatelessOrchestration, false);
    assert.equal(main.canaryPercentage, 50);
    // Main is rolled back now: the same stack's error-rate alert finds nothing to roll back.
    const res2 = await post(r, webhook([webhookAlert({ alertname: "HighErrorRate", severity: "critical", version: "New", stack: "staging", fingerprint: "bbbbbbbbbbbbbbbb" })]));
    assert.match(res2.text, /"action":"already-rolled-back"/);
    assert.equal(pullsOf("rollback/staging-immediate-bbbbbbbbbbbbbbbb").length, 0);
  });

  it("auto-merge behind branch protection: GitHub refuses the merge until the required checks pass (405), so the relay turns on GitHub's auto-merge, which merges once they pass", async () => {
    const guarded = await startGitHubStandIn({ repository: REPOSITORY, token: GH_TOKEN, gitDir: bare, requiredChecks: ["rollout review", "pull request tests"] });
    try {
      const r = await relay("protected", guarded);
      const res = await post(r, contamination({ stack: "protected", fingerprint: "dddddddddddddddd" }));
      assert.equal(res.status, 200, res.text);
      const [pr] = [...guarded.pulls.values()].filter((p) => p.pull.head.ref.startsWith("rollback/protected-immediate-dddddddddddddddd"));
      assert.equal(pr.pull.state, "open", "not merged before the checks");
      assert.equal(pr.autoMerge?.mergeMethod, "MERGE");
      assert.match(res.text, /auto-merge is on, it merges once the required checks pass/);
      assert.ok(guarded.requests.some((q) => q.method === "PUT" && /\/merge$/.test(q.path)), "it tried the merge first");
      guarded.passChecks(pr.pull.number);
      assert.notEqual(pr.pull.merged_at, null);
      const main = stackConfigOf(parseStackFile("protected", "Pulumi.protected.yaml", `${git("show", "refs/heads/main:Pulumi.protected.yaml")}\n`));
      assert.equal(main.enableStatelessOrchestration, false);
      // Auto-merge refused too (the repository does not allow it): the pull request stays open for a person, and the webhook still succeeds.
      guarded.failNext("POST", /^\/graphql$/, 403, () => "Resource not accessible by integration");
      git("update-ref", "refs/heads/main", git("rev-parse", "refs/heads/main~1"));
      const res2 = await post(r, contamination({ stack: "protected", fingerprint: "eeeeeeeeeeeeeeee" }));
      assert.equal(res2.status, 200, res2.text);
      assert.match(res2.text, /and to turn on auto-merge \(.*Resource not accessible by integration.*\): a person merges it/);
      const [pr2] = [...guarded.pulls.values()].filter((p) => p.pull.head.ref.startsWith("rollback/protected-immediate-eeeeeeeeeeeeeeee"));
      assert.equal(pr2.pull.state, "open");
      assert.equal(pr2.autoMerge, undefined);
      assert.ok(!logs.some((l) => l.includes(GH_TOKEN)));
    } finally {
      await guarded.close();
    }
  });

  it("another alert calling for the same rollback joins the open pull request: one PR, a comment with its evidence; a repeat adds nothing; its resolution comments there", async () => {
    const r = await relay("prod");
    const [first] = pullsOf(`rollback/prod-immediate-${FP}`);
    const n = hub.pulls.size;
    const comments = first.comments.length;
    const other = webhook([webhookAlert({ alertname: "HighErrorRate", severity: "critical", version: "New", fingerprint: "cccccccccccccccc", summary: "High error rate on the New path: 7.12% > 5%" })]);
    const res = await post(r, other);
    assert.equal(res.status, 200, res.text);
    assert.match(res.text, /"action":"joined"/);
    assert.equal(hub.pulls.size, n, "no second pull request");
    assert.equal(first.comments.length, comments + 1);
    assert.match(first.comments.at(-1)?.body ?? "", /Another critical alert calls for this same rollback[\s\S]*High error rate on the New path: 7\.12% > 5%/);
    assert.match(first.pull.body ?? "", /fingerprint=cccccccccccccccc/);
    // The same notification again, and after a restart: nothing more.
    assert.match((await post(r, other)).text, /"action":"exists"/);
    await r.close();
    const again = await relay("prod");
    assert.match((await post(again, other)).text, /"action":"exists"/);
    assert.equal(first.comments.length, comments + 1);
    const resolved = webhook([webhookAlert({ alertname: "HighErrorRate", severity: "critical", version: "New", fingerprint: "cccccccccccccccc", status: "resolved" })]);
    assert.equal((await post(again, resolved)).status, 200);
    assert.match(first.comments.at(-1)?.body ?? "", /The alert resolved/);
    assert.equal(first.pull.state, "open");
  });

  it("an error-rate rollback is opened and not merged, even on a stack where contamination auto-merges", async () => {
    const r = await relay("qa");
    const res = await post(r, webhook([webhookAlert({ alertname: "HighErrorRate", severity: "critical", version: "New", stack: "qa", fingerprint: "cccccccccccccccc" })]));
    assert.equal(res.status, 200, res.text);
    const [pr] = pullsOf("rollback/qa-immediate-cccccccccccccccc");
    assert.equal(pr.pull.state, "open");
    assert.ok(!hub.requests.some((q) => q.method === "PUT" && q.path.endsWith(`/pulls/${pr.pull.number}/merge`)));
  });

  it("a fork's pull request from a branch named like an alert's does not stand for it: the relay opens its own", async () => {
    git("update-ref", `refs/heads/rollback/forked-immediate-${FP}-20200101T000000Z`, git("rev-parse", "refs/heads/main"));
    const fork = hub.addPull({ title: "not a rollback", head: `rollback/forked-immediate-${FP}-20200101T000000Z`, base: "main", fromFork: true });
    const r = await relay("forked");
    const res = await post(r, contamination({ stack: "forked" }));
    assert.equal(res.status, 200, res.text);
    const mine = pullsOf(`rollback/forked-immediate-${FP}`).filter((p) => p.pull.number !== fork);
    assert.equal(mine.length, 1);
    assert.equal(hub.pulls.get(fork)?.comments.length, 0);
  });

  it("hostile labels and annotations reach neither the branch name, nor a line of their own in the commit, nor the stack file", async () => {
    const r = await relay("hostile");
    const h = "x\nCo-authored-by: evil <e@x>\n```\n../../etc\n  valuecanvas:canaryPercentage: \"100\"";
    const a = { ...webhookAlert({ alertname: "SessionIsolationFailure", severity: "critical", stack: "hostile", fingerprint: "dddddddddddddddd", summary: h, version: h }), annotations: { summary: h, description: h, runbook: h } };
    const res = await post(r, webhook([a]));
    assert.equal(res.status, 200, res.text);
    const [pr] = pullsOf("rollback/hostile-immediate-dddddddddddddddd");
    assert.match(pr.pull.head.ref, /^rollback\/hostile-immediate-d{16}-\d{8}T\d{6}Z$/);
    const message = git("log", "-1", "--format=%B", `refs/heads/${pr.pull.head.ref}`);
    assert.ok(!/^Co-authored-by/m.test(message), message);
    assert.equal(`${git("show", `refs/heads/${pr.pull.head.ref}:Pulumi.hostile.yaml`)}\n`, gateStackFile(25).replace(/"true"/g, '"false"'));
  });

  it("a bad body is 400 naming the key; a GitHub failure is 500 (Alertmanager retries) and the log never shows a token", async () => {
    const r = await relay("prod");
    const bad = await post(r, { version: "4", alerts: [{ fingerprint: "nope" }] });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /alerts\[0\]\.fingerprint: got \\"nope\\"/);
    hub.failNext("GET", /\/git\/ref\//, 502, (q) => `upstream broke; you sent ${q.authorization}`);
    const res = await post(r, webhook([webhookAlert({ alertname: "SessionIsolationFailure", severity: "critical", fingerprint: "eeeeeeeeeeeeeeee" })]));
    assert.equal(res.status, 500);
    assert.ok(!res.text.includes(GH_TOKEN));
    assert.ok(logs.some((l) => /failed \(500/.test(l)));
    assert.ok(!logs.some((l) => l.includes(GH_TOKEN) || l.includes(BEARER)), logs.join("\n"));
  });

  it("the stand-in refuses what GitHub would for the relay's calls: an undefined field, a stale blob, an existing branch", async () => {
    const call = (method: string, p: string, body: unknown) =>
      fetch(`${hub.url}/repos/${REPOSITORY}${p}`, { method, headers: { authorization: `token ${GH_TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const main = git("rev-parse", "refs/heads/main");
    assert.equal((await call("POST", "/git/refs", { ref: "refs/heads/x", sha: main, force: true })).status, 422);
    assert.equal((await call("POST", "/git/refs", { ref: "refs/heads/main", sha: main })).status, 422);
    assert.equal((await call("PUT", "/contents/Pulumi.prod.yaml", { message: "m", content: "eA==", branch: "main", sha: "0".repeat(40) })).status, 409);
    assert.equal(git("rev-parse", "refs/heads/main"), main, "nothing written");
  });

  it("reads its tokens from files only its owner may read", () => {
    const f = path.join(tmp, "token");
    fs.writeFileSync(f, `${BEARER}\n`, { mode: 0o400 });
    assert.equal(readSecretFile(f, "the bearer token"), BEARER);
    fs.chmodSync(f, 0o444);
    assert.throws(() => readSecretFile(f, "the bearer token"), (e: unknown) => e instanceof SecretFileError && /mode 0444/.test(e.message) && !e.message.includes(BEARER));
    assert.throws(() => readSecretFile(path.join(tmp, "missing"), "the bearer token"), SecretFileError);
  });
});
