/**
 * Issue 13 §3 items 1 and 10: one command-line convention for every entry point (cli/convention.ts).
 * - a misspelt option is reported, with a did-you-mean suggestion, before a missing required one;
 * - a missing required option is still reported when nothing is misspelt;
 * - an unknown command exits 2 (a usage error), with and without --json.
 * In-process: each entry point's own main, with its output captured.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { main as migrateMain } from "../../cli/migrate";
import { main as planMain } from "../../cli/plan";
import { main as renderMain } from "../../cli/render";
import { main as rolloutMain } from "../../cli/rollout";
import { main as verifyMain } from "../../cli/verify";
import { createChangedStacksCli } from "../../cli/changed-stacks";
import { createDeployTargetCli } from "../../cli/deploy-target";
import { createGateConfigCli } from "../../cli/gate-config";
import { createPrCommentCli } from "../../cli/pr-comment";
import { createRunbookCli } from "../../cli/runbook";
import { exitWithMain, runScriptMain } from "../../cli/runScript";

interface Run {
  code: number;
  out: string;
  err: string;
}

interface EntryPoint {
  name: string;
  run(args: string[]): Promise<Run>;
  /** A misspelt option (with the required options otherwise missing) and the option it should suggest. */
  typo: { args: string[]; suggests: string };
  /** Arguments that leave out a required option, when the command has one. */
  missing?: { args: string[]; option: string };
}

/** Run an entry point with its output captured. */
async function captured(run: (io: { out(s: string): void; err(s: string): void }) => number | undefined | Promise<number | undefined>): Promise<Run> {
  let out = "";
  let err = "";
  const code = (await run({ out: (s) => (out += s), err: (s) => (err += s) })) ?? 0;
  return { code, out, err };
}

function script(name: string, create: () => import("commander").Command): EntryPoint["run"] {
  return (args) => captured((io) => runScriptMain(name, create(), ["node", name, ...args], io));
}

const ENTRY_POINTS: EntryPoint[] = [
  {
    name: "rollout",
    run: (args) => captured((io) => rolloutMain(["node", "rollout", ...args], io)),
    typo: { args: ["status", "--stak", "prod"], suggests: "--stack" },
    missing: { args: ["status"], option: "--stack <name>" },
  },
  {
    name: "plan",
    run: (args) => captured((io) => planMain(["node", "plan", ...args], io)),
    typo: { args: ["--stak", "prod"], suggests: "--stack" },
    missing: { args: [], option: "--stack <name>" },
  },
  {
    name: "render",
    run: (args) => captured((io) => renderMain(["node", "render", ...args], io)),
    typo: { args: ["--stak", "prod", "--out", "x"], suggests: "--stack" },
    missing: { args: ["--out", "x"], option: "--stack <name>" },
  },
  {
    name: "verify",
    run: (args) => captured((io) => verifyMain(["node", "verify", ...args], io)),
    typo: { args: ["--lst"], suggests: "--list" },
  },
  {
    name: "migrate",
    run: (args) => captured((io) => migrateMain(["node", "migrate", ...args], { DATABASE_URL: "postgres://u:s3cret@127.0.0.1:1/x" }, io)),
    typo: { args: ["--hlep"], suggests: "--help" },
  },
  {
    name: "changed-stacks",
    run: script("changed-stacks", createChangedStacksCli),
    typo: { args: ["--bsae", "a", "--head", "b"], suggests: "--base" },
    missing: { args: ["--head", "b"], option: "--base <commit>" },
  },
  {
    name: "deploy-target",
    run: script("deploy-target", createDeployTargetCli),
    typo: { args: ["--stak", "prod"], suggests: "--stack" },
    missing: { args: [], option: "--stack <stack>" },
  },
  {
    name: "gate-config",
    run: script("gate-config", createGateConfigCli),
    typo: { args: ["--stak", "prod", "--base", "a", "--head", "b"], suggests: "--stack" },
    missing: { args: ["--base", "a", "--head", "b", "--out", "o"], option: "--stack <stack>" },
  },
  {
    name: "pr-comment",
    run: script("pr-comment", () => createPrCommentCli({})),
    typo: { args: ["--stak", "prod"], suggests: "--stack" },
    missing: { args: ["--changes", "c.json", "--out", "o.md"], option: "--stack <stack>" },
  },
  {
    name: "docs:runbook",
    run: script("docs:runbook", createRunbookCli),
    typo: { args: ["--chek"], suggests: "--check" },
  },
];

describe("one command-line convention for every entry point (issue 13 §3 items 1, 10)", () => {
  for (const e of ENTRY_POINTS) {
    describe(e.name, () => {
      it(`a misspelt option is named with a suggestion, before any missing required option, exit 2`, async () => {
        const r = await e.run(e.typo.args);
        assert.equal(r.code, 2, r.err);
        const typo = e.typo.args.find((a) => a.startsWith("--") && a !== e.typo.suggests && !/^--(out|base|head)$/.test(a))!;
        assert.match(r.err, new RegExp(`unknown option '${typo}'[\\s\\S]*Did you mean ${e.typo.suggests}\\?`));
        assert.doesNotMatch(r.err, /required option/);
      });
      if (e.missing) {
        const m = e.missing;
        it(`a missing required option is still reported when nothing is misspelt, exit 2`, async () => {
          const r = await e.run(m.args);
          assert.equal(r.code, 2, r.err);
          assert.match(r.err, new RegExp(`required option '${m.option.replace(/[<>]/g, "\\$&")}' not specified`));
        });
      }
      it(`--help prints the usage and exits 0`, async () => {
        const r = await e.run(["--help"]);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /^Usage: /m);
      });
      it(`an unknown command exits 2, with and without --json`, async () => {
        for (const json of [[], ["--json"]]) {
          const r = await e.run(["bogus-command", ...json]);
          assert.equal(r.code, 2, `${e.name} bogus-command ${json.join(" ")}: ${r.err}`);
          assert.match(r.err, /unknown command|too many arguments|unknown option '--json'/);
        }
      });
    });
  }

  it("migrate --help (issue 13 §3 item 11) names its environment and exit codes, and never the URL", async () => {
    const r = await ENTRY_POINTS.find((e) => e.name === "migrate")!.run(["--help"]);
    assert.equal(r.code, 0, r.err);
    for (const v of ["DATABASE_URL", "MIGRATIONS_DIR", "MIGRATE_LOCK_WAIT_SECONDS", "Exit codes: 0", "2 usage error"]) assert.ok(r.out.includes(v), v);
    assert.ok(!(r.out + r.err).includes("s3cret"), "the URL is not printed");
  });

  it("npm run migrate -- --help, through the real entry point, prints the help and touches no database", function () {
    this.timeout(60_000);
    const r = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", path.join(__dirname, "..", "..", "cli", "migrate.ts"), "--help"], {
      env: { ...process.env, DATABASE_URL: "postgres://u:s3cret@127.0.0.1:1/x" },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: migrate/m);
    assert.match(r.stdout, /MIGRATE_LOCK_WAIT_SECONDS/);
    assert.ok(!(r.stdout + r.stderr).includes("s3cret"));
  });

  it("exitWithMain, the entry point of migrate (error message) and plan (error stack): exits with main's code, or 1 after one line", async () => {
    for (const [name, detail] of [["migrate", "message"], ["plan", "stack"]] as const) {
      const seen: { err: string; exits: number[] } = { err: "", exits: [] };
      const io = { err: (s: string) => (seen.err += s), exit: (code: number) => void seen.exits.push(code) };
      await exitWithMain(name, async () => 3, detail, io);
      assert.deepEqual(seen, { err: "", exits: [3] });
      const boom = new Error("boom");
      await exitWithMain(name, () => Promise.reject(boom), detail, io);
      await exitWithMain(name, () => Promise.reject("not an Error"), detail, io);
      assert.deepEqual(seen.exits, [3, 1, 1]);
      assert.equal(seen.err, `${name}: unexpected error: ${detail === "message" ? "boom" : boom.stack}\n${name}: unexpected error: not an Error\n`);
    }
  });

  it("npm run plan, through the real entry point, exits with main's usage code (2) for a misspelt option", function () {
    this.timeout(60_000);
    const r = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", path.join(__dirname, "..", "..", "cli", "plan.ts"), "--stak", "prod"], { encoding: "utf8" });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /unknown option '--stak'/);
  });

  it("rollout --json reports a usage error as JSON on stdout", async () => {
    const r = await ENTRY_POINTS[0].run(["status", "--stak", "prod", "--json"]);
    assert.equal(r.code, 2);
    const j = JSON.parse(r.out) as { ok: boolean; exitCode: number; error: { message: string } };
    assert.equal(j.ok, false);
    assert.equal(j.exitCode, 2);
    assert.match(j.error.message, /unknown option '--stak'/);
  });
});
