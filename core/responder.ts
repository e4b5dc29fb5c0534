/**
 * `rollout responder` (issue 25, part 2): what the relay does with one Alertmanager webhook, decided
 * per alert, and the texts it writes (branch, commit message, pull request, comments). Pure: the relay
 * (cli/responder.ts) reads the request, GitHub and the stack file, and carries the actions out.
 *
 * The table (ALERT_NAMES, core/alerts/rules.ts):
 *
 * | alert                                 | severity | version label | firing                  | resolved            |
 * |---------------------------------------|----------|---------------|-------------------------|---------------------|
 * | SessionIsolationFailure               | critical | (none)        | immediate-rollback PR   | comment on that PR  |
 * | HighErrorRate, HighLatency            | critical | New           | immediate-rollback PR   | comment on that PR  |
 * | HighErrorRate, HighLatency            | critical | Legacy, other | no PR: the page only    | nothing             |
 * | ContaminationUnmonitored              | critical | (none)        | no PR: the page only    | nothing             |
 * | any                                   | warning  | any           | nothing                 | nothing             |
 * | not one of the rollout's alerts       | any      | any           | nothing                 | nothing             |
 *
 * Which stack: the relay's own (its --stack; one relay per stack, as one Alertmanager per stack). Every
 * alert carries the `stack` external label (core/alerts/prometheusConfig.ts); an alert whose label is
 * missing or names another stack is refused, so no label can steer the relay to another stack's file.
 *
 * Deduplication: by the alert's fingerprint and the stack. An open relay pull request of the stack stands for
 * the alert its branch names (`rollback/<stack>-immediate-<fingerprint>-<start>`) and for each alert that joined
 * it (a marker in its body, rollbackMarker): a repeated notification, or one after a restart, finds it and opens
 * nothing new; another alert calling for the same rollback joins the open one (a comment with its evidence)
 * instead of opening a second pull request with the same edit (alertsOf). A resolved alert comments on its
 * pull request and never closes it: the rollback is reviewed and merged (or
 * closed) by a person. Label and annotation values are untrusted text: only the fingerprint (16 hex
 * digits, checked) reaches the branch name; in the commit message every value is one quoted line
 * (core/yamlSubset.ts shown), and in the pull request it is inside a fenced block.
 */
import { z } from "zod";
import { ALERT_NAMES, type AlertName } from "./alerts/rules";
import { VERSION_LABEL } from "./alerts/exporterQueries";
import { NamedError } from "./namedError";
import { fenced } from "./proposal";
import { changeBranch, changeSubject } from "./workflow";
import { shown } from "./yamlSubset";

/** A webhook body the relay refuses (HTTP 400): the message names each bad key, the value and what is allowed. */
export class WebhookPayloadError extends NamedError {}

/** Alertmanager's webhook payload version (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export const WEBHOOK_VERSION = "4";

/** An alert's fingerprint as Alertmanager writes it: 16 lower-case hex digits (Go's %016x). */
export const FINGERPRINT_RE = /^[0-9a-f]{16}$/;

const labelMap = z.record(z.string(), z.string());
const alertSchema = z.object({
  status: z.enum(["firing", "resolved"]),
  labels: labelMap,
  annotations: labelMap.default({}),
  startsAt: z.string().refine((v) => !Number.isNaN(Date.parse(v)), "an RFC 3339 time"),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().regex(FINGERPRINT_RE, "16 lower-case hex digits"),
});
const payloadSchema = z.object({
  version: z.literal(WEBHOOK_VERSION),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().min(0).optional(),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string(),
  groupLabels: labelMap.default({}),
  commonLabels: labelMap.default({}),
  commonAnnotations: labelMap.default({}),
  externalURL: z.string().optional(),
  alerts: z.array(alertSchema),
});

export type WebhookPayload = z.output<typeof payloadSchema>;
export type WebhookAlert = WebhookPayload["alerts"][number];

/** A short, one-line, escaped rendering of an untrusted value for an error or a log line. */
function brief(v: unknown): string {
  const cut = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}…` : s);
  return typeof v === "string" ? shown(cut(v)) : cut(JSON.stringify(v) ?? String(v));
}

/** Validate a parsed JSON body as an Alertmanager webhook (version 4); WebhookPayloadError names every problem. */
export function parseWebhook(body: unknown): WebhookPayload {
  const r = payloadSchema.safeParse(body);
  if (r.success) return r.data;
  const at = (path: readonly PropertyKey[]) => {
    let v: unknown = body;
    for (const k of path) v = typeof v === "object" && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined;
    return v;
  };
  const lines = r.error.issues.slice(0, 10).map((i) => {
    const key = i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") || "(the body)";
    const v = at(i.path);
    return `${key}: ${v === undefined ? "missing" : `got ${brief(v)}`}; ${i.message}`;
  });
  throw new WebhookPayloadError(`not an Alertmanager webhook (version ${WEBHOOK_VERSION}): ${lines.join("; ")}`);
}

/** The alerts that may open an immediate-rollback pull request, and on which version. */
const ROLLBACK_ALERTS: ReadonlyMap<AlertName, "any" | "New"> = new Map<AlertName, "any" | "New">([
  [ALERT_NAMES.sessionIsolationFailure, "any"],
  [ALERT_NAMES.highErrorRate, "New"],
  [ALERT_NAMES.highLatency, "New"],
]);
/** Critical alerts that only page (Alertmanager's other receivers do that): no pull request. */
const PAGE_ONLY: ReadonlySet<AlertName> = new Set<AlertName>([ALERT_NAMES.contaminationUnmonitored]);

/** The stack label every alert carries (Prometheus's external label). */
export const STACK_LABEL = "stack";

/** What the relay shows of an alert: its name, labels and the annotations that carry the value and the runbook. */
export interface AlertEvidence {
  alertname: string;
  fingerprint: string;
  severity: string;
  version: string | null;
  startsAt: string;
  /** The summary annotation: the alert's value in words ("… 7.12% > 5%"). */
  summary: string;
  description: string;
  runbook: string;
  generatorURL: string | null;
}

export type AlertAction =
  /** Open an immediate-rollback pull request from `branch` (unless one is open already). */
  | { kind: "rollback"; branch: string; evidence: AlertEvidence }
  /** Comment on the alert's open pull request (alertsOf), if any: the alert resolved. Never close it. */
  | { kind: "resolved"; evidence: AlertEvidence }
  /** No pull request: Alertmanager's page is the action (`why` says so). */
  | { kind: "page-only"; evidence: AlertEvidence; why: string }
  /** Nothing (`why` says why). */
  | { kind: "ignore"; evidence: AlertEvidence; why: string };

function evidenceOf(a: WebhookAlert): AlertEvidence {
  return {
    alertname: a.labels.alertname ?? "",
    fingerprint: a.fingerprint,
    severity: a.labels.severity ?? "",
    version: a.labels[VERSION_LABEL] ?? null,
    startsAt: a.startsAt,
    summary: a.annotations.summary ?? "",
    description: a.annotations.description ?? "",
    runbook: a.annotations.runbook ?? "",
    generatorURL: a.generatorURL ?? null,
  };
}

/** The first part of every relay branch of `stack`: `rollback/<stack>-immediate-`. */
function relayBranchPrefix(stack: string): string {
  return `${changeBranch(stack, { kind: "immediate-rollback" })}-`;
}

/**
 * The branch of a new rollback pull request: `rollback/<stack>-immediate-<fingerprint>-<start>`, the start of the
 * firing in digits, T and Z only, so the same alert firing again after its rollback was merged, and the flags
 * turned on again, gets a branch of its own.
 */
export function alertRollbackBranch(stack: string, fingerprint: string, startsAt: string): string {
  if (!FINGERPRINT_RE.test(fingerprint)) throw new WebhookPayloadError(`fingerprint ${brief(fingerprint)} is not 16 lower-case hex digits`);
  const t = new Date(startsAt);
  if (Number.isNaN(t.getTime())) throw new WebhookPayloadError(`startsAt ${brief(startsAt)} is not an RFC 3339 time`);
  return changeBranch(stack, { kind: "immediate-rollback", alert: `${fingerprint}-${t.toISOString().replace(/[-:]|\.\d+/g, "")}` });
}

/** The fingerprint a relay branch of `stack` was opened for, or undefined when `branch` is not one. */
export function relayBranchFingerprint(stack: string, branch: string): string | undefined {
  const prefix = relayBranchPrefix(stack);
  if (!branch.startsWith(prefix)) return undefined;
  const m = /^([0-9a-f]{16})-\d{8}T\d{6}Z$/.exec(branch.slice(prefix.length));
  return m ? m[1] : undefined;
}

/** An open pull request as the relay reads it. */
export interface RelayPull {
  branch: string;
  body: string | null;
}

/**
 * The alerts (fingerprints) an open relay pull request of `stack` stands for: the one its branch was opened for,
 * and each that joined it since (its marker in the body, rollbackMarker). Empty for any other pull request.
 */
export function alertsOf(stack: string, p: RelayPull): string[] {
  const own = relayBranchFingerprint(stack, p.branch);
  if (own === undefined) return [];
  const marker = new RegExp(`<!-- rollout-responder stack=${stack.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} fingerprint=([0-9a-f]{16}) -->`, "g");
  return [...new Set([own, ...[...(p.body ?? "").matchAll(marker)].map((m) => m[1])])];
}

/** The action for one alert, for the relay of `stack`. */
export function decideAlert(stack: string, a: WebhookAlert): AlertAction {
  const evidence = evidenceOf(a);
  const label = a.labels[STACK_LABEL];
  if (label !== stack) {
    return { kind: "ignore", evidence, why: `its ${STACK_LABEL} label is ${label === undefined ? "missing" : brief(label)}; this relay acts for stack "${stack}" only` };
  }
  const name = evidence.alertname as AlertName;
  if (!Object.values(ALERT_NAMES).includes(name)) return { kind: "ignore", evidence, why: `${brief(evidence.alertname)} is not one of the rollout's alerts` };
  if (evidence.severity !== "critical") return { kind: "ignore", evidence, why: `severity ${brief(evidence.severity)}: only critical alerts act` };
  if (PAGE_ONLY.has(name)) {
    return a.status === "firing"
      ? { kind: "page-only", evidence, why: "the monitoring is blind, not the new path at fault: Alertmanager pages; no pull request" }
      : { kind: "ignore", evidence, why: "resolved, and it opened no pull request" };
  }
  const on = ROLLBACK_ALERTS.get(name);
  if (on === undefined) return { kind: "ignore", evidence, why: `${name} opens no pull request` };
  if (on === "New" && evidence.version !== "New") {
    return a.status === "firing"
      ? { kind: "page-only", evidence, why: `on the ${evidence.version === null ? "unlabelled" : brief(evidence.version)} version, not the new path: Alertmanager pages; no pull request` }
      : { kind: "ignore", evidence, why: "resolved, and it opened no pull request" };
  }
  return a.status === "firing" ? { kind: "rollback", branch: alertRollbackBranch(stack, a.fingerprint, a.startsAt), evidence } : { kind: "resolved", evidence };
}

/** The actions for a whole webhook, one per alert fingerprint (the first of a repeated one). */
export function decideWebhook(stack: string, p: WebhookPayload): AlertAction[] {
  const seen = new Set<string>();
  const out: AlertAction[] = [];
  for (const a of p.alerts) {
    if (seen.has(a.fingerprint)) continue;
    seen.add(a.fingerprint);
    out.push(decideAlert(stack, a));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Texts

/** The hidden marker, in a rollback pull request's body, of each alert it stands for (alertsOf reads them). */
export function rollbackMarker(stack: string, fingerprint: string): string {
  return `<!-- rollout-responder stack=${stack} fingerprint=${fingerprint} -->`;
}

/** The label on every pull request the relay opens. */
export const RESPONDER_LABEL = "rollout-responder";

/** The evidence as one quoted line per value: nothing in a label can start a line of its own or a trailer. */
function evidenceLines(e: AlertEvidence, runbookUrl: string): string[] {
  return [
    `Alert: ${shown(e.alertname)} (severity ${shown(e.severity)}${e.version === null ? "" : `, version ${shown(e.version)}`}), firing since ${shown(e.startsAt)}, fingerprint ${e.fingerprint}`,
    `Value: ${shown(e.summary)}`,
    `Runbook: ${runbookUrl}`,
  ];
}

/** The commit message: the rollback's usual subject, then the alert, its value and the runbook link. */
export function rollbackCommitMessage(stack: string, summary: string, e: AlertEvidence, runbookUrl: string): string {
  return `${changeSubject(stack, summary)}\n\nOpened by rollout responder for a critical alert.\n\n${evidenceLines(e, runbookUrl).join("\n")}\n`;
}

/** The pull request's title. */
export function rollbackTitle(stack: string, summary: string, e: AlertEvidence): string {
  return `${changeSubject(stack, summary)} [${e.alertname.replace(/[^A-Za-z0-9]/g, "").slice(0, 40)}]`;
}

/** The pull request's body: what it is, whether it merges by itself, the alert as evidence. */
export function rollbackBody(o: { stack: string; summary: string; evidence: AlertEvidence; runbookUrl: string; autoMerge: boolean }): string {
  const e = o.evidence;
  return [
    `**Opened by \`rollout responder\`** for a critical alert on stack \`${o.stack}\`: ${o.summary}, the edit \`rollout rollback --immediate\` makes.`,
    o.autoMerge
      ? `The stack sets \`rollback.autoMergeOnContamination\`: the relay merges this pull request at once, and the merge runs \`pulumi up\`.`
      : "A person reviews and merges it; the merge runs `pulumi up`. The relay never closes it: when the alert resolves it comments here.",
    "",
    "### The alert",
    "",
    fenced(evidenceLines(e, o.runbookUrl).join("\n")),
    "",
    "### Its description and runbook (the alert's annotations)",
    "",
    fenced([e.description, "", e.runbook, ...(e.generatorURL ? ["", `Prometheus: ${e.generatorURL}`] : [])].join("\n")),
    "",
    `Runbook: ${o.runbookUrl}`,
    "",
    rollbackMarker(o.stack, e.fingerprint),
    "",
  ].join("\n");
}

/** The comment when another alert calls for the same rollback while this pull request is open. */
export function joinedComment(e: AlertEvidence, runbookUrl: string): string {
  return `Another critical alert calls for this same rollback; this pull request stands for it too (no second pull request).\n\n${fenced(evidenceLines(e, runbookUrl).join("\n"))}\n`;
}

/** The comment when the alert resolves: the pull request stays open for a person to decide. */
export function resolvedComment(e: AlertEvidence, at: string): string {
  return `The alert resolved (Alertmanager, ${shown(at)}). This pull request stays open: merge it, or close it if the cause is understood and the rollback is not wanted.\n\n${fenced(`Alert: ${shown(e.alertname)}, fingerprint ${e.fingerprint}\nValue when it fired: ${shown(e.summary)}`)}\n`;
}
