/**
 * Typical mistakes at the `rollout` command line (issue 24): each answers with its error line and, for a
 * usage error, `run 'rollout <cmd> --help'`, never the whole help; with --json, one object that names the
 * command. Runs main() in-process: nothing here reaches a database.
 */
import { strict as assert } from "node:assert";
import { main } from "../../cli/rollout";

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const saved = { a: process.env.ROLLOUT_DATABASE_URL, b: process.env.DATABASE_URL, t: process.env.GITHUB_TOKEN, r: process.env.GITHUB_REPOSITORY };
  delete process.env.ROLLOUT_DATABASE_URL;
  delete process.env.DATABASE_URL;
  delete process.env.GITHUB_TOKEN;
  delete process.env.GITHUB_REPOSITORY;
  try {
    const code = await main(["node", "rollout", ...args], { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
  } finally {
    if (saved.a !== undefined) process.env.ROLLOUT_DATABASE_URL = saved.a;
    if (saved.b !== undefined) process.env.DATABASE_URL = saved.b;
    if (saved.t !== undefined) process.env.GITHUB_TOKEN = saved.t;
    if (saved.r !== undefined) process.env.GITHUB_REPOSITORY = saved.r;
  }
}

const MISTAKES: { args: string[]; command: string | null; code: number; says: RegExp; hint: string | null }[] = [
  { args: ["frobnicate"], command: null, code: 2, says: /unknown command 'frobnicate'/, hint: "run 'rollout --help'" },
  { args: ["gate", "--stak", "prod"], command: "gate", code: 2, says: /unknown option '--stak'/, hint: "run 'rollout gate --help'" },
  { args: ["advance", "--stack", "prod", "--to", "33"], command: "advance", code: 2, says: /"33" is not a stage; allowed: 0, 10, 25, 50, 75, 100/, hint: "run 'rollout advance --help'" },
  { args: ["gate", "--stack", "prod"], command: "gate", code: 2, says: /^rollout gate: no database: pass --database-url/, hint: "run 'rollout gate --help'" },
  { args: ["advance", "--stack", "prod", "--force"], command: "advance", code: 2, says: /--force needs --reason/, hint: "run 'rollout advance --help'" },
  { args: ["propose", "--stack", "prod", "--database-url", "postgres://u@127.0.0.1:1/none"], command: "propose", code: 2, says: /^rollout propose: GITHUB_TOKEN is not set: the GitHub token is read from that environment variable only/, hint: "run 'rollout propose --help'" },
  { args: ["propose", "--stack", "prod"], command: "propose", code: 2, says: /^rollout propose: no database: pass --database-url/, hint: "run 'rollout propose --help'" },
  { args: ["propose", "--stack", "prod", "--base", "main..evil"], command: "propose", code: 2, says: /"main\.\.evil" is not a branch name/, hint: "run 'rollout propose --help'" },
  { args: ["propose", "--stack", "prod", "--remote", "--upload-pack=touch x"], command: "propose", code: 2, says: /"--upload-pack=touch x" is not a remote name/, hint: "run 'rollout propose --help'" },
  { args: ["status", "--stack", "qa", "--database-url", "postgres://u@127.0.0.1:1/none"], command: "status", code: 1, says: /^rollout status: .*Pulumi\.qa\.yaml/, hint: null },
];

describe("rollout: a mistake is its line and where the help is", () => {
  for (const m of MISTAKES) {
    it(`rollout ${m.args.join(" ")}: exit ${m.code}, ${m.hint === null ? "one line" : "the error and the hint"}, never the whole help`, async () => {
      const r = await run(...m.args);
      assert.equal(r.code, m.code, r.err);
      assert.equal(r.out, "");
      const lines = r.err.trimEnd().split("\n");
      assert.ok(lines.length <= 3, r.err);
      assert.match(r.err, m.says);
      assert.doesNotMatch(r.err, /Usage:|Options:|Commands:/);
      if (m.hint !== null) assert.equal(lines[lines.length - 1], m.hint);
    });

    it(`rollout ${m.args.join(" ")} --json: one object naming the command`, async () => {
      const r = await run(...m.args, "--json");
      assert.equal(r.code, m.code);
      const j = JSON.parse(r.out) as { ok: boolean; exitCode: number; command: string | null; error: { message: string } };
      assert.equal(j.ok, false);
      assert.equal(j.exitCode, m.code);
      assert.ok("command" in j, r.out);
      assert.equal(j.command, m.command);
    });
  }
});
