/**
 * `rollout responder` (issue 25, part 2): the relay between Alertmanager and GitHub. An HTTP server
 * that takes Alertmanager's webhook (POST /alerts), decides per alert (core/responder.ts) and carries the
 * decision out through GitHub's API, with no clone:
 *
 * - an alert that calls for the guide's immediate rollback: unless the alert's pull request is open
 *   already (dedupe by fingerprint and stack, core/responder.ts alertsOf), or another alert's is (then it
 *   joins that one: a comment with its evidence, its marker in the body), read the stack file on
 *   the base branch, make the edit `rollout rollback --immediate` makes (stack/stackEdit.ts, the same
 *   plan and checks), create the branch, commit the file with the alert, its value and the runbook link
 *   as evidence (contents API), open the pull request; for SessionIsolationFailure, merge it at once when
 *   the base's stack file sets rollback.autoMergeOnContamination;
 * - a resolved alert: a comment on its open pull request, never a close;
 * - anything else: a log line.
 *
 * Security: every request must carry `Authorization: Bearer <token>` (compared in constant time); any other
 * gets 401 and an empty body. The bearer token and the GitHub token are read from files (Docker secrets,
 * mode 0400), never from the environment; every log line passes through core/redact.ts with both as
 * known secrets. Webhooks are handled one at a time, so two notifications of one alert open one pull
 * request; a restart finds the open pull request by its branch.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { redact } from "../core/redact";
import {
  AlertAction,
  RESPONDER_LABEL,
  WebhookPayloadError,
  alertsOf,
  decideWebhook,
  joinedComment,
  parseWebhook,
  relayBranchFingerprint,
  rollbackMarker,
  resolvedComment,
  rollbackBody,
  rollbackCommitMessage,
  rollbackTitle,
} from "../core/responder";
import { ALERT_NAMES } from "../core/alerts/rules";
import { RefusedError } from "../core/transitions";
import { NamedError } from "../core/namedError";
import { shown } from "../core/yamlSubset";
import { planStackEdit, rollbackPlan } from "../stack/stackEdit";
import { parseStackFile } from "../stack/stackFile";
import { GitHubError, PullRequests, PullSummary, RepositoryFiles } from "../ci/github";

/** A secret file the relay will not read (missing, empty, or readable by others). */
export class SecretFileError extends NamedError {}

/** The path the relay posts to (Alertmanager's webhook_config url ends with it). */
export const WEBHOOK_PATH = "/alerts";
/** The largest webhook body accepted (Alertmanager's groups are small; max_alerts bounds them too). */
export const MAX_BODY_BYTES = 1 << 20;

/**
 * A secret from a file: its text without the trailing newline. The file must be a regular file that only
 * its owner may read (0400 or 0600, as Docker secrets are mounted with the service's file mode).
 */
export function readSecretFile(file: string, what: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new SecretFileError(`${what}: ${file} does not exist (a Docker secret's path, or a file of mode 0400)`);
  }
  if (!st.isFile()) throw new SecretFileError(`${what}: ${file} is not a regular file`);
  if ((st.mode & 0o077) !== 0) throw new SecretFileError(`${what}: ${file} has mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}; allowed: readable by its owner only (0400 or 0600)`);
  const text = fs.readFileSync(file, "utf8").replace(/\r?\n$/, "");
  if (text.trim() === "" || /[\r\n]/.test(text)) throw new SecretFileError(`${what}: ${file} must hold one line, the token`);
  return text;
}

/** The bearer check, in constant time (both sides hashed to the same length first). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer ([^\s]+)$/i.exec(header ?? "");
  const given = crypto.createHash("sha256").update(m ? m[1] : "").digest();
  const want = crypto.createHash("sha256").update(token).digest();
  return crypto.timingSafeEqual(given, want) && m !== null;
}

export interface ResponderOptions {
  stack: string;
  /** owner/name, for the log. */
  repository: string;
  /** The branch the stack files are deployed from. */
  base: string;
  /** The stack file's path in the repository (Pulumi.<stack>.yaml). */
  stackPath: string;
  /** A link to the alerts' runbook, for the evidence (docs/alerts.md on GitHub). */
  runbookUrl: string;
  bearerToken: string;
  /** Every secret the log must never show (the bearer and GitHub tokens). */
  secrets: readonly string[];
  log: (line: string) => void;
}

/** What the relay did for one alert. */
export interface ResponderDone {
  fingerprint: string;
  alertname: string;
  action: AlertAction["kind"] | "exists" | "joined" | "already-rolled-back" | "refused";
  number: number | null;
  merged: boolean;
  detail: string;
}

/** Carry out one webhook's actions (the decision is core/responder.ts's). */
export async function handleWebhook(o: ResponderOptions, payload: unknown, github: PullRequests, files: RepositoryFiles): Promise<ResponderDone[]> {
  const actions = decideWebhook(o.stack, parseWebhook(payload));
  const done: ResponderDone[] = [];
  let open: PullSummary[] | undefined;
  // The stack's open relay pull requests from this repository, never a fork's (listed once per webhook, kept up to date below).
  const relayPulls = async () =>
    (open ??= (await github.listOpen(o.base)).filter((p) => p.headRepository === o.repository && relayBranchFingerprint(o.stack, p.branch) !== undefined));
  const pullOf = async (fingerprint: string) => (await relayPulls()).find((p) => alertsOf(o.stack, p).includes(fingerprint));
  for (const act of actions) {
    const e = act.evidence;
    const base = { fingerprint: e.fingerprint, alertname: e.alertname, number: null, merged: false };
    switch (act.kind) {
      case "ignore":
      case "page-only":
        done.push({ ...base, action: act.kind, detail: act.why });
        break;
      case "resolved": {
        const pr = await pullOf(e.fingerprint);
        if (pr === undefined) {
          done.push({ ...base, action: "resolved", detail: "resolved; no open pull request of this alert to comment on" });
          break;
        }
        await github.comment(pr.number, resolvedComment(e, new Date().toISOString()));
        done.push({ ...base, action: "resolved", number: pr.number, detail: `resolved: commented on #${pr.number}, left open` });
        break;
      }
      case "rollback": {
        const existing = await pullOf(e.fingerprint);
        if (existing) {
          done.push({ ...base, action: "exists", number: existing.number, detail: `#${existing.number} (${existing.branch}) is open for this alert already` });
          break;
        }
        const head = await files.branchHead(o.base);
        if (head === undefined) throw new GitHubError(`the base branch ${o.base} does not exist`);
        const file = await files.read(o.stackPath, head);
        if (file === undefined) throw new GitHubError(`${o.stackPath} is not on ${o.base}`);
        let edit: ReturnType<typeof planStackEdit>;
        try {
          edit = planStackEdit(parseStackFile(o.stack, o.stackPath, file.text), rollbackPlan(true));
        } catch (err) {
          if (!(err instanceof RefusedError)) throw err;
          done.push({ ...base, action: "already-rolled-back", detail: `${o.base} at ${head.slice(0, 12)}: ${err.message}` });
          break;
        }
        const { after, plan, cfg } = edit;
        const autoMerge = e.alertname === ALERT_NAMES.sessionIsolationFailure && cfg.rollback.autoMergeOnContamination;
        // Another alert's rollback pull request is open: the same edit; this alert joins it (unless it merges its own at once).
        const joinable = autoMerge ? undefined : (await relayPulls())[0];
        if (joinable) {
          await github.comment(joinable.number, joinedComment(e, o.runbookUrl));
          joinable.body = `${joinable.body ?? ""}\n${rollbackMarker(o.stack, e.fingerprint)}\n`;
          await github.setBody(joinable.number, joinable.body);
          done.push({ ...base, action: "joined", number: joinable.number, detail: `#${joinable.number} (${joinable.branch}) is open for the same rollback: commented with this alert, no second pull request` });
          break;
        }
        const message = rollbackCommitMessage(o.stack, plan.summary, e, o.runbookUrl);
        if (await files.createBranch(act.branch, head)) {
          await files.write({ path: o.stackPath, branch: act.branch, blob: file.blob, text: after, message });
        } else {
          // Left by a run that stopped before its pull request: used only if it holds exactly this edit.
          const there = await files.read(o.stackPath, act.branch);
          if (there?.text !== after) {
            done.push({ ...base, action: "refused", detail: `the branch ${act.branch} exists without a pull request and with another ${o.stackPath}; nothing opened (delete the branch, or open its pull request)` });
            break;
          }
        }
        const title = rollbackTitle(o.stack, plan.summary, e);
        const body = rollbackBody({ stack: o.stack, summary: plan.summary, evidence: e, runbookUrl: o.runbookUrl, autoMerge });
        const pr = await github.create({ title, head: act.branch, base: o.base, body });
        await github.addLabels(pr.number, [RESPONDER_LABEL]);
        let merged = false;
        let mergeNote = "";
        if (autoMerge) {
          const headNow = await files.branchHead(act.branch);
          if (headNow !== undefined) {
            try {
              await github.merge(pr.number, headNow, title);
              merged = true;
              mergeNote = ", merged at once (rollback.autoMergeOnContamination)";
            } catch (err) {
              // 405: the branch protection's required checks have not passed yet (docs/ci.md, "Branch protection
              // this needs"). GitHub's auto-merge then merges once they pass; the pull request is open meanwhile.
              if (!(err instanceof GitHubError) || err.status !== 405) throw err;
              try {
                await github.enableAutoMerge(pr.number, title);
                mergeNote = `; GitHub refused to merge it yet (${err.message}): auto-merge is on, it merges once the required checks pass`;
              } catch (e2) {
                if (!(e2 instanceof GitHubError)) throw e2;
                mergeNote = `; GitHub refused to merge it yet (${err.message}) and to turn on auto-merge (${e2.message}): a person merges it`;
              }
            }
          }
        }
        if (!merged) open?.push({ number: pr.number, url: pr.url, branch: act.branch, headSha: "", headRepository: o.repository, labels: [RESPONDER_LABEL], body });
        done.push({ ...base, action: "rollback", number: pr.number, merged, detail: `opened #${pr.number} from ${act.branch}${mergeNote}` });
        break;
      }
    }
  }
  return done;
}

/** One line per alert for the log: untrusted names quoted and escaped. */
export function formatDone(d: ResponderDone): string {
  return `responder: ${d.fingerprint} ${shown(d.alertname)}: ${d.action}${d.number === null ? "" : ` #${d.number}`}: ${d.detail}`;
}

export interface Responder {
  url: string;
  close(): Promise<void>;
}

/** Start the relay on host:port (port 0: any free one). */
export async function startResponder(o: ResponderOptions & { host: string; port: number }, github: PullRequests, files: RepositoryFiles): Promise<Responder> {
  const log = (line: string) => o.log(redact(line, o.secrets));
  // One webhook at a time: a second notification of an alert sees the pull request the first opened.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const send = (res: http.ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, body === undefined ? headers : { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://relay");
    if (req.method === "GET" && url.pathname === "/healthz") return send(res, 200, { ok: true });
    if (!bearerMatches(req.headers.authorization, o.bearerToken)) {
      req.resume();
      log(`responder: refused a ${shown(req.method ?? "")} request without the bearer token (401)`);
      return send(res, 401, undefined, { "www-authenticate": "Bearer" });
    }
    if (req.method !== "POST" || url.pathname !== WEBHOOK_PATH) {
      req.resume();
      return send(res, 404, { error: `POST ${WEBHOOK_PATH} only` });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (d: Buffer) => {
      size += d.length;
      if (size <= MAX_BODY_BYTES) chunks.push(d);
    });
    req.on("end", () => {
      if (size > MAX_BODY_BYTES) return send(res, 413, { error: `the body is larger than ${MAX_BODY_BYTES} bytes` });
      let payload: unknown;
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return send(res, 400, { error: "the body is not JSON" });
      }
      serial(() => handleWebhook(o, payload, github, files)).then(
        (done) => {
          for (const d of done) log(formatDone(d));
          send(res, 200, { done });
        },
        (err: unknown) => {
          const message = redact(err instanceof Error ? err.message : String(err), o.secrets);
          if (err instanceof WebhookPayloadError) {
            log(`responder: refused a webhook (400): ${message}`);
            return send(res, 400, { error: message });
          }
          // 5xx: Alertmanager retries the notification.
          log(`responder: failed (500, Alertmanager retries): ${message}`);
          send(res, 500, { error: message });
        },
      );
    });
  });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, resolve);
  });
  const addr = server.address() as AddressInfo;
  log(`responder: stack ${o.stack}, ${o.repository} (${o.base}), listening on ${addr.address}:${addr.port}${WEBHOOK_PATH}`);
  return {
    url: `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
