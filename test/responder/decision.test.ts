/**
 * core/responder.ts: the relay's decision for every alert of the rollout's rules, at both severities,
 * on every version label (New, Legacy, none, another), firing and resolved; the webhook's validation;
 * and that no label value reaches a branch name, or starts a line of its own in a commit message.
 */
import { strict as assert } from "node:assert";
import { ALERT_NAMES } from "../../core/alerts/rules";
import {
  WebhookPayloadError,
  alertRollbackBranch,
  alertsOf,
  decideAlert,
  decideWebhook,
  relayBranchFingerprint,
  rollbackMarker,
  parseWebhook,
  rollbackBody,
  rollbackCommitMessage,
} from "../../core/responder";

import { FP, STACK, webhook, webhookAlert } from "./support";

/** The expected kind, from the table (written out, not computed from the code's tables). */
function expected(alertname: string, severity: string, version: string | undefined, status: "firing" | "resolved"): string {
  if (severity !== "critical") return "ignore";
  const rollback = alertname === "SessionIsolationFailure" || ((alertname === "HighErrorRate" || alertname === "HighLatency") && version === "New");
  if (rollback) return status === "firing" ? "rollback" : "resolved";
  const pages = alertname === "ContaminationUnmonitored" || alertname === "HighErrorRate" || alertname === "HighLatency";
  if (pages) return status === "firing" ? "page-only" : "ignore";
  return "ignore";
}

describe("responder: the decision per alert (core/responder.ts)", () => {
  const names = [...Object.values(ALERT_NAMES), "SomethingElse"];
  for (const alertname of names) {
    for (const severity of ["critical", "warning", "info"]) {
      for (const version of ["New", "Legacy", undefined, "new"]) {
        for (const status of ["firing", "resolved"] as const) {
          const want = expected(alertname, severity, version, status);
          it(`${alertname} ${severity} version=${version ?? "(none)"} ${status} -> ${want}`, () => {
            const a = decideAlert(STACK, webhookAlert({ alertname, severity, version, status }));
            assert.equal(a.kind, want);
            if (a.kind === "rollback") assert.equal(a.branch, `rollback/prod-immediate-${FP}-20261207T230102Z`);
          });
        }
      }
    }
  }

  it("an alert of another stack, or without the stack label, is ignored: no label steers the relay to another stack", () => {
    for (const stack of ["staging", "", "prod\n", "../prod"]) {
      const a = decideAlert(STACK, webhookAlert({ alertname: "SessionIsolationFailure", severity: "critical", stack }));
      assert.equal(a.kind, "ignore", stack);
    }
    const noLabel = webhookAlert({ alertname: "SessionIsolationFailure", severity: "critical" });
    delete noLabel.labels.stack;
    assert.equal(decideAlert(STACK, noLabel).kind, "ignore");
  });

  it("one action per fingerprint in a webhook; different fingerprints, one each", () => {
    const p = parseWebhook(webhook([
      webhookAlert({ alertname: "SessionIsolationFailure", severity: "critical" }),
      webhookAlert({ alertname: "SessionIsolationFailure", severity: "critical" }),
      webhookAlert({ alertname: "HighErrorRate", severity: "critical", version: "New", fingerprint: "fedcba9876543210" }),
    ]));
    assert.deepEqual(decideWebhook(STACK, p).map((a) => a.kind), ["rollback", "rollback"]);
  });

  it("refuses what is not a version-4 webhook, naming the key, the value and what is allowed", () => {
    const bad = (body: unknown, re: RegExp) => assert.throws(() => parseWebhook(body), (e: unknown) => e instanceof WebhookPayloadError && re.test(e.message));
    bad({ ...(webhook([]) as object), version: "3" }, /version: got "3"/);
    bad(webhook([{ ...webhookAlert({ alertname: "x" }), fingerprint: "../../etc" }]), /alerts\[0\]\.fingerprint: got "\.\.\/\.\.\/etc"; 16 lower-case hex digits/);
    bad(webhook([{ ...webhookAlert({ alertname: "x" }), startsAt: "yesterday" }]), /alerts\[0\]\.startsAt: got "yesterday"; an RFC 3339 time/);
    bad(webhook([{ ...webhookAlert({ alertname: "x" }), status: "pending" }]), /alerts\[0\]\.status/);
    bad({ version: "4" }, /alerts: missing/);
    bad("not an object", /\(the body\)/);
    bad(webhook([{ ...webhookAlert({ alertname: "x" }), labels: { alertname: 3 } }]), /alerts\[0\]\.labels\.alertname: got 3/);
  });

  it("hostile label and annotation values: the branch is the stack and hex digits only; each value stays on one line of the commit message", () => {
    const hostile = ["line\nCo-authored-by: evil <e@x>", "../../../../etc/passwd", "`rm -rf /` **bold** [x](http://evil)", "```\n# heading", "a\r\nb\u0000c\u202ed"];
    for (const h of hostile) {
      const a = decideAlert(STACK, { ...webhookAlert({ alertname: "SessionIsolationFailure", severity: "critical", version: h, summary: h }), annotations: { summary: h, description: h, runbook: h } });
      assert.equal(a.kind, "rollback");
      if (a.kind !== "rollback") continue;
      assert.match(a.branch, /^rollback\/prod-immediate-[0-9a-f]{16}-\d{8}T\d{6}Z$/);
      const msg = rollbackCommitMessage(STACK, "immediate rollback: both flags off (percentage stays 10)", a.evidence, "https://github.com/o/r/blob/main/docs/alerts.md");
      const lines = msg.split("\n");
      // Subject, blank, one sentence, blank, three evidence lines, the final newline: nothing else.
      assert.equal(lines.length, 8, msg);
      assert.ok(!lines.some((l) => /^Co-authored-by:/.test(l)), msg);
      const body = rollbackBody({ stack: STACK, summary: "s", evidence: a.evidence, runbookUrl: "u", autoMerge: false });
      // Every untrusted value is inside a fenced block that it cannot close.
      const fences = body.split("\n").filter((l) => l.startsWith("```"));
      assert.equal(fences.length, 4, body);
    }
  });

  it("alertsOf: a relay branch's own fingerprint and those whose markers its body holds; nothing for any other branch", () => {
    const branch = alertRollbackBranch(STACK, FP, "2026-12-07T23:01:02Z");
    assert.equal(relayBranchFingerprint(STACK, branch), FP);
    const other = "fedcba9876543210";
    assert.deepEqual(alertsOf(STACK, { branch, body: `text\n${rollbackMarker(STACK, other)}\n${rollbackMarker("staging", "1111111111111111")}` }), [FP, other]);
    assert.deepEqual(alertsOf(STACK, { branch, body: null }), [FP]);
    for (const b of [`rollback/prod-immediate-${FP}`, `rollback/prod-immediate-${FP}-x`, "rollback/prod-immediate", `rollback/staging-immediate-${FP}-20261207T230102Z`, `rollback/prod-immediate-${FP.toUpperCase()}-20261207T230102Z`]) {
      assert.equal(relayBranchFingerprint(STACK, b), undefined, b);
      assert.deepEqual(alertsOf(STACK, { branch: b, body: rollbackMarker(STACK, FP) }), [], b);
    }
    assert.throws(() => alertRollbackBranch(STACK, "ABC", "2026-12-07T23:01:02Z"), WebhookPayloadError);
  });
});
