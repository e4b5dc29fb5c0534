/**
 * core/proposal.ts, the decision of `rollout propose` (issue 25 part 1), on its own: which verdict
 * opens a proposal (PROCEED only: a PAUSE, which a hold will also produce, proposes nothing), what
 * an open proposal gets on PAUSE and ROLLBACK (one comment and a label, once), when it is stale and
 * closed, whose pull requests the tool leaves alone, and the texts (the body carries the gate's text
 * and the RUNBOOK's reviewer list from its one source).
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { OpenPull, PROPOSAL_LABEL, ProposeInput, VERDICT_LABELS, decidePropose, proposalBody, proposalCommitMessage, staleReason } from "../../core/proposal";
import { reviewerChecksMarkdown } from "../../core/reviewerChecks";
import { CHECKS_BEGIN, CHECKS_END } from "../../tools/runbook";
import type { Verdict } from "../../core/gate";
import { advanceBranchStage, changeBranch } from "../../core/workflow";

const at10 = { canaryPercentage: 10, enableStatelessOrchestration: true, enableSafeJsonParser: true } as const;
const GATE_TEXT = "verdict: PROCEED (exit 0)\n  - every success criterion met after 48.0 h of 48 h soak\n";

function input(verdict: Verdict, open: OpenPull[] = [], over: Partial<ProposeInput> = {}): ProposeInput {
  return { stack: "prod", verdict, gateText: GATE_TEXT, asOf: new Date("2026-12-07T12:00:00Z"), configured: at10, deployed: at10, deployedFromRecords: true, open, ...over };
}
const mine = (over: Partial<OpenPull> = {}): OpenPull => ({ number: 7, branch: "rollout/prod-25", sameRepository: true, labels: [PROPOSAL_LABEL], stackFileUnchangedOnMain: true, ...over });

describe("rollout propose: the decision (core/proposal.ts)", () => {
  it("PROCEED and nothing open: one proposal, rollout/prod-<next> (the branch advance names)", () => {
    const d = decidePropose(input("PROCEED"));
    assert.deepEqual(d.actions, [{ kind: "open", branch: changeBranch("prod", { kind: "advance", to: 25 }), from: 10, to: 25 }]);
    assert.equal(d.actions[0].kind === "open" && d.actions[0].branch, "rollout/prod-25");
  });

  for (const v of ["WAIT", "PAUSE", "ROLLBACK"] as const) {
    it(`${v} and nothing open: nothing is proposed${v === "PAUSE" ? " (a hold makes the gate say PAUSE, so a hold proposes nothing)" : ""}`, () => {
      const d = decidePropose(input(v));
      assert.deepEqual(d.actions, []);
      assert.deepEqual(d.notes, [`the gate says ${v}: nothing to propose`]);
    });
  }

  it("flags off at 0 %: the next stage is 10 % (both flags on), as advance computes it", () => {
    const off = { canaryPercentage: 0, enableStatelessOrchestration: false, enableSafeJsonParser: false } as const;
    const d = decidePropose(input("PROCEED", [], { configured: off, deployed: off }));
    assert.deepEqual(d.actions, [{ kind: "open", branch: "rollout/prod-10", from: 0, to: 10 }]);
  });

  it("at 100 %: nothing to propose (part 4's last steps are people's)", () => {
    const full = { ...at10, canaryPercentage: 100 } as const;
    assert.deepEqual(decidePropose(input("PROCEED", [], { configured: full, deployed: full })).actions, []);
  });

  it("main's stack file not applied yet (records say another stage): nothing, with the reason", () => {
    const d = decidePropose(input("PROCEED", [], { configured: { ...at10, canaryPercentage: 25 } }));
    assert.deepEqual(d.actions, []);
    assert.match(d.notes.join("\n"), /main configures 25% .* but 10% .* is deployed/);
  });

  it("an open proposal of its own, current: PROCEED changes nothing (idempotent)", () => {
    const d = decidePropose(input("PROCEED", [mine()]));
    assert.deepEqual(d.actions, []);
    assert.match(d.notes[0], /#7 .* is open and current/);
  });

  for (const v of ["PAUSE", "ROLLBACK"] as const) {
    it(`${v} on an open proposal: one comment with the gate's text and the ${VERDICT_LABELS[v]} label; with the label on, nothing more`, () => {
      const d = decidePropose(input(v, [mine()], { gateText: `verdict: ${v}\n` }));
      assert.equal(d.actions.length, 1);
      const a = d.actions[0];
      assert.ok(a.kind === "comment-verdict");
      assert.equal(a.number, 7);
      assert.equal(a.label, VERDICT_LABELS[v]);
      assert.match(a.body, new RegExp(`The gate now says ${v}`));
      assert.ok(a.body.includes(`verdict: ${v}`));
      assert.deepEqual(decidePropose(input(v, [mine({ labels: [PROPOSAL_LABEL, VERDICT_LABELS[v]] })])).actions, []);
    });
  }

  it("PAUSE after ROLLBACK gets its own label; PROCEED again takes the verdict labels off", () => {
    const d = decidePropose(input("PAUSE", [mine({ labels: [PROPOSAL_LABEL, VERDICT_LABELS.ROLLBACK] })]));
    assert.deepEqual(d.actions.map((a) => a.kind === "comment-verdict" && a.label), [VERDICT_LABELS.PAUSE]);
    const again = decidePropose(input("PROCEED", [mine({ labels: [PROPOSAL_LABEL, VERDICT_LABELS.ROLLBACK, VERDICT_LABELS.PAUSE] })]));
    assert.deepEqual(again.actions.map((a) => a.kind === "clear-verdict" && a.labels), [[VERDICT_LABELS.PAUSE, VERDICT_LABELS.ROLLBACK]]);
  });

  it("stale: main's stack file changed since the branch, or the stage is no longer the next; its own is closed (and a new one opened on PROCEED)", () => {
    assert.match(staleReason("prod", { branch: "rollout/prod-25", stackFileUnchangedOnMain: false }, at10) ?? "", /changed since this pull request branched off/);
    assert.match(staleReason("prod", { branch: "rollout/prod-50", stackFileUnchangedOnMain: true }, at10) ?? "", /its stage \(50%\) is no longer the next one/);
    assert.equal(staleReason("prod", { branch: "rollout/prod-25", stackFileUnchangedOnMain: true }, at10), undefined);
    const d = decidePropose(input("PROCEED", [mine({ stackFileUnchangedOnMain: false })]));
    assert.deepEqual(d.actions.map((a) => a.kind), ["close", "open"]);
    const close = d.actions[0];
    assert.ok(close.kind === "close" && close.branch === "rollout/prod-25" && /stale/.test(close.body));
    // stale on PAUSE: closed, nothing opened
    assert.deepEqual(decidePropose(input("PAUSE", [mine({ branch: "rollout/prod-50" })])).actions.map((a) => a.kind), ["close"]);
  });

  it("a person's open pull request on the stack's advance branch blocks a proposal and is never commented on, labelled or closed", () => {
    for (const v of ["PROCEED", "PAUSE", "ROLLBACK"] as const) {
      for (const stale of [true, false]) {
        const d = decidePropose(input(v, [mine({ labels: [], stackFileUnchangedOnMain: !stale })]));
        assert.deepEqual(d.actions, [], `${v} stale=${stale}`);
      }
    }
    // from a fork, even with the label: not the tool's
    assert.deepEqual(decidePropose(input("ROLLBACK", [mine({ sameRepository: false })])).actions, []);
  });

  it("other stacks' and other branches' pull requests are not proposals of this stack", () => {
    const d = decidePropose(input("PROCEED", [mine({ branch: "rollout/staging-25" }), mine({ branch: "rollback/prod-immediate" }), mine({ branch: "rollout/prod-25x" })]));
    assert.deepEqual(d.actions.map((a) => a.kind), ["open"]);
    assert.equal(advanceBranchStage("prod", "rollout/prod-25"), 25);
    assert.equal(advanceBranchStage("prod", "rollout/prod.x-25"), undefined);
    assert.equal(advanceBranchStage("prod.x", "rollout/prod.x-25"), 25);
    assert.equal(advanceBranchStage("prod", "rollout/prod-025"), undefined);
  });

  describe("texts", () => {
    it("the body: the gate's short text, the RUNBOOK's reviewer list (its one source), the labels it may get, a marker", () => {
      const body = proposalBody({ stack: "prod", from: 10, to: 25, gateText: GATE_TEXT, asOf: new Date("2026-12-07T12:00:00Z"), runUrl: "https://github.invalid/run/1" });
      assert.ok(body.includes("```text\n" + GATE_TEXT.trimEnd() + "\n```"));
      assert.ok(body.includes(reviewerChecksMarkdown("pull-request")));
      assert.ok(body.includes("<!-- rollout-propose stack=prod from=10 to=25 -->"));
      assert.match(body, /never merges/);
      assert.ok(body.includes(VERDICT_LABELS.PAUSE) && body.includes(VERDICT_LABELS.ROLLBACK));
      // the RUNBOOK's block is the same list, only the criteria table is named for where it is read
      const runbook = fs.readFileSync(path.join(__dirname, "../../docs/RUNBOOK.md"), "utf8");
      const block = runbook.slice(runbook.indexOf(CHECKS_BEGIN) + CHECKS_BEGIN.length, runbook.indexOf(CHECKS_END)).trim();
      assert.equal(block, reviewerChecksMarkdown("runbook"));
      assert.equal(reviewerChecksMarkdown("pull-request").replace('the criteria table in docs/RUNBOOK.md ("Criteria at each stage")', "the table above"), block);
    });

    it("a gate text with a code fence cannot end the body's fence", () => {
      const body = proposalBody({ stack: "prod", from: 10, to: 25, gateText: "x\n```\n# injected\n", asOf: new Date(0) });
      assert.equal((body.match(/```/g) ?? []).length, 2);
    });

    it("the commit message: advance's subject, then the evidence", () => {
      const m = proposalCommitMessage("prod", "advance 10% -> 25%", GATE_TEXT, new Date("2026-12-07T12:00:00Z"));
      assert.ok(m.startsWith("rollout(prod): advance 10% -> 25%\n\nProposed by rollout propose: the gate said PROCEED for the deployed stage as of 2026-12-07 12:00 UTC.\n\n"));
      assert.ok(m.includes(GATE_TEXT.trimEnd()));
    });
  });
});
