/**
 * ci/github.ts, the real client (@octokit/rest) against the tests' GitHub stand-in
 * (test/support/githubStandIn.ts): the calls `rollout propose` makes go out with the shapes of
 * GitHub's OpenAPI description and come back read; paging follows GitHub's Link header; an error says
 * which call failed and what GitHub answered, never the token. And the stand-in itself refuses what
 * GitHub would: a field the operation does not define, a missing required one, a bad token.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GitHubError, gitHubPullRequests, splitRepository } from "../../ci/github";
import { CreatePullBody, FieldTable, StandIn, startGitHubStandIn } from "../support/githubStandIn";
import { GIT_ENV } from "./gitFixture";

const REPOSITORY = "valuecanvas/stand-in-check";
const TOKEN = "ghs_standInCheckToken0123456789";

// The stand-in's field tables are checked both ways by the compiler: a table missing a field of the
// operation, or naming one it does not have, does not compile (tsc --noEmit fails if these stop failing).
// @ts-expect-error -- "head", "base" and the other fields of pulls/create are missing
export const missingFields = { title: "string" } satisfies FieldTable<CreatePullBody>;
export const extraField = {
  title: "string", head: "string", head_repo: "string", base: "string", body: "string", maintainer_can_modify: "boolean", draft: "boolean", issue: "number",
  // @ts-expect-error -- pulls/create has no field "merge"
  merge: "boolean",
} satisfies FieldTable<CreatePullBody>;

describe("GitHub's pull-request calls through @octokit/rest, against the stand-in", function () {
  this.timeout(60_000);
  let tmp: string;
  let hub: StandIn;
  const git = (dir: string, ...args: string[]) => execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "stand-in-"));
    const bare = path.join(tmp, "remote.git");
    git(tmp, "init", "-q", "--bare", "-b", "main", bare);
    const work = path.join(tmp, "work");
    git(tmp, "clone", "-q", bare, work);
    fs.writeFileSync(path.join(work, "a"), "a\n");
    git(work, "add", "a");
    git(work, "commit", "-q", "-m", "a");
    git(work, "push", "-q", "origin", "HEAD:refs/heads/main", "HEAD:refs/heads/rollout/prod-25");
    git(work, "push", "-q", "origin", ...Array.from({ length: 130 }, (_, i) => `HEAD:refs/heads/other-${i}`));
    hub = await startGitHubStandIn({ repository: REPOSITORY, token: TOKEN, gitDir: bare });
  });
  after(async () => {
    await hub?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const client = (token = TOKEN) => gitHubPullRequests({ repository: REPOSITORY, token, baseUrl: hub.url });

  it("opens, lists, comments, labels, unlabels and closes: each request as GitHub's description has it", async () => {
    const gh = client();
    const pr = await gh.create({ title: "rollout(prod): advance 10% -> 25%", head: "rollout/prod-25", base: "main", body: "body" });
    assert.equal(pr.number, 1);
    const create = hub.requests.find((r) => r.method === "POST" && r.path.endsWith("/pulls"));
    assert.deepEqual(create?.body, { title: "rollout(prod): advance 10% -> 25%", head: "rollout/prod-25", base: "main", body: "body", maintainer_can_modify: false });
    assert.equal(create?.authorization, `token ${TOKEN}`);
    await gh.addLabels(1, ["rollout-proposal", "rollout-gate-pause"]);
    await gh.comment(1, "the gate now says PAUSE");
    await gh.removeLabel(1, "rollout-gate-pause");
    const open = await gh.listOpen("main");
    assert.deepEqual(open.map((p) => [p.number, p.branch, p.headRepository, p.labels]), [[1, "rollout/prod-25", REPOSITORY, ["rollout-proposal"]]]);
    assert.equal(open[0].headSha.length, 40);
    await gh.close(1);
    assert.deepEqual(await gh.listOpen("main"), []);
    assert.equal(hub.pulls.get(1)?.comments[0].body, "the gate now says PAUSE");
  });

  it("lists every open pull request, past GitHub's page of 100 (the Link header)", async () => {
    for (let i = 0; i < 130; i++) hub.addPull({ title: `t${i}`, head: `other-${i}`, base: "main" });
    const before = hub.requests.length;
    const open = await client().listOpen("main");
    assert.equal(open.length, 130);
    const pages = hub.requests.slice(before).filter((r) => r.method === "GET");
    assert.deepEqual(pages.map((r) => r.query.page ?? "1"), ["1", "2"]);
    assert.ok(pages.every((r) => r.query.per_page === "100" && r.query.state === "open" && r.query.base === "main"));
  });

  it("an error names the call and GitHub's answer, never the token: a bad token, a missing branch, an answer echoing the header", async () => {
    const bad = "ghs_wrongTokenValue987654321";
    await assert.rejects(client(bad).listOpen("main"), (e: Error) => e instanceof GitHubError && /listing the open pull requests in valuecanvas\/stand-in-check failed \(HTTP 401\): Bad credentials/.test(e.message) && !e.message.includes(bad));
    await assert.rejects(client().create({ title: "x", head: "rollout/prod-99", base: "main", body: "" }), /opening a pull request .* \(HTTP 422\): Validation Failed: head "rollout\/prod-99" is not a branch/);
    hub.failNext("POST", /\/labels$/, 500, (r) => `could not label; you sent ${r.authorization ?? ""}`);
    await assert.rejects(client().addLabels(2, ["x"]), (e: Error) => /labelling #2 .*\(HTTP 500\): could not label; you sent token \[secret\]/.test(e.message) && !e.message.includes(TOKEN));
  });

  it("the stand-in refuses what GitHub's description does not allow: an unknown field, a missing required one, a wrong type", async () => {
    const post = (p: string, body: unknown) =>
      fetch(`${hub.url}/repos/${REPOSITORY}${p}`, { method: "POST", headers: { authorization: `token ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { message: string } }));
    assert.deepEqual(await post("/pulls", { head: "rollout/prod-25", base: "main", merge: true }), { status: 422, body: { message: 'pulls/create: "merge" is not a field of this operation in GitHub\'s OpenAPI description', documentation_url: "https://docs.github.com/rest" } });
    assert.equal((await post("/pulls", { title: "x", base: "main" })).body.message, 'pulls/create: "head" is required');
    assert.equal((await post("/issues/2/labels", { labels: "x" })).body.message, 'issues/add-labels: "labels" must be string[]');
    assert.equal((await post("/issues/2/comments", {})).body.message, 'issues/create-comment: "body" is required');
  });

  it("a repository name is owner/name", () => {
    assert.deepEqual(splitRepository("valuecanvas/rollout"), { owner: "valuecanvas", repo: "rollout" });
    for (const bad of ["valuecanvas", "a/b/c", "../x", "a/..", "-a/b", "a/b c"]) assert.throws(() => splitRepository(bad), GitHubError, bad);
  });
});
