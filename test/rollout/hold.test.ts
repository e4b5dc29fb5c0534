/**
 * Issue 25, part 3: `rollout hold` and `rollout release`. The hold is a config key in the stack file
 * (valuecanvas:hold: reason, by, at) that the schema validates, the editor writes through the yaml
 * serializer and removes byte-exactly, Pulumi's own loader reads as the project does, and the gate turns
 * into PAUSE naming who, when and why (never hiding a ROLLBACK). Part 4: at 100 % the gate says when the
 * guide's "48 hours stable operation" is met, and then that the rollout is complete and what comes next.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildStackReview, codeSpan } from "../../ci/comment";
import { ConfigError, parseConfig } from "../../core/config";
import { HOLD_REASON_MAX, HoldConfig } from "../../core/configSchema";
import { GateInput, LatencyCount, PathMetrics, StageMetrics, decideGate, latencyThresholds } from "../../core/gate";
import { completionLines, evaluateGate, formatGateShort, formatGateVerbose, holdText } from "../../core/gateText";
import { renderReportHtml } from "../../core/report/html";
import { RolloutReport } from "../../core/report/model";
import { GUIDE_SOAK_HOURS, GUIDE_THRESHOLDS, STAGES, Stage } from "../../core/stages";
import { HOLD_KEY, RefusedError, planAdvance, planHold, planRelease } from "../../core/transitions";
import { editStack } from "../../stack/stackEdit";
import { loadStack, parseStackFile, stackConfigOf } from "../../stack/stackFile";
import { pulumiRead, requireYamlcheck } from "../support/pulumiYaml";
import { rollout, rolloutJson, snapshot, stackCopies } from "./support";

const base = parseConfig({ appImage: "example/app:1" }, { stack: "test" });
const HOLD: HoldConfig = { reason: "bug #12: exports fail for SSO users", by: "Jane Doe", at: "2026-01-10T09:00:00Z" };
const AT = "2026-12-07T19:21:18Z";

/** Every way the config can refuse a hold: each names the key, shows the value and says what is allowed. */
const BAD: Array<[string, Record<string, unknown>, RegExp]> = [
  ["an empty reason", { ...HOLD, reason: "" }, /valuecanvas:hold\.reason = "": expected why the rollout is held, one line of printable text/],
  ["a reason with a line feed", { ...HOLD, reason: "a\nb" }, /valuecanvas:hold\.reason = "a\\nb": expected .*no line break/],
  ["a reason with a tab", { ...HOLD, reason: "a\tb" }, /valuecanvas:hold\.reason = "a\\tb"/],
  ["a reason with a NEL (Go ends a line there)", { ...HOLD, reason: "a\u0085b" }, /valuecanvas:hold\.reason/],
  ["a reason with a right-to-left override", { ...HOLD, reason: "a\u202eb" }, /valuecanvas:hold\.reason/],
  ["a reason with a leading space", { ...HOLD, reason: " a" }, /valuecanvas:hold\.reason = " a".*no leading or trailing space/],
  ["a reason that is too long", { ...HOLD, reason: "x".repeat(HOLD_REASON_MAX + 1) }, new RegExp(`valuecanvas:hold\\.reason = .*1 to ${HOLD_REASON_MAX} characters`)],
  ["a reason that is a number", { ...HOLD, reason: 42 }, /valuecanvas:hold\.reason = 42: expected/],
  ["an author with a colon", { ...HOLD, by: "a: b" }, /valuecanvas:hold\.by = "a: b": expected who set the hold: letters, digits/],
  ["an empty author", { ...HOLD, by: "" }, /valuecanvas:hold\.by = ""/],
  ["an impossible date", { ...HOLD, at: "2026-02-30T00:00:00Z" }, /valuecanvas:hold\.at = "2026-02-30T00:00:00Z": expected when the hold was set, an ISO 8601 UTC time/],
  ["hour 24", { ...HOLD, at: "2026-02-01T24:00:00Z" }, /valuecanvas:hold\.at/],
  ["a local time", { ...HOLD, at: "2026-02-01 10:00:00" }, /valuecanvas:hold\.at/],
  ["a missing time", { reason: HOLD.reason, by: HOLD.by }, /valuecanvas:hold\.at/],
  ["an unknown key", { ...HOLD, until: "tomorrow" }, /valuecanvas:hold\.until = "tomorrow": no such key; valid keys here are reason, by, at/],
];

describe("rollout hold: the config key (core/configSchema.ts)", () => {
  it("accepts a hold as an object (the stack file) and as JSON (how Pulumi hands structured config to the program)", () => {
    for (const hold of [HOLD, JSON.stringify(HOLD)]) assert.deepEqual(parseConfig({ appImage: "example/app:1", hold }, { stack: "test" }).hold, HOLD);
    assert.equal(base.hold, undefined, "no hold by default");
  });

  for (const [what, hold, message] of BAD) {
    it(`refuses ${what}, naming the key, the value and what is allowed`, () => {
      assert.throws(
        () => parseConfig({ appImage: "example/app:1", hold }, { stack: "test" }),
        (e: Error) => e instanceof ConfigError && message.test(e.message),
      );
    });
  }
});

/** Hostile reasons as typed, and what the stack file must hold: every run of whitespace one space, the rest verbatim. */
const HOSTILE: Array<[string, string]> = [
  ["multi\nline\r\nreason\twith  tabs ", "multi line reason with tabs"],
  [`#: - ? ! & * | > ' " % @ \` { } [ ] , \\ --- ... <<: *x &a !!str`, `#: - ? ! & * | > ' " % @ \` { } [ ] , \\ --- ... <<: *x &a !!str`],
  ["null", "null"],
  ["true", "true"],
  ["~", "~"],
  ["0x1F", "0x1F"],
  ["- item", "- item"],
  ["key: value # not a comment", "key: value # not a comment"],
  ['\\"\\\\n', '\\"\\\\n'],
  ["ünïcödé 日本語 العربية 🚀 𝔘 — “quotes”", "ünïcödé 日本語 العربية 🚀 𝔘 — “quotes”"],
  [`${"é".repeat(HOLD_REASON_MAX - 1)}𝔘`, `${"é".repeat(HOLD_REASON_MAX - 1)}𝔘`],
  ["x\n".repeat(250), "x ".repeat(250).trim()],
];

describe("rollout hold / release: the stack-file edit (stack/splice.ts, stack/stackEdit.ts)", () => {
  let dir: string;
  beforeEach(() => {
    dir = stackCopies();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (stack: string) => path.join(dir, `Pulumi.${stack}.yaml`);

  it("every stack: hold adds exactly the hold's four lines and changes nothing else; release restores the file byte for byte", () => {
    for (const stack of ["dev", "staging", "prod"]) {
      const before = fs.readFileSync(file(stack), "utf8");
      const r = editStack(dir, stack, (c) => planHold(c, { reason: HOLD.reason, by: HOLD.by, at: AT }));
      const after = fs.readFileSync(file(stack), "utf8");
      assert.equal(r.after, after);
      const added = after.split("\n").filter((l) => !before.split("\n").includes(l));
      assert.equal(added.length, 4, added.join("\n"));
      assert.match(added[0], /^ {2}valuecanvas:hold:$/);
      assert.deepEqual(loadStack(dir, stack).cfg.hold, { reason: HOLD.reason, by: HOLD.by, at: AT });
      // The rollout state and every other key are as they were.
      const cfgBefore = stackConfigOf(parseStackFile(stack, "x", before));
      const { hold: _h, ...rest } = loadStack(dir, stack).cfg;
      void _h;
      assert.deepEqual(rest, cfgBefore);
      editStack(dir, stack, (c) => planRelease(c) as NonNullable<ReturnType<typeof planRelease>>);
      assert.equal(fs.readFileSync(file(stack), "utf8"), before, `${stack}: release restores the file`);
    }
  });

  it("keeps a CRLF file CRLF", () => {
    const crlf = fs.readFileSync(file("prod"), "utf8").replace(/\n/g, "\r\n");
    fs.writeFileSync(file("prod"), crlf);
    const r = editStack(dir, "prod", (c) => planHold(c, { reason: HOLD.reason, by: HOLD.by, at: AT }));
    assert.ok(!/[^\r]\n/.test(r.after), "every line ends in CRLF");
    editStack(dir, "prod", (c) => planRelease(c) as NonNullable<ReturnType<typeof planRelease>>);
    assert.equal(fs.readFileSync(file("prod"), "utf8"), crlf);
  });

  describe("hostile reasons round-trip through the yaml serializer and Pulumi's own loader (tools/yamlcheck)", function () {
    this.timeout(180_000);
    let bin: string;
    before(function () {
      bin = requireYamlcheck(this);
    });
    it("each is stored as typed (whitespace runs as one space), read back the same by the project and by Pulumi, and released byte-exactly", () => {
      const written: Array<{ copy: string; expected: HoldConfig }> = [];
      for (const [i, [typed, stored]] of HOSTILE.entries()) {
        const before = fs.readFileSync(file("prod"), "utf8");
        editStack(dir, "prod", (c) => planHold(c, { reason: typed, by: "Jane O'Neil", at: AT }));
        const expected = { reason: stored, by: "Jane O'Neil", at: AT };
        assert.deepEqual(loadStack(dir, "prod").cfg.hold, expected, `reason ${i}: the project reads what was typed`);
        const copy = path.join(dir, `held-${i}.yaml`);
        fs.copyFileSync(file("prod"), copy);
        written.push({ copy, expected });
        editStack(dir, "prod", (c) => planRelease(c) as NonNullable<ReturnType<typeof planRelease>>);
        assert.equal(fs.readFileSync(file("prod"), "utf8"), before, `reason ${i}: released byte for byte`);
      }
      const readings = pulumiRead(bin, written.map((w) => w.copy));
      readings.forEach((r, i) => {
        assert.ok(r.ok && r.config, `Pulumi reads file ${i}: ${r.error ?? ""}`);
        const v = r.config[`valuecanvas:${HOLD_KEY}`];
        assert.ok(v && v.object && !v.secure, `file ${i}: the hold is an object to Pulumi`);
        assert.deepEqual(JSON.parse(v.text), written[i].expected, `file ${i}: Pulumi hands the program exactly the hold`);
      });
    });
  });

  for (const [what, reason, message] of [
    ["one character too many", "x".repeat(HOLD_REASON_MAX + 1), new RegExp(`--reason has ${HOLD_REASON_MAX + 1} characters; at most ${HOLD_REASON_MAX}`)],
    ["a right-to-left override", "fine\u202eenif", /--reason has U\+202E RIGHT-TO-LEFT OVERRIDE at character 5/],
    ["a NEL", "a\u0085b", /--reason has U\+0085 NEXT LINE \(NEL\) at character 2/],
    ["a NUL", "a\u0000b", /--reason has U\+0000 NULL at character 2/],
    ["only whitespace", " \n\t ", /--reason is empty/],
  ] as Array<[string, string, RegExp]>) {
    it(`refuses a reason with ${what}, and writes nothing`, () => {
      const snap = snapshot(dir);
      assert.throws(() => editStack(dir, "prod", (c) => planHold(c, { reason, by: "Jane", at: AT })), (e: Error) => e instanceof RefusedError && message.test(e.message));
      assert.deepEqual(snapshot(dir), snap);
    });
  }

  it("refuses a second hold (release first: no reason is replaced unreviewed), an author the file cannot take, and a bad time", () => {
    editStack(dir, "prod", (c) => planHold(c, { reason: HOLD.reason, by: HOLD.by, at: AT }));
    const snap = snapshot(dir);
    assert.throws(() => editStack(dir, "prod", (c) => planHold(c, { reason: "another", by: "Bob", at: AT })), /already held by Jane Doe since 2026-12-07T19:21:18Z: bug #12.*Release it first/);
    assert.deepEqual(snapshot(dir), snap);
    editStack(dir, "prod", (c) => planRelease(c) as NonNullable<ReturnType<typeof planRelease>>);
    const snap2 = snapshot(dir);
    assert.throws(() => editStack(dir, "prod", (c) => planHold(c, { reason: "r", by: "eve\n# forged", at: AT })), /the hold's author "eve\\u000a# forged"/);
    assert.throws(() => editStack(dir, "prod", (c) => planHold(c, { reason: "r", by: "eve", at: "now" })), /not an ISO 8601 UTC time/);
    assert.deepEqual(snapshot(dir), snap2);
  });
});

describe("rollout hold / release: the commands (no database needed)", () => {
  let dir: string;
  beforeEach(() => {
    dir = stackCopies();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("hold writes who, when and why, prints the diff and the review steps; release removes it; a second release says there is nothing to release, exit 0", async () => {
    const before = fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8");
    const t0 = Date.now();
    const h = await rolloutJson("hold", "--stack", "prod", "--project-dir", dir, "--reason", "bug #12\nexports fail", "--by", "Jane Doe");
    assert.equal(h.code, 0, h.stderr);
    const hold = h.json.hold as HoldConfig;
    assert.equal(hold.reason, "bug #12 exports fail");
    assert.equal(hold.by, "Jane Doe");
    const at = Date.parse(hold.at);
    assert.ok(at >= t0 - 1000 && at <= Date.now() + 1000, `the time is now: ${hold.at}`);
    assert.match(hold.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    assert.equal(h.json.written, true);
    const text = await rollout("release", "--stack", "prod", "--project-dir", dir, "--dry-run");
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^release the hold \(was held by Jane Doe since .*: bug #12 exports fail\)$/m);
    assert.match(text.stdout, /^ {2}git switch -c release\/prod /m);
    assert.match(text.stdout, /dry run: Pulumi\.prod\.yaml not written/);
    const r = await rolloutJson("release", "--stack", "prod", "--project-dir", dir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json.released, true);
    assert.equal(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8"), before);
    const again = await rollout("release", "--stack", "prod", "--project-dir", dir);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^stack prod has no hold: nothing to release; Pulumi\.prod\.yaml is unchanged$/m);
  });

  it("hold's text names the branch, and says what the hold does once merged", async () => {
    const h = await rollout("hold", "--stack", "staging", "--project-dir", dir, "--reason", "r", "--by", "Jane", "--dry-run");
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^\+ {2}valuecanvas:hold:$/m);
    assert.match(h.stdout, /^ {2}git switch -c hold\/staging /m);
    assert.match(h.stdout, /rollout gate says PAUSE and rollout advance writes nothing until a reviewed rollout release/);
    assert.match(h.stdout, /dry run: Pulumi\.staging\.yaml not written/);
  });

  describe("who acts: one rule for a hold's author and a forced skip's note (--by, $GIT_AUTHOR_NAME, git's user.name, $USER)", () => {
    const KEYS = ["GIT_AUTHOR_NAME", "USER", "HOME", "GIT_CONFIG_NOSYSTEM"] as const;
    let saved: Record<string, string | undefined>;
    let home: string;
    beforeEach(() => {
      saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
      // No global or system git config: only the project folder's own, when a case makes it a repository.
      home = fs.mkdtempSync(path.join(os.tmpdir(), "rollout-home-"));
      process.env.HOME = home;
      process.env.GIT_CONFIG_NOSYSTEM = "1";
      delete process.env.GIT_AUTHOR_NAME;
      delete process.env.USER;
    });
    afterEach(() => {
      for (const k of KEYS) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
      fs.rmSync(home, { recursive: true, force: true });
    });
    const gitName = (name: string) => {
      execFileSync("git", ["init", "-q"], { cwd: dir });
      execFileSync("git", ["config", "user.name", name], { cwd: dir });
    };
    const holdBy = async (...by: string[]) => {
      const h = await rolloutJson("hold", "--stack", "prod", "--project-dir", dir, "--reason", "r", "--dry-run", ...by);
      assert.equal(h.code, 0, h.stderr);
      return (h.json.hold as HoldConfig).by;
    };

    it("a hold's author: --by, else $GIT_AUTHOR_NAME, else git's user.name, else $USER", async () => {
      process.env.USER = "unix-user";
      assert.equal(await holdBy(), "unix-user");
      gitName("Repo User");
      assert.equal(await holdBy(), "Repo User");
      process.env.GIT_AUTHOR_NAME = "Ann From Env";
      assert.equal(await holdBy(), "Ann From Env");
      assert.equal(await holdBy("--by", "Given Name"), "Given Name");
    });

    it("none of them: the hold asks for --by, exit 2, nothing written", async () => {
      const snap = snapshot(dir);
      const r = await rollout("hold", "--stack", "prod", "--project-dir", dir, "--reason", "r");
      assert.equal(r.code, 2);
      assert.match(r.stderr, /who is holding\? pass --by "<name>"/);
      assert.deepEqual(snapshot(dir), snap);
    });

    it("a forced skip's note reads the same rule: git's user.name, then $USER, each checked before any database", async () => {
      const advance = () => rollout("advance", "--stack", "prod", "--project-dir", dir, "--to", "100", "--force", "--reason", "why", "--database-url", "postgres://nobody@127.0.0.1:1/none");
      process.env.USER = "bad\nuser";
      let r = await advance();
      assert.match(r.stderr, /the actor name "bad\\u000auser"/);
      gitName("bad\nrepo");
      r = await advance();
      assert.match(r.stderr, /the actor name "bad\\u000arepo"/);
      assert.doesNotMatch(r.stderr, /ECONNREFUSED|connect/, "refused before the database");
    });
  });

  it("bad requests exit 2 and write nothing: no --reason, an empty one, an author the file cannot take, a second hold", async () => {
    const snap = snapshot(dir);
    for (const args of [["--by", "x"], ["--reason", "  ", "--by", "x"], ["--reason", "r", "--by", "a:b"]]) {
      const r = await rollout("hold", "--stack", "prod", "--project-dir", dir, ...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /reason|author/);
    }
    assert.deepEqual(snapshot(dir), snap);
    assert.equal((await rollout("hold", "--stack", "prod", "--project-dir", dir, "--reason", "r", "--by", "x")).code, 0);
    const snap2 = snapshot(dir);
    const twice = await rolloutJson("hold", "--stack", "prod", "--project-dir", dir, "--reason", "r2", "--by", "y");
    assert.equal(twice.code, 2);
    assert.match(String((twice.json.error as { message: string }).message), /already held by x/);
    assert.deepEqual(snapshot(dir), snap2);
  });
});

// ---------------------------------------------------------------------------
// The gate (pure)

const t = base.thresholds;
const gate = base.gate;
const HOUR = 3_600_000;
const asOf = new Date("2026-01-10T12:00:00Z");
const ON = { enableStatelessOrchestration: true, enableSafeJsonParser: true };
const OFF = { enableStatelessOrchestration: false, enableSafeJsonParser: false };
const LINES = latencyThresholds(t);
function p(requests: number, errors: number): PathMetrics {
  const latency: LatencyCount[] = LINES.map((s) => ({ thresholdSeconds: s, timed: requests, over: Math.round(requests * 0.01) }));
  return { requests, errors, users: Math.max(requests > 0 ? 1 : 0, Math.round(requests / 20)), avgSeconds: requests > 0 ? 1 : null, p95Seconds: requests > 0 ? 1.5 : null, latency };
}
function metrics(stage: Stage, o: { newErrorShare?: number; contamination?: number } = {}): StageMetrics {
  const n = Math.round(200_000 * (stage / 100));
  const l = 200_000 - n;
  return { windowStart: new Date(asOf.getTime() - gate.soakHours * HOUR), windowEnd: asOf, new: p(n, Math.round(n * (o.newErrorShare ?? 0.005))), legacy: p(l, Math.round(l * 0.012)), contaminationCount: o.contamination ?? 0 };
}
function input(stage: Stage, o: { soakHours?: number; hold?: HoldConfig; newErrorShare?: number; contamination?: number; start?: Date | undefined } = {}): GateInput {
  const start = "start" in o ? o.start : new Date(asOf.getTime() - (o.soakHours ?? gate.soakHours) * HOUR);
  return { stage, flags: stage === 0 ? OFF : ON, stageStartedAt: start, asOf, metrics: metrics(stage, o), thresholds: t, gate, ...(o.hold ? { hold: o.hold } : {}) };
}

describe("the gate and a hold (core/gate.ts decides, core/gateText.ts words)", () => {
  it("without a hold nothing changes: the verdict is the metrics' at every stage", () => {
    for (const s of STAGES) {
      const d = decideGate(input(s));
      assert.equal(d.hold, null);
      assert.equal(d.verdict, d.metricVerdict);
      assert.equal(d.verdict, "PROCEED");
    }
  });

  it("a hold turns PROCEED and WAIT into PAUSE (exit 4) at every stage, names who, when and why, and suggests no command", () => {
    for (const s of STAGES) {
      for (const soakHours of [gate.soakHours, gate.soakHours / 2]) {
        const g = evaluateGate(input(s, { soakHours, hold: HOLD }));
        assert.equal(g.verdict, "PAUSE", `${s}%`);
        assert.equal(g.exitCode, 4);
        assert.equal(g.metricVerdict, soakHours === gate.soakHours ? "PROCEED" : "WAIT");
        assert.deepEqual(g.hold, HOLD);
        assert.equal(g.suggestedCommand, null, "releasing or rolling back is a person's decision");
        assert.match(g.reasons[0], /^the rollout is held by Jane Doe since 2026-01-10T09:00:00Z: bug #12: exports fail for SSO users \(rollout hold\): the gate says PAUSE until it is released \(rollout release\); the metrics alone say (PROCEED|WAIT)$/);
        assert.match(g.advice ?? "", /rollout release/);
        assert.match(formatGateShort(g), /^ {2}- held by Jane Doe since 2026-01-10T09:00:00Z: bug #12: exports fail for SSO users \(rollout hold; the metrics alone say/m);
        assert.match(formatGateShort(g), /^verdict: PAUSE \(exit 4\)$/m);
      }
    }
  });

  it("a hold never hides a ROLLBACK, and keeps the metrics' own PAUSE command", () => {
    const rb = evaluateGate(input(25, { hold: HOLD, contamination: 1 }));
    assert.equal(rb.verdict, "ROLLBACK");
    assert.equal(rb.suggestedCommand, "rollout rollback --immediate");
    assert.match(rb.reasons[0], /held by Jane Doe.*the metrics call for a rollback, which the hold does not hide/);
    const pause = evaluateGate(input(25, { hold: HOLD, newErrorShare: 0.04 }));
    assert.equal(pause.verdict, "PAUSE");
    assert.equal(pause.metricVerdict, "PAUSE");
    assert.equal(pause.suggestedCommand, "rollout rollback");
    assert.ok(pause.reasons.some((r) => /^pause criterion hit: /.test(r)), "the metrics' own reasons stay");
  });

  it("the hold's words have one home: the gate, the report's banner and the transitions all say holdText", () => {
    assert.equal(holdText(HOLD), "held by Jane Doe since 2026-01-10T09:00:00Z: bug #12: exports fail for SSO users");
    const markup = { ...HOLD, reason: `<script>alert(1)</script> & "x"` };
    const empty = { requests: 0, errors: 0, users: 0, avgSeconds: null, p95Seconds: null };
    const fig = { sessions: 0, peak: 0, peakAt: null, average: 0 };
    const r: RolloutReport = {
      stack: "prod", asOf: new Date(0), lastRecordAt: null, thresholds: GUIDE_THRESHOLDS, soakHours: 48, notes: [], hold: markup,
      segments: [{
        stage: 10, flags: ON, start: new Date(0), end: new Date(1), current: true, windowStart: new Date(0), windowEnd: new Date(1), actor: null, gitCommit: null, reason: null,
        metrics: { windowStart: new Date(0), windowEnd: new Date(1), new: empty, legacy: empty, contaminationCount: 0 }, concurrency: { new: fig, legacy: fig, all: fig },
        judgement: { verdict: "PAUSE", evidence: "" }, points: [],
      }],
    };
    const html = renderReportHtml(r);
    assert.doesNotMatch(html, /<script>alert/);
    assert.match(html, /<p class="note hold">Hold: the rollout is held by Jane Doe since 2026-01-10T09:00:00Z: &lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; &quot;x&quot; \(rollout hold\)/);
    assert.doesNotMatch(renderReportHtml({ ...r, hold: null }), /class="note hold"/);
  });
});

describe("after 100 %: the guide's 48 hours stable operation, then its last steps", () => {
  it("the 48 h is defined once: the guide's soak (core/stages.ts), the default of gate.soakHours, and what 100 % must hold for", () => {
    assert.equal(GUIDE_SOAK_HOURS, 48);
    assert.equal(gate.soakHours, GUIDE_SOAK_HOURS);
    assert.equal(decideGate(input(100)).fullRollout?.stableHoursRequired, GUIDE_SOAK_HOURS);
    const shorter = { ...gate, soakHours: 2 };
    assert.equal(decideGate({ ...input(100), gate: shorter }).fullRollout?.stableHoursRequired, 2, "a stack's own soak applies (the drill shortens it)");
  });

  it("only at an effective 100 %: not at 75 %, not at 100 % with the flags off (the immediate rollback's state judges 0 %)", () => {
    assert.equal(decideGate(input(75)).fullRollout, null);
    assert.equal(decideGate({ ...input(100), flags: OFF }).fullRollout, null);
  });

  it("met after the soak with every criterion met: the rollout is complete, and status/gate say what the guide says next", () => {
    const g = evaluateGate(input(100));
    assert.equal(g.verdict, "PROCEED");
    assert.equal(g.suggestedCommand, null, "nothing to advance, nothing destructive proposed");
    assert.equal(g.fullRollout?.met, true);
    assert.match(g.reasons[g.reasons.length - 1], /the guide's "48 h stable operation" at 100% is met .*: the rollout is complete$/);
    for (const text of [formatGateShort(g, "gate's"), formatGateVerbose(g)]) {
      assert.match(text, /^rollout complete: the guide's 48 hours stable operation at 100% is met$/m);
      assert.match(text, /^next, in the app \(the guide's Post-Deployment\): 1\. remove the legacy code path; 2\. only after that ships, remove the flags ENABLE_STATELESS_ORCHESTRATION and ENABLE_SAFE_JSON_PARSER$/m);
      assert.match(text, /^keep the stack file at 100% with both flags on until then: deleting the keys or setting the defaults \(0%, flags off\) would send every user back to the legacy path/m);
    }
  });

  it("not yet: says how long so far and when it is due; unknown without a record; not while held or paused", () => {
    const half = evaluateGate(input(100, { soakHours: 30 }));
    assert.equal(half.verdict, "WAIT");
    assert.equal(half.fullRollout?.met, false);
    assert.equal(half.fullRollout?.dueAt?.toISOString(), new Date(asOf.getTime() + 18 * HOUR).toISOString());
    assert.match(half.reasons.join("\n"), /the guide's "48 h stable operation" at 100%: not yet \(30\.0 h of 48 h since 100% began; due 2026-01-11T06:00:00\.000Z if the criteria hold\)/);
    assert.match(formatGateShort(half), /48 h stable operation at 100%: 30\.0 h so far, due /);
    assert.deepEqual(completionLines(half), []);
    assert.doesNotMatch(formatGateShort(half), /rollout complete/);
    const unknown = evaluateGate(input(100, { start: undefined }));
    assert.equal(unknown.fullRollout?.since, null);
    assert.match(unknown.reasons.join("\n"), /start of 100% is unknown/);
    const held = evaluateGate(input(100, { hold: HOLD }));
    assert.equal(held.fullRollout?.met, false);
    assert.deepEqual(completionLines(held), []);
    const paused = evaluateGate(input(100, { newErrorShare: 0.04 }));
    assert.equal(paused.fullRollout?.met, false);
  });

  it("advance at 100 % refuses, and says to keep 100 % with both flags on (the defaults would roll everyone back)", () => {
    const cfg = parseConfig({ appImage: "example/app:1", canaryPercentage: "100", enableStatelessOrchestration: "true", enableSafeJsonParser: "true" }, { stack: "test" });
    assert.throws(() => planAdvance(cfg), (e: Error) => e instanceof RefusedError && /already at the last stage \(100%\): nothing to advance\. Keep the stack file at 100% with both flags on .*the defaults \(0%, flags off\) would send every user back/.test(e.message));
  });
});

describe("the pull-request comment shows the hold (ci/comment.ts)", () => {
  const hostile: HoldConfig = { reason: "see `x` <!-- hide --> @team [link](https://evil) **bold** | ``", by: "Jane Doe", at: "2026-12-07T19:21:18Z" };
  const review = (hold: { from: HoldConfig | null; to: HoldConfig | null }, gateOf?: ReturnType<typeof evaluateGate>) =>
    buildStackReview({
      stack: "prod",
      reasons: ["Pulumi.prod.yaml changed"],
      canarySummary: "rollout unchanged at 10% (flags on, effective 10%); hold set (hold-only: no resource changes, no test run needed)",
      raised: gateOf !== undefined,
      hold,
      ...(gateOf ? { gate: { exitCode: gateOf.exitCode, stdout: JSON.stringify({ command: "gate", stack: "prod", verdict: gateOf.verdict, gate: gateOf }) } } : {}),
    });

  it("a hold-only change: the comment says the hold is set, quotes who/when/why as code (no mention, link, HTML or markdown), and the check passes (nothing raised)", () => {
    const r = review({ from: null, to: hostile });
    assert.equal(r.decision.status, "pass");
    const line = r.markdown.split("\n").find((l) => l.startsWith("**Hold:**")) ?? "";
    assert.match(line, /^\*\*Hold:\*\* ⏸️ set by this change: ``` held by Jane Doe since 2026-12-07T19:21:18Z: see `x` <!-- hide --> @team \[link\]\(https:\/\/evil\) \*\*bold\*\* \| `` ```\. While it is on main the gate says PAUSE/);
    assert.equal(codeSpan("a ``` b"), "````a ``` b````");
    assert.equal(codeSpan("`edge`"), "`` `edge` ``");
  });

  it("a release, and a hold in place beside a gated raise: the gate's PAUSE names the hold, quoted as code in its reasons and advice", () => {
    assert.match(review({ from: HOLD, to: null }).markdown, /^\*\*Hold:\*\* released by this change \(was `held by Jane Doe since 2026-01-10T09:00:00Z: bug #12: exports fail for SSO users`\)/m);
    const g = evaluateGate(input(10, { hold: hostile }));
    const r = review({ from: hostile, to: hostile }, g);
    assert.equal(r.decision.status, "blocked");
    assert.equal(r.decision.verdict, "PAUSE");
    assert.match(r.markdown, /^\*\*Hold:\*\* ⏸️ in place: /m);
    assert.match(r.markdown, /^- the rollout is ``` held by Jane Doe since 2026-12-07T19:21:18Z: see .*`` ``` \(rollout hold\): the gate says PAUSE until it is released/m);
    assert.match(r.markdown, /^Next: the rollout is ``` held by .*`` ```\. When that is resolved, a person releases it: rollout release/m);
    // Outside code spans and fences, none of the reason's markup is live.
    const outside = r.markdown.replace(/(`{3,})[\s\S]*?\1/g, "").replace(/<details><summary>Gate JSON<\/summary>[\s\S]*<\/details>/, "");
    assert.doesNotMatch(outside, /<!-- hide -->|@team|\[link\]/);
  });
});
