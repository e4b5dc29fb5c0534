import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRolloutCli, parsedInvocation } from "../../cli/rollout";
import { GateResult } from "../../core/gate";
import { freeLoopbackPort } from "../../db/embeddedPostgres";
import { ROLE_NAMES, quoteIdent, roleGrantStatements } from "../../core/grants";
import { loadStack } from "../../stack/stackFile";
import { STAGES } from "../../core/stages";
import { sharedPostgres } from "../support/postgres";
import {
  migratedDatabase,
  rollout,
  rolloutJson,
  seedBypassedContamination,
  seedPath,
  seedRecord,
  snapshot,
  stackCopies,
  withClient,
} from "./support";

// Thresholds and gate settings come from the stack file (the guide's defaults in prod).
const PROD = loadStack(path.join(__dirname, "..", ".."), "prod").cfg;
const T = PROD.thresholds;
const G = PROD.gate;
const SOAK = G.soakHours;
const N = Math.max(1000, G.minNewRequests * 2); // new-path requests in a healthy seed
const U = G.minNewUsers * 2;

interface Seed {
  stage: number;
  flagsOn?: boolean;
  soakHours?: number;
  newReq?: number;
  newErr?: number;
  newUsers?: number;
  newSeconds?: number;
  legacyReq?: number;
  legacyErr?: number;
  legacySeconds?: number;
  contaminated?: boolean;
}

describe("[pg] rollout CLI: gate, status, advance, rollback on a real PostgreSQL", function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = stackCopies();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A migrated database with one stage's record and traffic. Legacy defaults to 1.9 % errors: below the pause level. */
  async function seeded(s: Seed): Promise<string> {
    const url = await migratedDatabase();
    const soak = s.soakHours ?? SOAK;
    await withClient(url, async (c) => {
      await seedRecord(c, "prod", s.stage, s.flagsOn ?? s.stage > 0, soak);
      const within = Math.min(soak, SOAK) - 0.01; // all traffic inside the gate's window
      const newReq = s.newReq ?? (s.stage > 0 ? N : 0);
      if (newReq > 0) {
        await seedPath(c, { isNew: true, requests: newReq, errors: s.newErr ?? 0, users: s.newUsers ?? U, seconds: s.newSeconds ?? 1, fromHours: within, prefix: "new" });
      }
      const legacyReq = s.legacyReq ?? (s.stage === 100 ? 0 : 9 * N);
      if (legacyReq > 0) {
        await seedPath(c, { isNew: false, requests: legacyReq, errors: s.legacyErr ?? Math.floor(legacyReq * 0.019), users: 9 * U, seconds: s.legacySeconds ?? 1, fromHours: within, prefix: "legacy" });
      }
      if (s.contaminated) await seedBypassedContamination(c, 1);
    });
    return url;
  }

  async function gate(url: string) {
    const r = await rolloutJson("gate", "--stack", "prod", "--project-dir", dir, "--database-url", url);
    const g = r.json.gate as GateResult | undefined;
    return { ...r, verdict: r.json.verdict as string, g };
  }

  describe("each verdict has its own exit code", () => {
    it("PROCEED (0) after exactly the soak time with healthy traffic", async () => {
      const r = await gate(await seeded({ stage: 10 }));
      assert.equal(r.verdict, "PROCEED", r.stdout);
      assert.equal(r.code, 0);
      assert.equal(r.json.exitCode, 0);
      assert.ok(r.g && r.g.soakHoursElapsed !== null && r.g.soakHoursElapsed >= SOAK);
      assert.match(r.g?.comparison?.method ?? "", /one-sided normal-mixture bounds/);
      assert.equal(r.g?.comparison?.decision, "within-margin");
      assert.match(r.stdout + JSON.stringify(r.json), /however often this is checked/);
    });
    it("counts the looks at the stage (sql/0030): every run is one, shown in the text and --json; a new stage starts again", async () => {
      const url = await seeded({ stage: 10 });
      assert.equal((await gate(url)).g?.looks, 1);
      const second = await gate(url);
      assert.equal(second.g?.looks, 2);
      assert.equal(second.g?.looksNote, null);
      const text = await rollout("gate", "--stack", "prod", "--project-dir", dir, "--database-url", url, "--verbose");
      assert.match(text.stdout, /looks so far at this stage: 3 \(this one included; the bounds do not depend on it\)/);
      await withClient(url, (c) => seedRecord(c, "prod", 25, true, 1, 10));
      assert.equal((await gate(url)).g?.looks, 1);
    });
    it("without a rollout record the looks are not counted, and it says why", async () => {
      const url = await migratedDatabase();
      const r = await gate(url);
      assert.equal(r.g?.looks, null);
      assert.match(r.g?.looksNote ?? "", /not counted: the stage has no rollout record/);
    });
    it("WAIT (3) one hour short of the soak time, saying how much is left", async () => {
      const r = await gate(await seeded({ stage: 10, soakHours: SOAK - 1 }));
      assert.equal(r.verdict, "WAIT");
      assert.equal(r.code, 3);
      assert.ok(Math.abs((r.g?.needed.soakHours ?? 0) - 1) < 0.01, JSON.stringify(r.g?.needed));
    });
    it("PAUSE (4) on an error rate shown above the warning level (4.5 %)", async () => {
      const r = await gate(await seeded({ stage: 25, newErr: Math.round(N * 0.045) }));
      assert.equal(r.verdict, "PAUSE", r.stdout);
      assert.equal(r.code, 4);
      assert.ok(r.g?.criteria.some((c) => c.id === "error-rate-pause" && c.status === "failed"));
    });
    it("ROLLBACK (5) on contamination that bypassed the isolation trigger", async () => {
      const r = await gate(await seeded({ stage: 50, contaminated: true }));
      assert.equal(r.verdict, "ROLLBACK", r.stdout);
      assert.equal(r.code, 5);
      assert.equal(r.g?.metrics.contaminationCount, 1);
    });
  });

  describe("criteria and boundaries on seeded data", () => {
    const cases: Array<[string, Seed, string]> = [
      // The always-valid gate (docs/gate.md): a line is crossed when the bounds clear it, not the point estimate.
      [`error rate exactly ${T.errorRateWarningPct}%: not shown above it, no pause; not shown within the margin either: wait`, { stage: 25, newErr: (N * T.errorRateWarningPct) / 100 }, "WAIT"],
      [`error rate exactly ${T.errorRateCriticalPct}%: pause (shown above ${T.errorRateWarningPct}%), not rollback`, { stage: 25, newErr: (N * T.errorRateCriticalPct) / 100 }, "PAUSE"],
      [`error rate clearly above ${T.errorRateCriticalPct}% (12 %): rollback`, { stage: 25, newErr: Math.round(N * 0.12) }, "ROLLBACK"],
      [`p95 just below ${T.p95WarningSeconds}s: proceed`, { stage: 10, newSeconds: T.p95WarningSeconds - 0.01 }, "PROCEED"],
      [`p95 exactly ${T.p95WarningSeconds}s: not < ${T.p95WarningSeconds}s, pause`, { stage: 10, newSeconds: T.p95WarningSeconds }, "PAUSE"],
      [`p95 exactly ${T.p95CriticalSeconds}s: pause, not rollback`, { stage: 75, newSeconds: T.p95CriticalSeconds }, "PAUSE"],
      [`p95 just above ${T.p95CriticalSeconds}s: rollback`, { stage: 75, newSeconds: T.p95CriticalSeconds + 0.01 }, "ROLLBACK"],
      ["new error rate shown above legacy by more than the margin (1.9 % vs 0.5 %, below the pause level): pause", { stage: 10, newReq: 9 * N, newErr: Math.round(9 * N * 0.019), legacyReq: 9 * N, legacyErr: Math.round(9 * N * 0.005) }, "PAUSE"],
      ["new error rate above legacy by noise (1.5 % vs 1 % on 1000 each): neither shown within nor beyond the margin: wait", { stage: 10, newErr: Math.round(N * 0.015), legacyReq: N, legacyErr: Math.round(N * 0.01) }, "WAIT"],
      ["one legacy request against 1000 new (issue 10 item 4): wait for the legacy minimum", { stage: 10, legacyReq: 1, legacyErr: 0 }, "WAIT"],
      ["too few requests on the new path: wait", { stage: 10, newReq: G.minNewRequests - 1 }, "WAIT"],
      ["too few users on the new path: wait", { stage: 10, newUsers: G.minNewUsers - 1 }, "WAIT"],
      ["legacy-only traffic at a canary stage: wait", { stage: 10, newReq: 0 }, "WAIT"],
      ["stage 0, legacy-only traffic shown within the baseline (0.5 %): proceed", { stage: 0, legacyErr: Math.round(9 * N * 0.005) }, "PROCEED"],
      [`stage 0, legacy error rate shown above ${T.errorRateWarningPct}% (4 %): pause`, { stage: 0, legacyErr: Math.round(9 * N * 0.04) }, "PAUSE"],
      [`100%: error rate exactly ${T.targetErrorRatePct}% is not shown below the target: wait`, { stage: 100, newErr: (N * T.targetErrorRatePct) / 100 }, "WAIT"],
      [`100%: error rate 3 % is shown to miss the ${T.targetErrorRatePct}% target: pause`, { stage: 100, newErr: Math.round(N * 0.03) }, "PAUSE"],
      [`100%: p95 just below ${T.targetP95Seconds}s meets the target (3000 requests)`, { stage: 100, newReq: 3 * N, newUsers: 3 * U, newSeconds: T.targetP95Seconds - 0.01 }, "PROCEED"],
      ["contamination at stage 0: rollback", { stage: 0, contaminated: true }, "ROLLBACK"],
    ];
    for (const [title, seed, verdict] of cases) {
      it(title, async () => {
        const r = await gate(await seeded(seed));
        assert.equal(r.verdict, verdict, `${r.stdout}\n${r.stderr}`);
      });
    }
  });

  it("status shows configured and deployed stage, history, live views, exposure and the verdict", async () => {
    const url = await seeded({ stage: 10 });
    const r = await rollout("status", "--stack", "prod", "--project-dir", dir, "--database-url", url);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /configured: 0% \(flags off\) in Pulumi\.prod\.yaml/);
    assert.match(r.stdout, /deployed: {3}10% \(flags on\) since .* \(48\.0 h\)/);
    assert.match(r.stdout, /not applied yet|says 0%/);
    assert.doesNotMatch(r.stdout, /error rate by version \(24 h\)/, "the 24 h views are --verbose's");
    assert.match(r.stdout, /exposure: 10\.0% of \d+ distinct users on the new path, configured 10%/);
    assert.match(r.stdout, /verdict: PROCEED/);
    const v = await rollout("status", "--stack", "prod", "--project-dir", dir, "--database-url", url, "--verbose");
    assert.match(v.stdout, /history \(newest first\):/);
    assert.match(v.stdout, /error rate by version \(24 h\)/);
    const j = await rolloutJson("status", "--stack", "prod", "--project-dir", dir, "--database-url", url);
    assert.equal((j.json.exposure as { flagged: boolean }).flagged, false);
  });

  it("status says so when no Docker engine is reachable, and shows what the records say (issue 22, fact 4)", async () => {
    const url = await seeded({ stage: 10 });
    const saved = process.env.DOCKER_HOST;
    const savedContext = process.env.DOCKER_CONTEXT;
    process.env.DOCKER_HOST = `unix://${path.join(os.tmpdir(), "no-such-docker-engine.sock")}`;
    delete process.env.DOCKER_CONTEXT;
    try {
      const r = await rollout("status", "--stack", "prod", "--project-dir", dir, "--database-url", url);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /deployed: {3}10% \(flags on\)/);
      assert.match(r.stdout, /swarm: no engine reachable at unix:\/\/.*no-such-docker-engine\.sock \(.*\); what runs is unknown: the records above are what the last successful `pulumi up` wrote/);
      const j = await rolloutJson("status", "--stack", "prod", "--project-dir", dir, "--database-url", url);
      assert.match(String((j.json.swarm as { unreachable?: string }).unreachable), /no-such-docker-engine/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
      if (savedContext !== undefined) process.env.DOCKER_CONTEXT = savedContext;
    }
  });

  it("status exits 0 whatever the verdict, and its text never claims an exit code it does not exit with (issue 13, item 7)", async () => {
    for (const [seed, verdict, code] of [
      [{ stage: 10, soakHours: SOAK - 1 }, "WAIT", 3],
      [{ stage: 10, contaminated: true }, "ROLLBACK", 5],
    ] as const) {
      const url = await seeded(seed);
      const st = await rollout("status", "--stack", "prod", "--project-dir", dir, "--database-url", url);
      assert.equal(st.code, 0, st.stderr);
      assert.doesNotMatch(st.stdout, /\(exit \d\)/, "status must not print an exit code of its own other than 0");
      assert.match(st.stdout, new RegExp(`verdict: ${verdict} \\(rollout gate would exit ${code}; status exits 0\\)`));
      const g = await rollout("gate", "--stack", "prod", "--project-dir", dir, "--database-url", url);
      assert.equal(g.code, code, g.stderr);
      assert.match(g.stdout, new RegExp(`verdict: ${verdict} \\(exit ${code}\\)`));
    }
  });

  it("works as the monitoring role (SELECT on the views only; no right on agent_sessions or the records table)", async () => {
    const url = await seeded({ stage: 10 });
    const role = `${ROLE_NAMES.monitoring}_${Date.now().toString(36)}`;
    await withClient(url, async (c) => {
      await c.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD 'monitoring-test-pw'`);
      for (const sql of roleGrantStatements("monitoring", role)) await c.query(sql);
    });
    const u = new URL(url);
    u.username = role;
    u.password = "monitoring-test-pw";
    await withClient(u.toString(), async (c) => {
      await assert.rejects(c.query("select * from monitoring.rollout_events"), /permission denied/);
      await assert.rejects(c.query("select * from public.agent_sessions"), /permission denied/);
    });
    const g = await gate(u.toString());
    assert.equal(g.verdict, "PROCEED", g.stdout + g.stderr);
    const st = await rollout("status", "--stack", "prod", "--project-dir", dir, "--database-url", u.toString());
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /deployed: {3}10% \(flags on\)/);
    // The report reads the same, plus the concurrent sessions (sql/0020): the monitoring role may.
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "report-")), "r.html");
    const rep = await rolloutJson("report", "--stack", "prod", "--project-dir", dir, "--database-url", u.toString(), "--out", out);
    assert.equal(rep.code, 0, rep.stderr);
    assert.deepEqual((rep.json.stages as Array<{ stage: number; verdict: string }>).map((s) => [s.stage, s.verdict]), [[10, g.verdict]], "the report judges as the gate does");
    assert.ok(fs.statSync(out).size > 0);
  });

  it("the exposure check flags a share of users far from the configured percentage", async () => {
    const url = await seeded({ stage: 75, newReq: N, legacyReq: 9 * N }); // 10 % of users on the new path at 75 %
    const j = await rolloutJson("status", "--stack", "prod", "--project-dir", dir, "--database-url", url);
    assert.equal((j.json.exposure as { flagged: boolean }).flagged, true);
    // Part of the verdict (issue 10 item 4): the gate waits, and says why.
    const g = await gate(url);
    assert.equal(g.verdict, "WAIT", g.stdout);
    assert.match(g.g?.reasons.join("\n") ?? "", /exposure: .*configured 75%.*the gate waits/);
  });

  describe("advance", () => {
    it("on PROCEED writes the next stage, prints the diff and the commands; then refuses until it is deployed", async () => {
      const url = await seeded({ stage: 0, legacyErr: Math.round(9 * N * 0.005) }); // shown within the baseline
      const before = fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8");
      const dry = await rolloutJson("advance", "--stack", "prod", "--project-dir", dir, "--database-url", url, "--dry-run");
      assert.equal(dry.code, 0, dry.stderr);
      assert.equal(dry.json.advanced, false);
      assert.deepEqual(dry.json.changes, [
        { key: "enableStatelessOrchestration", value: "true" },
        { key: "enableSafeJsonParser", value: "true" },
        { key: "canaryPercentage", value: "10" },
      ]);
      assert.equal(fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8"), before, "a dry run writes nothing");
      const r = await rollout("advance", "--stack", "prod", "--project-dir", dir, "--database-url", url);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^- {2}valuecanvas:canaryPercentage: "0"$/m);
      assert.match(r.stdout, /^\+ {2}valuecanvas:canaryPercentage: "10"$/m);
      assert.match(r.stdout, /git add Pulumi\.prod\.yaml && git commit/);
      // the RUNBOOK's workflow: a branch, the commit, the push, the pull request (whose merge runs pulumi up)
      assert.match(r.stdout, /^ {2}git switch -c rollout\/prod-10 /m);
      assert.match(r.stdout, /^ {2}git push -u origin rollout\/prod-10$/m);
      assert.match(r.stdout, /^ {2}gh pr create --fill /m);
      assert.doesNotMatch(r.stdout, /^ {2}pulumi (preview|up)/m);
      const after = fs.readFileSync(path.join(dir, "Pulumi.prod.yaml"), "utf8");
      assert.equal(after, before.replace(/("false")/g, '"true"').replace('canaryPercentage: "0"', 'canaryPercentage: "10"'));
      // The stack file now says 10 % but 0 % is deployed: advancing again is refused, nothing written.
      const snap = snapshot(dir);
      const again = await rollout("advance", "--stack", "prod", "--project-dir", dir, "--database-url", url);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /not applied yet/);
      assert.deepEqual(snapshot(dir), snap);
    });
    it("on WAIT, PAUSE or ROLLBACK leaves the stack file untouched and exits with the verdict", async () => {
      for (const [seed, code] of [[{ stage: 0, soakHours: SOAK / 2 }, 3], [{ stage: 0, legacyErr: Math.round(9 * N * 0.04) }, 4], [{ stage: 0, contaminated: true }, 5]] as Array<[Seed, number]>) {
        const url = await seeded(seed);
        const snap = snapshot(dir);
        const r = await rolloutJson("advance", "--stack", "prod", "--project-dir", dir, "--database-url", url);
        assert.equal(r.code, code, r.stdout);
        assert.equal(r.json.advanced, false);
        assert.deepEqual(snapshot(dir), snap);
      }
    });
    it("a hold (issue 25): gate says PAUSE naming it, advance writes nothing (--force skips stages, never the gate), status shows it; release lets the gate PROCEED", async () => {
      const url = await seeded({ stage: 10 });
      // The stack file says what is deployed (10 %, flags on), so only the hold can stop advance.
      const file = path.join(dir, "Pulumi.prod.yaml");
      fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/("false")/g, '"true"').replace('canaryPercentage: "0"', 'canaryPercentage: "10"'));
      assert.equal((await gate(url)).verdict, "PROCEED");
      assert.equal((await rollout("advance", "--stack", "prod", "--project-dir", dir, "--database-url", url, "--dry-run")).code, 0, "the control: unheld, advance would write");
      const h = await rollout("hold", "--stack", "prod", "--project-dir", dir, "--reason", "bug #12: exports fail", "--by", "Jane Doe");
      assert.equal(h.code, 0, h.stderr);
      const held = await gate(url);
      assert.equal(held.code, 4);
      assert.equal(held.verdict, "PAUSE");
      assert.equal(held.g?.metricVerdict, "PROCEED");
      assert.equal(held.g?.hold?.by, "Jane Doe");
      assert.match(held.g?.reasons[0] ?? "", /^the rollout is held by Jane Doe since \S+: bug #12: exports fail \(rollout hold\)/);
      const text = await rollout("gate", "--stack", "prod", "--project-dir", dir, "--database-url", url);
      assert.match(text.stdout, /^hold: {7}held by Jane Doe since \S+: bug #12: exports fail \(remove it with: npx rollout release --stack prod\)$/m);
      assert.match(text.stdout, /^next: the rollout is held by Jane Doe .*rollout release/m);
      const snap = snapshot(dir);
      for (const extra of [[], ["--to", "50", "--force", "--reason", "we are sure"]]) {
        const a = await rolloutJson("advance", "--stack", "prod", "--project-dir", dir, "--database-url", url, ...extra);
        assert.equal(a.code, 4, `advance ${extra.join(" ")}: ${a.stderr}`);
        assert.equal(a.json.advanced, false);
      }
      assert.deepEqual(snapshot(dir), snap, "a held stack's file is not advanced");
      const st = await rollout("status", "--stack", "prod", "--project-dir", dir, "--database-url", url);
      assert.equal(st.code, 0);
      assert.match(st.stdout, /^hold: {7}held by Jane Doe/m);
      assert.match(st.stdout, /^verdict: PAUSE \(rollout gate would exit 4; status exits 0\)$/m);
      assert.equal((await rollout("release", "--stack", "prod", "--project-dir", dir)).code, 0);
      const released = await gate(url);
      assert.equal(released.verdict, "PROCEED");
      assert.equal(released.g?.hold, null);
    });
    it("after 100 % has run its soak with every criterion met, status says the rollout is complete and what the guide says next; advance proposes nothing", async () => {
      const url = await seeded({ stage: 100 });
      const st = await rollout("status", "--stack", "prod", "--project-dir", dir, "--database-url", url);
      assert.equal(st.code, 0, st.stderr);
      assert.match(st.stdout, /^verdict: PROCEED/m);
      assert.match(st.stdout, /^rollout complete: the guide's 48 hours stable operation at 100% is met$/m);
      assert.match(st.stdout, /^next, in the app .*1\. remove the legacy code path; 2\. only after that ships, remove the flags/m);
      assert.match(st.stdout, /^keep the stack file at 100% with both flags on until then/m);
      const g = await gate(url);
      assert.equal(g.g?.fullRollout?.met, true);
      assert.equal(g.g?.suggestedCommand, null);
    });
    it("refuses to skip a stage without --force and a reason (usage error, before any database access)", async () => {
      const snap = snapshot(dir);
      const r = await rollout("advance", "--stack", "prod", "--project-dir", dir, "--to", String(STAGES[3]), "--database-url", "postgres://nobody@127.0.0.1:1/none");
      assert.equal(r.code, 2);
      assert.match(r.stderr, /refusing to skip from 0% to 50%: the next stage is 10%/);
      const f = await rollout("advance", "--stack", "prod", "--project-dir", dir, "--to", "50", "--force");
      assert.equal(f.code, 2);
      assert.match(f.stderr, /--force needs --reason/);
      assert.deepEqual(snapshot(dir), snap);
    });
  });

  describe("rollback (no database needed)", () => {
    it("--immediate turns both flags off and prints the commands to apply", async () => {
      const r = await rolloutJson("rollback", "--stack", "dev", "--project-dir", dir, "--immediate");
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.json.changes, [
        { key: "enableStatelessOrchestration", value: "false" },
        { key: "enableSafeJsonParser", value: "false" },
      ]);
      const t = await rollout("rollback", "--stack", "dev", "--project-dir", dir);
      assert.equal(t.code, 2, "flags off: the effective stage is 0, nothing to step back");
    });
    it("gradual steps back one stage and prints the RUNBOOK's workflow: branch, commit, push, pull request (the merge runs pulumi up)", async () => {
      const r = await rollout("rollback", "--stack", "dev", "--project-dir", dir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /gradual rollback 10% -> 0%/);
      assert.match(r.stdout, /^ {2}git push -u origin rollback\/dev-0$/m);
      assert.doesNotMatch(r.stdout, /^ {2}pulumi (up|preview)/m);
    });
  });

  describe("bad input: a clear error, its exit code, every file untouched", () => {
    it("an unknown stack", async () => {
      const snap = snapshot(dir);
      for (const cmd of ["gate", "status", "advance", "rollback"]) {
        const db = cmd === "rollback" ? [] : ["--database-url", "postgres://x@127.0.0.1:1/x"];
        const r = await rolloutJson(cmd, "--stack", "prdo", "--project-dir", dir, ...db);
        assert.equal(r.code, 1, cmd);
        assert.match(String((r.json.error as { message: string }).message), /unknown stack "prdo": there is no Pulumi\.prdo\.yaml\. Stacks here: dev, prod, staging/);
      }
      assert.deepEqual(snapshot(dir), snap);
    });
    it("a corrupt YAML file", async () => {
      fs.appendFileSync(path.join(dir, "Pulumi.prod.yaml"), "  broken: [unclosed\n");
      const snap = snapshot(dir);
      const db = ["--database-url", "postgres://x@127.0.0.1:1/x"];
      for (const args of [["advance", ...db], ["rollback", "--immediate"], ["gate", ...db]]) {
        const r = await rollout(...args, "--stack", "prod", "--project-dir", dir);
        assert.equal(r.code, 1, args.join(" "));
        assert.match(r.stderr, /Pulumi\.prod\.yaml line 25, column 11: a flow collection/);
      }
      assert.deepEqual(snapshot(dir), snap);
    });
    it("an unreachable database (a closed loopback port)", async () => {
      const port = await freeLoopbackPort();
      const snap = snapshot(dir);
      for (const cmd of ["gate", "status", "advance"]) {
        const r = await rolloutJson(cmd, "--stack", "prod", "--project-dir", dir, "--database-url", `postgres://u:secret-pw@127.0.0.1:${port}/db`);
        assert.equal(r.code, 1, cmd);
        const msg = (r.json.error as { message: string }).message;
        assert.match(msg, new RegExp(`cannot reach the database at postgres://u:\\[secret\\]@127\\.0\\.0\\.1:${port}/db: connection refused`));
        assert.ok(!r.stdout.includes("secret-pw") && !r.stderr.includes("secret-pw"), "the password is never printed");
      }
      assert.deepEqual(snapshot(dir), snap);
    });
    it("a database without the records table (migrations not applied)", async () => {
      const url = await (await sharedPostgres()).createDatabase();
      const snap = snapshot(dir);
      for (const cmd of ["gate", "advance"]) {
        const r = await rollout(cmd, "--stack", "prod", "--project-dir", dir, "--database-url", url);
        assert.equal(r.code, 1, cmd);
        assert.match(r.stderr, /does not exist: the rollout records table \(monitoring\.rollout_events\) or its functions are missing\. Apply the migrations first/);
      }
      assert.deepEqual(snapshot(dir), snap);
    });
    it("no database URL anywhere", async () => {
      const saved = { a: process.env.ROLLOUT_DATABASE_URL, b: process.env.DATABASE_URL };
      delete process.env.ROLLOUT_DATABASE_URL;
      delete process.env.DATABASE_URL;
      try {
        const r = await rollout("gate", "--stack", "prod", "--project-dir", dir);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /no database: pass --database-url/);
      } finally {
        if (saved.a !== undefined) process.env.ROLLOUT_DATABASE_URL = saved.a;
        if (saved.b !== undefined) process.env.DATABASE_URL = saved.b;
      }
    });
  });
});

describe("rollout CLI: parsing", () => {
  it("createRolloutCli() parses without running anything", () => {
    const cli = createRolloutCli();
    cli.parse(["node", "rollout", "advance", "--stack", "prod", "--to", "25", "--force", "--reason", "tested"]);
    assert.deepEqual(parsedInvocation(cli), {
      command: "advance",
      options: { stack: "prod", json: false, verbose: false, to: 25, force: true, reason: "tested", dryRun: false },
    });
    const d = createRolloutCli();
    d.parse(["node", "rollout", "drill", "--inject", "latency"]);
    assert.equal(parsedInvocation(d)?.command, "drill");
  });

  it("every command has --help (exit 0)", async () => {
    for (const cmd of ["status", "gate", "advance", "rollback", "drill", "propose"]) {
      const r = await rollout(cmd, "--help");
      assert.equal(r.code, 0, cmd);
      assert.match(r.stdout, new RegExp(`Usage: rollout ${cmd} \\[options\\]`));
    }
    const top = await rollout("--help");
    assert.match(top.stdout, /Exit codes: 0 PROCEED \(or success\), 1 error, 2 usage error, 3 WAIT, 4 PAUSE, 5 ROLLBACK/);
  });

  it("bad arguments are usage errors (exit 2) naming the argument, the value and what is allowed", async () => {
    const r = await rollout("advance", "--stack", "prod", "--to", "33");
    assert.equal(r.code, 2);
    assert.match(r.stderr, /'--to <stage>' argument '33' is invalid\. "33" is not a stage; allowed: 0, 10, 25, 50, 75, 100/);
    const i = await rolloutJson("drill", "--inject", "meteor");
    assert.equal(i.code, 2);
    assert.match(String((i.json.error as { message: string }).message), /Allowed choices are error-spike, latency, contamination/);
    assert.equal((await rollout("gate")).code, 2, "--stack is required");
    assert.equal((await rollout("frobnicate")).code, 2);
    const at = await rollout("drill", "--inject-at", "25");
    assert.equal(at.code, 2);
    assert.match(at.stderr, /--inject-at needs --inject/);
  });
});
