/**
 * The few GitHub REST calls `rollout propose` and `rollout responder` make, through GitHub's own client (@octokit/rest):
 * list the open pull requests into a base branch, open one, comment on it, add and remove a label,
 * close it; and the relay's (gitHubFiles): read a file, create a branch, commit a file on it through the
 * contents API (no clone), and merge a pull request (only a contamination rollback, when the stack sets
 * rollback.autoMergeOnContamination). `rollout propose` never merges. The base URL is an option (GitHub Enterprise, or the tests' stand-in,
 * test/support/githubStandIn.ts).
 *
 * The token is given by the caller (the workflow's GITHUB_TOKEN environment variable) and goes only
 * into the client's Authorization header: every error message and every log line the client writes
 * passes through core/redact.ts with the token as a known secret, so it never reaches a terminal, a
 * log or a comment.
 */
import type { Octokit } from "@octokit/rest" with { "resolution-mode": "import" };
import { redact } from "../core/redact";
import { NamedError } from "../core/namedError";

/** A GitHub call failed: the message says which call and what GitHub answered, never the token. */
export class GitHubError extends NamedError {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

/** An open pull request, the fields `rollout propose` reads. */
export interface PullSummary {
  number: number;
  url: string;
  branch: string;
  headSha: string;
  /** owner/name of the head's repository (null: the fork was deleted). */
  headRepository: string | null;
  labels: string[];
  body: string | null;
}

export interface PullRequests {
  listOpen(base: string): Promise<PullSummary[]>;
  create(o: { title: string; head: string; base: string; body: string }): Promise<{ number: number; url: string }>;
  comment(number: number, body: string): Promise<void>;
  addLabels(number: number, labels: string[]): Promise<void>;
  removeLabel(number: number, label: string): Promise<void>;
  close(number: number): Promise<void>;
  /** Replace #number's body. */
  setBody(number: number, body: string): Promise<void>;
  /** Merge #number if its head is still `sha` (GitHub refuses otherwise); returns the merge commit. */
  merge(number: number, sha: string, commitTitle: string): Promise<{ sha: string }>;
  /**
   * Turn on GitHub's auto-merge for #number (GraphQL enablePullRequestAutoMerge, a merge commit): GitHub merges
   * it once the branch protection's required checks pass. Needs "Allow auto-merge" in the repository's settings.
   */
  enableAutoMerge(number: number, commitTitle: string): Promise<void>;
}

/** The relay's commits, through GitHub's contents API: no clone, no git. */
export interface RepositoryFiles {
  /** The commit `branch` points at, or undefined when there is no such branch. */
  branchHead(branch: string): Promise<string | undefined>;
  /** A file's text and blob id at `ref`, or undefined when it has none. */
  read(path: string, ref: string): Promise<{ text: string; blob: string } | undefined>;
  /** Create `branch` at `sha`; false when it exists already. */
  createBranch(branch: string, sha: string): Promise<boolean>;
  /** Commit `text` to `path` on `branch`, replacing the blob `blob` (GitHub refuses a file changed since: 409). Returns the commit. */
  write(o: { path: string; branch: string; blob: string; text: string; message: string }): Promise<{ commit: string }>;
}

export interface GitHubOptions {
  /** owner/name */
  repository: string;
  token: string;
  /** The REST API's root, e.g. https://api.github.com (GITHUB_API_URL in Actions). */
  baseUrl: string;
  /** Where the client's own warnings go (already redacted). */
  warn?: (line: string) => void;
}

/** `owner/name`, or a GitHubError naming what is allowed. */
export function splitRepository(repository: string): { owner: string; repo: string } {
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/.exec(repository);
  if (!m || m[2] === "." || m[2] === "..") throw new GitHubError(`"${repository}" is not a repository; allowed: owner/name (GITHUB_REPOSITORY in Actions)`);
  return { owner: m[1], repo: m[2] };
}

/** A real client pointed at `baseUrl`, and `call`: a call whose failure is a GitHubError without the token. */
function client(o: GitHubOptions): { octokit: Octokit; owner: string; repo: string; call: <T>(what: string, fn: () => Promise<T>) => Promise<T> } {
  const { owner, repo } = splitRepository(o.repository);
  // @octokit/rest is an ES module: loaded with require() (Node 20.19+), typed through the import above.
  const { Octokit: Client } = require("@octokit/rest") as typeof import("@octokit/rest", { with: { "resolution-mode": "import" } });
  const clean = (s: string) => redact(s, [o.token]);
  const say = (s: unknown) => o.warn?.(clean(String(s)));
  const octokit: Octokit = new Client({
    auth: o.token,
    baseUrl: o.baseUrl.replace(/\/+$/, ""),
    userAgent: "valuecanvas-rollout propose",
    log: { debug: () => {}, info: () => {}, warn: say, error: say },
  });
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      const err = e as { status?: number; message?: string };
      throw new GitHubError(clean(`GitHub: ${what} in ${o.repository} failed${err.status ? ` (HTTP ${err.status})` : ""}: ${err.message ?? String(e)}`), err.status);
    }
  };
  return { octokit, owner, repo, call };
}

/** GitHub's GraphQL mutation for auto-merge (input EnablePullRequestAutoMergeInput); variables only, nothing pasted. */
const ENABLE_AUTO_MERGE = `mutation ($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod, $commitHeadline: String) {
  enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, mergeMethod: $mergeMethod, commitHeadline: $commitHeadline }) {
    pullRequest { number }
  }
}`;

/** The pull-request calls, on a real client pointed at `baseUrl`. */
export function gitHubPullRequests(o: GitHubOptions): PullRequests {
  const { octokit, owner, repo, call } = client(o);
  return {
    listOpen: (base) =>
      call("listing the open pull requests", async () => {
        const pulls = await octokit.paginate(octokit.rest.pulls.list, { owner, repo, state: "open", base, per_page: 100 });
        return pulls.map((p) => ({
          number: p.number,
          url: p.html_url,
          branch: p.head.ref,
          headSha: p.head.sha,
          headRepository: p.head.repo?.full_name ?? null,
          labels: p.labels.map((l) => l.name),
          body: p.body,
        }));
      }),
    create: (c) =>
      call("opening a pull request", async () => {
        const r = await octokit.rest.pulls.create({ owner, repo, title: c.title, head: c.head, base: c.base, body: c.body, maintainer_can_modify: false });
        return { number: r.data.number, url: r.data.html_url };
      }),
    comment: (number, body) =>
      call(`commenting on #${number}`, async () => {
        await octokit.rest.issues.createComment({ owner, repo, issue_number: number, body });
      }),
    addLabels: (number, labels) =>
      call(`labelling #${number}`, async () => {
        await octokit.rest.issues.addLabels({ owner, repo, issue_number: number, labels });
      }),
    removeLabel: (number, label) =>
      call(`removing a label from #${number}`, async () => {
        await octokit.rest.issues.removeLabel({ owner, repo, issue_number: number, name: label });
      }),
    close: (number) =>
      call(`closing #${number}`, async () => {
        await octokit.rest.pulls.update({ owner, repo, pull_number: number, state: "closed" });
      }),
    setBody: (number, body) =>
      call(`updating the body of #${number}`, async () => {
        await octokit.rest.pulls.update({ owner, repo, pull_number: number, body });
      }),
    merge: (number, sha, commitTitle) =>
      call(`merging #${number}`, async () => {
        const r = await octokit.rest.pulls.merge({ owner, repo, pull_number: number, sha, commit_title: commitTitle });
        return { sha: r.data.sha };
      }),
    enableAutoMerge: (number, commitTitle) =>
      call(`enabling auto-merge on #${number}`, async () => {
        const pr = await octokit.rest.pulls.get({ owner, repo, pull_number: number });
        await octokit.graphql(ENABLE_AUTO_MERGE, { pullRequestId: pr.data.node_id, mergeMethod: "MERGE", commitHeadline: commitTitle });
      }),
  };
}

/** The contents-API calls, on a real client pointed at `baseUrl`. */
export function gitHubFiles(o: GitHubOptions): RepositoryFiles {
  const { octokit, owner, repo, call } = client(o);
  const absent = (e: unknown) => e instanceof GitHubError && e.status === 404;
  return {
    branchHead: (branch) =>
      call(`reading the branch ${branch}`, async () => (await octokit.rest.git.getRef({ owner, repo, ref: `heads/${branch}` })).data.object.sha).catch((e: unknown) => {
        if (absent(e)) return undefined;
        throw e;
      }),
    read: (path, ref) =>
      call(`reading ${path} at ${ref}`, async () => {
        const r = await octokit.rest.repos.getContent({ owner, repo, path, ref });
        const d = r.data;
        if (Array.isArray(d) || d.type !== "file" || !("content" in d) || d.encoding !== "base64") throw new GitHubError(`${path} at ${ref} is not a file`);
        return { text: Buffer.from(d.content, "base64").toString("utf8"), blob: d.sha };
      }).catch((e: unknown) => {
        if (absent(e)) return undefined;
        throw e;
      }),
    createBranch: (branch, sha) =>
      call(`creating the branch ${branch}`, async () => {
        await octokit.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha });
        return true;
      }).catch((e: unknown) => {
        // GitHub answers 422 "Reference already exists".
        if (e instanceof GitHubError && e.status === 422 && /already exists/i.test(e.message)) return false;
        throw e;
      }),
    write: (w) =>
      call(`committing ${w.path} on ${w.branch}`, async () => {
        const r = await octokit.rest.repos.createOrUpdateFileContents({ owner, repo, path: w.path, branch: w.branch, sha: w.blob, message: w.message, content: Buffer.from(w.text, "utf8").toString("base64") });
        return { commit: r.data.commit.sha ?? "" };
      }),
  };
}
