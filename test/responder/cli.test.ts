/**
 * `rollout responder` on the command line (cli/rollout.ts, in process): its usage errors, its refusal of a
 * token file others may read (naming the file and its mode, never the token), and a run that listens,
 * refuses a request without the bearer token, and stops on SIGTERM with exit 0.
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../cli/rollout";
import { freePort } from "../support/postgres";

const ROOT = path.resolve(__dirname, "..", "..");
const GH = "ghs_cliTestToken0123456789";
const BEARER = "cli-bearer-0123456789abcdef";

describe("responder: rollout responder on the command line", function () {
  this.timeout(60_000);
  let dir = "";
  const files = () => ({ gh: path.join(dir, "gh"), bearer: path.join(dir, "bearer") });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "responder-cli-"));
    fs.writeFileSync(files().gh, `${GH}\n`, { mode: 0o400 });
    fs.writeFileSync(files().bearer, `${BEARER}\n`, { mode: 0o400 });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = async (...args: string[]) => {
    let out = "";
    let err = "";
    const code = await main(["node", "rollout", "responder", ...args], { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
  };
  const tokens = () => ["--github-token-file", files().gh, "--bearer-token-file", files().bearer];

  it("usage errors exit 2 and say what is allowed", async () => {
    const noRepo = await run("--stack", "prod", ...tokens());
    assert.equal(noRepo.code, 2);
    assert.match(noRepo.err, /--repo/);
    const badListen = await run("--stack", "prod", "--repo", "o/r", "--listen", "0.0.0.0:99999", ...tokens());
    assert.equal(badListen.code, 2);
    assert.match(badListen.err, /"0\.0\.0\.0:99999" is not host:port/);
    const badStack = await run("--stack", "../prod", "--repo", "o/r", ...tokens());
    assert.equal(badStack.code, 2);
  });

  it("refuses a token file others may read, or a missing one: exit 1, the file named, the token never shown", async () => {
    fs.chmodSync(files().gh, 0o644);
    const r = await run("--stack", "prod", "--repo", "o/r", ...tokens());
    assert.equal(r.code, 1);
    assert.match(r.err, /--github-token-file: .* has mode 0644; allowed: readable by its owner only/);
    assert.ok(!(r.err + r.out).includes(GH));
    const missing = await run("--stack", "prod", "--repo", "o/r", "--github-token-file", path.join(dir, "none"), "--bearer-token-file", files().bearer);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /does not exist/);
  });

  it("listens, refuses a request without the bearer token, and stops on SIGTERM with exit 0", async function () {
    // In a process of its own: a SIGTERM emitted in mocha's process would reach every other listener there too
    // (a CI run's shared PostgreSQL and the harness's cleanup stopped the whole run once).
    this.timeout(60_000);
    const port = await freePort();
    const args = ["node", "rollout", "responder", "--stack", "prod", "--repo", "o/r", "--listen", `127.0.0.1:${port}`, ...tokens()];
    const script = `require(${JSON.stringify(path.join(ROOT, "cli", "rollout.ts"))}).main(${JSON.stringify(args)}).then((c) => process.exit(c))`;
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      for (let i = 0; i < 600 && !err.includes("listening"); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(err, /listening on 127\.0\.0\.1:\d+\/alerts/);
      const res = await fetch(`http://127.0.0.1:${port}/alerts`, { method: "POST", body: "{}", headers: { authorization: `Bearer ${GH}` } });
      assert.equal(res.status, 401);
      child.kill("SIGTERM");
      assert.equal(await exited, 0, err);
      assert.ok(!err.includes(GH) && !err.includes(BEARER), err);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
