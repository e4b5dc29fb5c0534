/**
 * The few GitHub REST calls `rollout propose` makes, through GitHub's own client (@octokit/rest):
 * list the open pull requests into a base branch, open one, comment on it, add and remove a label,
 * close it. Nothing merges. The base URL is an option (GitHub Enterprise, or the tests' stand-in,
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
export class GitHubError extends NamedError {}

/** An open pull request, the fields `rollout propose` reads. */
export interface PullSummary {
  number: number;
  url: string;
  branch: string;
  headSha: string;
  /** owner/name of the head's repository (null: the fork was deleted). */
  headRepository: string | null;
  labels: string[];
}

export interface PullRequests {
  listOpen(base: string): Promise<PullSummary[]>;
  create(o: { title: string; head: string; base: string; body: string }): Promise<{ number: number; url: string }>;
  comment(number: number, body: string): Promise<void>;
  addLabels(number: number, labels: string[]): Promise<void>;
  removeLabel(number: number, label: string): Promise<void>;
  close(number: number): Promise<void>;
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

/** The pull-request calls, on a real client pointed at `baseUrl`. */
export function gitHubPullRequests(o: GitHubOptions): PullRequests {
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
      throw new GitHubError(clean(`GitHub: ${what} in ${o.repository} failed${err.status ? ` (HTTP ${err.status})` : ""}: ${err.message ?? String(e)}`));
    }
  };
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
  };
}
