/**
 * `rollout responder` on the command line (cli/rollout.ts, in process): its usage errors, its refusal of a
 * token file others may read (naming the file and its mode, never the token), and a run that listens,
 * refuses a request without the bearer token, and stops on SIGTERM with exit 0.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../cli/rollout";
import { freePort } from "../support/postgres";

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

  it("listens, refuses a request without the bearer token, and stops on SIGTERM with exit 0", async () => {
    const port = await freePort();
    let err = "";
    const done = main(["node", "rollout", "responder", "--stack", "prod", "--repo", "o/r", "--listen", `127.0.0.1:${port}`, ...tokens()], { out: () => undefined, err: (s) => (err += s) });
    for (let i = 0; i < 200 && !err.includes("listening"); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(err, /listening on 127\.0\.0\.1:\d+\/alerts/);
    const res = await fetch(`http://127.0.0.1:${port}/alerts`, { method: "POST", body: "{}", headers: { authorization: `Bearer ${GH}` } });
    assert.equal(res.status, 401);
    const listeners = process.listenerCount("SIGINT");
    process.emit("SIGTERM");
    assert.equal(await done, 0);
    assert.equal(process.listenerCount("SIGINT"), listeners - 1, "no signal listener left behind");
    assert.ok(!err.includes(GH) && !err.includes(BEARER), err);
  });
});
