/**
 * A STAND-IN for the few GitHub REST endpoints `rollout propose` calls (ci/github.ts), for the tests
 * only: GitHub cannot be reached from here. It is not GitHub and not a general mock: an HTTP server on
 * 127.0.0.1 that keeps pull requests, comments and labels in memory and answers
 *
 *   GET    /repos/{owner}/{repo}/pulls                      pulls/list (state, base, head, per_page, page; Link paging)
 *   POST   /repos/{owner}/{repo}/pulls                      pulls/create (422 when the head branch is not in the
 *                                                            git remote, or an open pull request has that head)
 *   GET    /repos/{owner}/{repo}/pulls/{n}                  pulls/get
 *   PATCH  /repos/{owner}/{repo}/pulls/{n}                  pulls/update (state: closed)
 *   POST   /repos/{owner}/{repo}/issues/{n}/comments        issues/create-comment
 *   POST   /repos/{owner}/{repo}/issues/{n}/labels          issues/add-labels ({ labels: string[] })
 *   DELETE /repos/{owner}/{repo}/issues/{n}/labels/{name}   issues/remove-label (404 when not on it)
 *   PUT    /repos/{owner}/{repo}/pulls/{n}/merge            pulls/merge (a merge commit in the git remote; 409 when
 *                                                            `sha` is not the head, 405 when closed or conflicting)
 *   GET    /repos/{owner}/{repo}/git/ref/heads/{branch}     git/get-ref
 *   POST   /repos/{owner}/{repo}/git/refs                   git/create-ref (422 "Reference already exists")
 *   GET    /repos/{owner}/{repo}/contents/{path}?ref=        repos/get-content (a file only)
 *   PUT    /repos/{owner}/{repo}/contents/{path}            repos/create-or-update-file-contents (a commit on `branch`
 *                                                            in the git remote; 409 when `sha` is not the file's blob)
 *   POST   /graphql                                         the one GraphQL mutation the relay sends,
 *                                                            enablePullRequestAutoMerge (GitHub merges once the
 *                                                            required checks pass: passChecks() does it here)
 *
 * With `requiredChecks`, the stand-in plays a branch protection that requires those checks: a merge
 * of a pull request whose checks have not passed (passChecks) is refused with 405 and GitHub's words.
 *
 * The git side (refs, blobs, commits) is the bare repository itself, written with git's plumbing, so a
 * test reads what the relay committed with git.
 *
 * Checked against GitHub's published OpenAPI description (@octokit/openapi-types, the version the
 * client's methods are typed with):
 * - each request body is checked at run time against a key → type table that the compiler checks
 *   against the operation's request type (`satisfies`, both ways: every key of the table is the
 *   operation's, and every key of the operation is in the table), so a field GitHub does not define,
 *   a missing required one or a wrongly typed one is a 422 here, as it would be there; query
 *   parameters likewise;
 * - each response carries the fields the client reads, each typed by the schema (`Pick` of
 *   components["schemas"][...]); fields the code never reads are left out, and say so by their absence.
 * Every request must carry `Authorization: token <the token>` (or Bearer), else 401.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { components, operations } from "@octokit/openapi-types";

type Schemas = components["schemas"];
type PullSimple = Schemas["pull-request-simple"];
type Pull = Schemas["pull-request"];
type LabelSchema = Schemas["label"];

/** The fields of a label the stand-in returns, typed by the schema. */
export type StandInLabel = Pick<LabelSchema, "id" | "node_id" | "url" | "name" | "description" | "color" | "default">;
/** The fields of a pull request the stand-in returns (list and single), typed by the schema. */
export type StandInPull = Pick<PullSimple & Pull, "url" | "id" | "node_id" | "html_url" | "number" | "state" | "locked" | "title" | "body" | "created_at" | "updated_at" | "closed_at" | "merged_at" | "draft"> & {
  labels: StandInLabel[];
  head: Pick<PullSimple["head"], "label" | "ref" | "sha"> & { repo: Pick<NonNullable<PullSimple["head"]["repo"]>, "id" | "name" | "full_name"> };
  base: Pick<PullSimple["base"], "label" | "ref" | "sha">;
};
export type StandInComment = Pick<Schemas["issue-comment"], "id" | "node_id" | "url" | "html_url" | "body" | "created_at" | "updated_at">;

export type CreatePullBody = operations["pulls/create"]["requestBody"]["content"]["application/json"];
type UpdatePullBody = NonNullable<operations["pulls/update"]["requestBody"]>["content"]["application/json"];
type CommentBody = operations["issues/create-comment"]["requestBody"]["content"]["application/json"];
type AddLabelsBody = Extract<NonNullable<operations["issues/add-labels"]["requestBody"]>["content"]["application/json"], { labels?: string[] }>;
type ListQuery = NonNullable<operations["pulls/list"]["parameters"]["query"]>;
type MergeBody = NonNullable<NonNullable<operations["pulls/merge"]["requestBody"]>["content"]["application/json"]>;
export type CreateRefBody = operations["git/create-ref"]["requestBody"]["content"]["application/json"];
export type PutContentBody = operations["repos/create-or-update-file-contents"]["requestBody"]["content"]["application/json"];
type ContentQuery = NonNullable<operations["repos/get-content"]["parameters"]["query"]>;
/** The fields the stand-in returns for these operations, typed by the schema. */
export type StandInRef = Pick<Schemas["git-ref"], "ref" | "node_id" | "url" | "object">;
export type StandInFile = Pick<Schemas["content-file"], "type" | "encoding" | "size" | "name" | "path" | "content" | "sha" | "url" | "git_url" | "html_url" | "download_url" | "_links">;
export type StandInFileCommit = { content: Pick<NonNullable<Schemas["file-commit"]["content"]>, "name" | "path" | "sha">; commit: Pick<Schemas["file-commit"]["commit"], "sha" | "message"> };
export type StandInMerge = Schemas["pull-request-merge-result"];

type Kind = "string" | "number" | "boolean" | "string[]" | "object";
/** A table of every field of T with its JSON kind: the compiler refuses a key T lacks, and (below) one T has that it lacks. */
export type FieldTable<T> = { [K in keyof Required<T>]: Kind };
const CREATE_PULL = { title: "string", head: "string", head_repo: "string", base: "string", body: "string", maintainer_can_modify: "boolean", draft: "boolean", issue: "number" } satisfies FieldTable<CreatePullBody>;
const UPDATE_PULL = { title: "string", body: "string", state: "string", base: "string", maintainer_can_modify: "boolean" } satisfies FieldTable<UpdatePullBody>;
const COMMENT = { body: "string" } satisfies FieldTable<CommentBody>;
const ADD_LABELS = { labels: "string[]" } satisfies FieldTable<AddLabelsBody>;
const LIST_QUERY = { state: "string", head: "string", base: "string", sort: "string", direction: "string", per_page: "number", page: "number" } satisfies FieldTable<ListQuery>;
const MERGE = { commit_title: "string", commit_message: "string", sha: "string", merge_method: "string" } satisfies FieldTable<MergeBody>;
const CREATE_REF = { ref: "string", sha: "string" } satisfies FieldTable<CreateRefBody>;
const PUT_CONTENT = { message: "string", content: "string", sha: "string", branch: "string", committer: "object", author: "object" } satisfies FieldTable<PutContentBody>;
const CONTENT_QUERY = { ref: "string" } satisfies FieldTable<ContentQuery>;
const REQUIRED = {
  createPull: ["head", "base"] as Array<keyof CreatePullBody>,
  comment: ["body"] as Array<keyof CommentBody>,
  createRef: ["ref", "sha"] as Array<keyof CreateRefBody>,
  putContent: ["message", "content"] as Array<keyof PutContentBody>,
};

/** One request as the stand-in received it. */
export interface Recorded {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  authorization: string | undefined;
  /** When it arrived (Date.now()), for the tests' timings. */
  at: number;
}

interface PullState {
  pull: StandInPull;
  comments: StandInComment[];
  /** Auto-merge enabled (enablePullRequestAutoMerge): GitHub merges once the required checks pass. */
  autoMerge?: { mergeMethod: string; commitHeadline: string | undefined };
  /** The required checks passed (passChecks). */
  checksPassed?: boolean;
}

class Reject extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function checkFields(what: string, value: unknown, table: Record<string, Kind>, required: readonly string[] = []): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Reject(422, `${what}: the body is not a JSON object`);
  const o = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    const kind = table[k];
    if (kind === undefined) throw new Reject(422, `${what}: "${k}" is not a field of this operation in GitHub's OpenAPI description`);
    const ok = kind === "string[]" ? Array.isArray(v) && v.every((x) => typeof x === "string") : kind === "object" ? typeof v === "object" && v !== null && !Array.isArray(v) : typeof v === kind;
    if (!ok) throw new Reject(422, `${what}: "${k}" must be ${kind}`);
  }
  for (const k of required) if (!(k in o)) throw new Reject(422, `${what}: "${k}" is required`);
}

export interface StandIn {
  /** The REST root to give the client (its base URL). */
  url: string;
  requests: Recorded[];
  /** Pull requests by number (the test reads and edits them, e.g. a person's label). */
  pulls: Map<number, PullState>;
  /** Make the next request whose method and path match answer `status` with `message` (e.g. a server echoing what it got). */
  failNext(method: string, path: RegExp, status: number, message: (r: Recorded) => string): void;
  /** A pull request a person opened (head branch already pushed to the git remote). */
  addPull(o: { title: string; head: string; base: string; body?: string; labels?: string[]; fromFork?: boolean }): number;
  /** The required checks of #number passed: a pull request with auto-merge enabled is merged, as GitHub does. */
  passChecks(number: number): void;
  close(): Promise<void>;
}

/**
 * Start the stand-in for `repository` (owner/name), whose git remote is the bare repository `gitDir`
 * (the head commit of a new pull request is read from it), accepting `token`.
 */
export async function startGitHubStandIn(o: { repository: string; token: string; gitDir: string; requiredChecks?: readonly string[] }): Promise<StandIn> {
  const [owner, name] = o.repository.split("/");
  const pulls = new Map<number, PullState>();
  const requests: Recorded[] = [];
  const failures: Array<{ method: string; path: RegExp; status: number; message: (r: Recorded) => string }> = [];
  let nextNumber = 1;
  let nextId = 1000;
  let url = "";
  const now = () => new Date().toISOString();
  const headSha = (branch: string): string | undefined => {
    try {
      return execFileSync("git", ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}`], { cwd: o.gitDir, encoding: "utf8" }).trim();
    } catch {
      return undefined;
    }
  };
  const git = (args: string[], opts: { input?: string; env?: Record<string, string> } = {}): string =>
    execFileSync("git", args, { cwd: o.gitDir, encoding: "utf8", input: opts.input, env: { ...process.env, ...opts.env } }).trim();
  const tryGit = (args: string[]): string | undefined => {
    try {
      return git(args);
    } catch {
      return undefined;
    }
  };
  const validBranch = (b: string) => /^[A-Za-z0-9._/-]{1,200}$/.test(b) && tryGit(["check-ref-format", `refs/heads/${b}`]) !== undefined;
  const commitAs = { GIT_AUTHOR_NAME: "stand-in", GIT_AUTHOR_EMAIL: "stand-in@github.invalid", GIT_COMMITTER_NAME: "stand-in", GIT_COMMITTER_EMAIL: "stand-in@github.invalid" };
  const refBody = (branch: string, sha: string): StandInRef => ({ ref: `refs/heads/${branch}`, node_id: `REF_${branch}`, url: `${url}/repos/${o.repository}/git/refs/heads/${branch}`, object: { type: "commit", sha, url: `${url}/repos/${o.repository}/git/commits/${sha}` } });
  const label = (n: string): StandInLabel => ({ id: nextId++, node_id: `LA_${n}`, url: `${url}/repos/${o.repository}/labels/${encodeURIComponent(n)}`, name: n, description: null, color: "ededed", default: false });
  const makePull = (c: { title: string; head: string; base: string; body?: string; labels?: string[]; fromFork?: boolean }): StandInPull => {
    const number = nextNumber++;
    const sha = headSha(c.head);
    if (sha === undefined) throw new Reject(422, `Validation Failed: head "${c.head}" is not a branch of ${o.repository}`);
    const baseSha = headSha(c.base) ?? "";
    const t = now();
    return {
      url: `${url}/repos/${o.repository}/pulls/${number}`,
      id: nextId++,
      node_id: `PR_${number}`,
      html_url: `https://github.invalid/${o.repository}/pull/${number}`,
      number,
      state: "open",
      locked: false,
      title: c.title,
      body: c.body ?? null,
      created_at: t,
      updated_at: t,
      closed_at: null,
      merged_at: null,
      draft: false,
      labels: (c.labels ?? []).map(label),
      head: { label: `${owner}:${c.head}`, ref: c.head, sha, repo: c.fromFork ? { id: 2, name, full_name: `someone/${name}` } : { id: 1, name, full_name: o.repository } },
      base: { label: `${owner}:${c.base}`, ref: c.base, sha: baseSha },
    };
  };
  const find = (n: number): PullState => {
    const p = pulls.get(n);
    if (!p) throw new Reject(404, "Not Found");
    return p;
  };

  /** Merge #p into its base as GitHub does (a merge commit), if its head is still `sha`; returns the merge commit. */
  const mergePull = (p: PullState, sha: string | undefined, title: string | undefined): string => {
    const head = headSha(p.pull.head.ref);
    if (head === undefined || (sha !== undefined && sha !== head)) throw new Reject(409, "Head branch was modified. Review and try the merge again.");
    const base = headSha(p.pull.base.ref);
    if (base === undefined) throw new Reject(422, "Validation Failed: the base branch is gone");
    const tree = tryGit(["merge-tree", "--write-tree", base, head]);
    if (tree === undefined) throw new Reject(405, "Pull Request is not mergeable");
    const merged = git(["commit-tree", tree.split("\n")[0], "-p", base, "-p", head, "-m", title ?? `Merge pull request #${p.pull.number}`], { env: commitAs });
    git(["update-ref", `refs/heads/${p.pull.base.ref}`, merged, base]);
    p.pull = { ...p.pull, state: "closed", closed_at: now(), merged_at: now(), updated_at: now() };
    return merged;
  };

  /**
   * POST /graphql: only `enablePullRequestAutoMerge(input: {pullRequestId, mergeMethod, commitHeadline})`, as
   * GitHub's GraphQL schema defines the mutation and its input (EnablePullRequestAutoMergeInput); anything
   * else is an error in GraphQL's shape (200 with `errors`), as GitHub answers one.
   */
  const graphql = (r: Recorded): { status: number; body: unknown } => {
    const b = r.body as { query?: unknown; variables?: Record<string, unknown> } | undefined;
    const query = typeof b?.query === "string" ? b.query : "";
    const vars = b?.variables ?? {};
    const error = (message: string) => ({ status: 200, body: { data: null, errors: [{ type: "UNPROCESSABLE", message }] } });
    if (!/^\s*mutation\b[^{]*\{\s*enablePullRequestAutoMerge\s*\(\s*input\s*:/.test(query)) return error("the stand-in answers only the enablePullRequestAutoMerge mutation");
    const id = vars.pullRequestId;
    const method = vars.mergeMethod ?? "MERGE";
    if (typeof id !== "string") return error("Variable $pullRequestId of type ID! was provided invalid value");
    if (!["MERGE", "SQUASH", "REBASE"].includes(String(method))) return error(`Variable $mergeMethod: "${String(method)}" is not a PullRequestMergeMethod`);
    const p = [...pulls.values()].find((x) => x.pull.node_id === id);
    if (!p) return error(`Could not resolve to a node with the global id of '${id}'`);
    if (p.pull.state !== "open") return error("Pull request is not in the correct state to enable auto-merge");
    p.autoMerge = { mergeMethod: String(method), commitHeadline: typeof vars.commitHeadline === "string" ? vars.commitHeadline : undefined };
    return { status: 200, body: { data: { enablePullRequestAutoMerge: { pullRequest: { number: p.pull.number } } } } };
  };

  const handle = (r: Recorded): { status: number; body: unknown; headers?: Record<string, string> } => {
    const auth = r.authorization ?? "";
    if (auth !== `token ${o.token}` && auth !== `Bearer ${o.token}` && auth !== `bearer ${o.token}`) throw new Reject(401, "Bad credentials");
    const f = failures.findIndex((x) => x.method === r.method && x.path.test(r.path));
    if (f >= 0) {
      const [x] = failures.splice(f, 1);
      throw new Reject(x.status, x.message(r));
    }
    if (r.method === "POST" && r.path === "/graphql") return graphql(r);
    const prefix = `/repos/${owner}/${name}`;
    if (!r.path.startsWith(`${prefix}/`)) throw new Reject(404, "Not Found");
    const rest = r.path.slice(prefix.length);
    let m: RegExpExecArray | null;
    if (r.method === "GET" && rest === "/pulls") {
      const q: Record<string, unknown> = Object.fromEntries(Object.entries(r.query).map(([k, v]) => [k, LIST_QUERY[k as keyof typeof LIST_QUERY] === "number" ? Number(v) : v]));
      checkFields("pulls/list query", q, LIST_QUERY);
      const state = r.query.state ?? "open";
      const all = [...pulls.values()].map((p) => p.pull).filter((p) => (state === "all" || p.state === state) && (r.query.base === undefined || p.base.ref === r.query.base));
      const per = Number(r.query.per_page ?? 30);
      const page = Number(r.query.page ?? 1);
      const headers: Record<string, string> = {};
      if (page * per < all.length) headers.link = `<${url}${r.path}?${new URLSearchParams({ ...r.query, page: String(page + 1) }).toString()}>; rel="next"`;
      return { status: 200, body: all.slice((page - 1) * per, page * per), headers };
    }
    if (r.method === "POST" && rest === "/pulls") {
      checkFields("pulls/create", r.body, CREATE_PULL, REQUIRED.createPull);
      const b = r.body as CreatePullBody;
      if ([...pulls.values()].some((p) => p.pull.state === "open" && p.pull.head.ref === b.head)) throw new Reject(422, `Validation Failed: A pull request already exists for ${owner}:${b.head}.`);
      const pull = makePull({ title: b.title ?? "", head: b.head, base: b.base, body: b.body });
      pulls.set(pull.number, { pull, comments: [] });
      return { status: 201, body: pull };
    }
    if (r.method === "GET" && (m = /^\/pulls\/(\d+)$/.exec(rest))) return { status: 200, body: find(Number(m[1])).pull };
    if (r.method === "PATCH" && (m = /^\/pulls\/(\d+)$/.exec(rest))) {
      checkFields("pulls/update", r.body, UPDATE_PULL);
      const p = find(Number(m[1]));
      const b = r.body as UpdatePullBody;
      if (b.state !== undefined && b.state !== "open" && b.state !== "closed") throw new Reject(422, `pulls/update: state "${b.state}" is not open or closed`);
      if (b.state === "closed" && p.pull.state !== "closed") p.pull = { ...p.pull, state: "closed", closed_at: now() };
      if (b.title !== undefined) p.pull.title = b.title;
      if (b.body !== undefined) p.pull.body = b.body;
      p.pull.updated_at = now();
      return { status: 200, body: p.pull };
    }
    if (r.method === "POST" && (m = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      checkFields("issues/create-comment", r.body, COMMENT, REQUIRED.comment);
      const p = find(Number(m[1]));
      const id = nextId++;
      const c: StandInComment = { id, node_id: `IC_${id}`, url: `${url}/repos/${o.repository}/issues/comments/${id}`, html_url: `${p.pull.html_url}#issuecomment-${id}`, body: (r.body as CommentBody).body, created_at: now(), updated_at: now() };
      p.comments.push(c);
      return { status: 201, body: c };
    }
    if (r.method === "POST" && (m = /^\/issues\/(\d+)\/labels$/.exec(rest))) {
      checkFields("issues/add-labels", r.body, ADD_LABELS);
      const p = find(Number(m[1]));
      for (const l of (r.body as AddLabelsBody).labels ?? []) if (!p.pull.labels.some((x) => x.name === l)) p.pull.labels.push(label(l));
      return { status: 200, body: p.pull.labels };
    }
    if (r.method === "DELETE" && (m = /^\/issues\/(\d+)\/labels\/([^/]+)$/.exec(rest))) {
      const p = find(Number(m[1]));
      const n = decodeURIComponent(m[2]);
      if (!p.pull.labels.some((x) => x.name === n)) throw new Reject(404, "Label does not exist");
      p.pull.labels = p.pull.labels.filter((x) => x.name !== n);
      return { status: 200, body: p.pull.labels };
    }
    if (r.method === "PUT" && (m = /^\/pulls\/(\d+)\/merge$/.exec(rest))) {
      if (r.body !== undefined) checkFields("pulls/merge", r.body, MERGE);
      const p = find(Number(m[1]));
      const b = (r.body ?? {}) as MergeBody;
      if (p.pull.state !== "open") throw new Reject(405, "Pull Request is not mergeable");
      const pending = (o.requiredChecks ?? []).filter(() => !p.checksPassed);
      if (pending.length > 0) throw new Reject(405, `Required status check "${pending[0]}" is expected.`);
      const out: StandInMerge = { sha: mergePull(p, b.sha, b.commit_title), merged: true, message: "Pull Request successfully merged" };
      return { status: 200, body: out };
    }
    if (r.method === "GET" && (m = /^\/git\/ref\/(.+)$/.exec(rest))) {
      // The client sends heads/<branch> as one path parameter: "/" percent-encoded.
      const ref = decodeURIComponent(m[1]);
      const branch = ref.startsWith("heads/") ? ref.slice("heads/".length) : "";
      const sha = validBranch(branch) ? headSha(branch) : undefined;
      if (sha === undefined) throw new Reject(404, "Not Found");
      return { status: 200, body: refBody(branch, sha) };
    }
    if (r.method === "POST" && rest === "/git/refs") {
      checkFields("git/create-ref", r.body, CREATE_REF, REQUIRED.createRef);
      const b = r.body as CreateRefBody;
      const branch = b.ref.startsWith("refs/heads/") ? b.ref.slice("refs/heads/".length) : "";
      if (!validBranch(branch)) throw new Reject(422, `Reference name "${b.ref}" is not valid`);
      if (!/^[0-9a-f]{40}$/.test(b.sha) || tryGit(["cat-file", "-e", `${b.sha}^{commit}`]) === undefined) throw new Reject(422, "Object does not exist");
      if (headSha(branch) !== undefined) throw new Reject(422, "Reference already exists");
      git(["update-ref", `refs/heads/${branch}`, b.sha, ""]);
      return { status: 201, body: refBody(branch, b.sha) };
    }
    if ((r.method === "GET" || r.method === "PUT") && (m = /^\/contents\/(.+)$/.exec(rest))) {
      const file = m[1].split("/").map(decodeURIComponent).join("/");
      if (file.split("/").some((x) => x === "" || x === "." || x === "..")) throw new Reject(404, "Not Found");
      if (r.method === "GET") {
        checkFields("repos/get-content query", r.query, CONTENT_QUERY);
        const ref = r.query.ref ?? "main";
        const commit = /^[0-9a-f]{40}$/.test(ref) ? ref : validBranch(ref) ? headSha(ref) : undefined;
        const blob = commit === undefined ? undefined : tryGit(["rev-parse", "--verify", "--quiet", `${commit}:${file}`]);
        if (blob === undefined || tryGit(["cat-file", "-t", blob]) !== "blob") throw new Reject(404, "Not Found");
        const content = execFileSync("git", ["cat-file", "blob", blob], { cwd: o.gitDir });
        const self = `${url}/repos/${o.repository}/contents/${file}?ref=${encodeURIComponent(ref)}`;
        const out: StandInFile = { type: "file", encoding: "base64", size: content.length, name: file.split("/").pop() ?? file, path: file, content: content.toString("base64"), sha: blob, url: self, git_url: null, html_url: null, download_url: null, _links: { self, git: null, html: null } };
        return { status: 200, body: out };
      }
      checkFields("repos/create-or-update-file-contents", r.body, PUT_CONTENT, REQUIRED.putContent);
      const b = r.body as PutContentBody;
      const branch = b.branch ?? "main";
      const parent = validBranch(branch) ? headSha(branch) : undefined;
      if (parent === undefined) throw new Reject(404, `Branch ${branch} not found`);
      const current = tryGit(["rev-parse", "--verify", "--quiet", `${parent}:${file}`]);
      if (current !== undefined && b.sha !== current) throw new Reject(409, `${file} does not match ${b.sha ?? "(no sha)"}`);
      if (current === undefined && b.sha !== undefined) throw new Reject(422, `Invalid request: "sha" was supplied for a new file`);
      const blob = git(["hash-object", "-w", "--stdin"], { input: Buffer.from(b.content, "base64").toString("utf8") });
      const index = path.join(os.tmpdir(), `stand-in-index-${process.pid}-${nextId++}`);
      try {
        git(["read-tree", parent], { env: { GIT_INDEX_FILE: index } });
        git(["update-index", "--add", "--cacheinfo", `100644,${blob},${file}`], { env: { GIT_INDEX_FILE: index } });
        const tree = git(["write-tree"], { env: { GIT_INDEX_FILE: index } });
        const commit = git(["commit-tree", tree, "-p", parent, "-m", b.message], { env: commitAs });
        git(["update-ref", `refs/heads/${branch}`, commit, parent]);
        const out: StandInFileCommit = { content: { name: file.split("/").pop(), path: file, sha: blob }, commit: { sha: commit, message: b.message } };
        return { status: current === undefined ? 201 : 200, body: out };
      } finally {
        fs.rmSync(index, { force: true });
      }
    }
    throw new Reject(404, "Not Found");
  };

  const server = http.createServer((req, res) => {
    let raw = "";
    req.on("data", (d: Buffer) => (raw += d.toString()));
    req.on("end", () => {
      const u = new URL(req.url ?? "/", "http://stand-in");
      let body: unknown = undefined;
      try {
        body = raw === "" ? undefined : JSON.parse(raw);
      } catch {
        body = raw;
      }
      const r: Recorded = { method: req.method ?? "", path: u.pathname, query: Object.fromEntries(u.searchParams), body, authorization: req.headers.authorization, at: Date.now() };
      requests.push(r);
      let out: { status: number; body: unknown; headers?: Record<string, string> };
      try {
        out = handle(r);
      } catch (e) {
        out = e instanceof Reject ? { status: e.status, body: { message: e.message, documentation_url: "https://docs.github.com/rest" } } : { status: 500, body: { message: String(e) } };
      }
      res.writeHead(out.status, { "content-type": "application/json; charset=utf-8", ...(out.headers ?? {}) });
      res.end(JSON.stringify(out.body));
    });
  });
  // Idle client connections stay open until close(): no keep-alive timeout can race a reused socket (ECONNRESET).
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    pulls,
    failNext: (method, path, status, message) => failures.push({ method, path, status, message }),
    addPull: (c) => {
      const pull = makePull(c);
      pulls.set(pull.number, { pull, comments: [] });
      return pull.number;
    },
    passChecks: (n) => {
      const p = find(n);
      p.checksPassed = true;
      if (p.autoMerge && p.pull.state === "open") mergePull(p, undefined, p.autoMerge.commitHeadline);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
