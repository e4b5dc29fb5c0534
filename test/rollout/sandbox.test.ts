/**
 * `rollout sandbox` (issue 13 §2), through the real entry point (`npx rollout`):
 * it leaves a PostgreSQL running after the command has exited, prints the URL
 * and the commands to try, each of which exits with the code printed beside
 * it and touches no tracked file; the printed stop command ends it, and a
 * second stop says there is nothing to stop (exit 0). Bad inputs change nothing.
 * A stale or rewritten postmaster.pid gets no process signalled.
 *
 * Each test has its own TMPDIR, so the sandbox folder is the test's; the hooks
 * stop any PostgreSQL left there (through its postmaster.pid), even when a test
 * fails half-way.
 */
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { main } from "../../cli/rollout";
import { shellCommands } from "../../tools/docCommands";
import { processRunning, runningPostmaster, stopDetachedPostgres } from "../../db/embeddedPostgres";
import { STATE_FILE, sandboxDir } from "../../drill/sandbox";
import { SANDBOX_STAGES, exitComment, sandboxCommands, withProjectDir } from "../../core/sandboxCommands";
import { PROJECT_DIR } from "./support";

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Run argv (no shell) and wait for it to exit; killed after `timeoutMs`. */
function runArgv(argv: string[], env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: PROJECT_DIR, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out, err });
    });
  });
}

/** What must not change: git's view of the worktree, and every stack file's bytes. */
function trackedSnapshot(): string {
  const git = spawnSync("git", ["status", "--porcelain", "--untracked-files=all"], { cwd: PROJECT_DIR, encoding: "utf8" });
  assert.equal(git.status, 0, git.stderr);
  const stacks = fs.readdirSync(PROJECT_DIR).filter((f) => /^Pulumi(\..+)?\.yaml$/.test(f)).sort();
  return git.stdout + stacks.map((f) => `${f} ${createHash("sha256").update(fs.readFileSync(path.join(PROJECT_DIR, f))).digest("hex")}`).join("\n");
}

/** Running: neither gone nor a zombie nobody reaps (db/embeddedPostgres.ts). */
const isAlive = processRunning;

/** A TMPDIR of the test's own (reachable by the postgres user when we are root), and the env the commands get. */
function scratchTmp(): { tmp: string; env: NodeJS.ProcessEnv } {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-test-"));
  fs.chmodSync(tmp, 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  delete env.ROLLOUT_DATABASE_URL;
  delete env.DATABASE_URL;
  return { tmp, env };
}

/** Stop whatever server the test's sandbox left, and remove the test's TMPDIR. Safe to call any number of times. */
async function cleanUp(tmp: string | undefined): Promise<void> {
  if (!tmp || !fs.existsSync(tmp)) return;
  await stopDetachedPostgres(path.join(sandboxDir(tmp), "pg", "data"));
  fs.rmSync(tmp, { recursive: true, force: true });
}

interface Printed {
  url: string;
  commands: Array<{ argv: string[]; exitCode: number; line: string }>;
  stop: string[];
}

/** The URL, the commands with their printed exit codes and the stop command, parsed from the output as a user reads it. */
function parsePrinted(out: string): Printed {
  const lines = out.split("\n");
  const exp = lines.map((l) => /^\s+export ROLLOUT_DATABASE_URL=(\S+)$/.exec(l)).find((m) => m);
  assert.ok(exp, `no export line in:\n${out}`);
  const [[, assignment]] = shellCommands(exp[0].trim());
  const url = assignment.slice("ROLLOUT_DATABASE_URL=".length);
  assert.ok(out.includes(`url:      ${url}\n`), "the URL is printed on its own line too");
  const commands = lines
    .map((l) => ({ l, m: /^\s+(npx rollout \S+ .*?)\s+# exit (\d+)\b/.exec(l) }))
    .filter((x) => x.m)
    .map(({ l, m }) => ({ argv: shellCommands(l.trim())[0], exitCode: Number(m![2]), line: l.trim() }));
  const stopAt = lines.findIndex((l) => /^Stop it/.test(l));
  assert.ok(stopAt > 0, "a stop command is printed");
  return { url, commands, stop: shellCommands(lines[stopAt + 1].trim())[0] };
}

async function count(url: string, sql: string): Promise<number> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return Number((await c.query<{ n: string }>(sql)).rows[0].n);
  } finally {
    await c.end();
  }
}

describe("[pg] rollout sandbox", function () {
  this.timeout(900_000);
  let tmp: string | undefined;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    ({ tmp, env } = scratchTmp());
  });
  afterEach(async function () {
    this.timeout(120_000);
    await cleanUp(tmp);
    tmp = undefined;
  });

  it("npx rollout sandbox: PostgreSQL outlives the command; every printed command exits as printed and touches no tracked file; the printed stop ends it; a second stop says there is nothing to stop and exits 0", async () => {
    const before = trackedSnapshot();
    const started = await runArgv(["npx", "rollout", "sandbox"], env);
    assert.equal(started.code, 0, started.out + started.err);
    const p = parsePrinted(started.out);
    const dir = sandboxDir(tmp);
    const state = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")) as { pid: number; url: string; phase: string; projectDir: string };
    assert.equal(state.phase, "running");
    assert.equal(state.url, p.url);
    assert.equal((fs.statSync(path.join(dir, STATE_FILE)).mode & 0o777).toString(8), "600", "the state file holds the password: only its owner reads it");

    // The command has exited; its server still answers, with the drill's records up to the sandbox's stage.
    assert.ok(isAlive(state.pid), "PostgreSQL keeps running after the command exits");
    assert.equal(await runningPostmaster(path.join(dir, "pg", "data")), state.pid);
    assert.equal(await count(p.url, "select count(*) as n from monitoring.rollout_events where stack = 'prod'"), 3, "records for 0, 10 and 25 %");
    assert.ok((await count(p.url, "select count(*) as n from public.agent_sessions")) > 10_000, "the drill's traffic is there");

    assert.deepEqual(p.commands.map((c) => c.argv.slice(0, 3)), [["npx", "rollout", "status"], ["npx", "rollout", "gate"], ["npx", "rollout", "advance"], ["npx", "rollout", "rollback"]]);
    for (const c of p.commands) {
      assert.deepEqual(c.argv.slice(3), ["--stack", "prod", "--project-dir", state.projectDir, ...c.argv.slice(7)], `${c.line}: on the scratch copy`);
      const r = await runArgv(c.argv, { ...env, ROLLOUT_DATABASE_URL: p.url });
      assert.equal(r.code, c.exitCode, `${c.line}\nexited ${r.code}:\n${r.out}${r.err}`);
      if (c.argv[2] === "gate") assert.match(r.out, new RegExp(`next: npx rollout advance --stack prod --project-dir ${state.projectDir.replace(/[/.]/g, "\\$&")}\\n`), "the hint names the scratch copy too");
    }
    assert.equal(trackedSnapshot(), before, "no tracked file changed");
    assert.match(fs.readFileSync(path.join(state.projectDir, "Pulumi.prod.yaml"), "utf8"), /valuecanvas:canaryPercentage: "25"/, "advance then rollback: the copy is back at 25 %");

    // A second sandbox is refused while one runs, and changes nothing.
    const again = await runArgv(["npx", "rollout", "sandbox", "--at", "50"], env);
    assert.equal(again.code, 1);
    assert.match(again.err, new RegExp(`a sandbox is already running \\(PostgreSQL pid ${state.pid} .*stop it first with: npx rollout sandbox --stop`));
    assert.ok(isAlive(state.pid));

    assert.deepEqual(p.stop, ["npx", "rollout", "sandbox", "--stop"]);
    const stopped = await runArgv(p.stop, env);
    assert.equal(stopped.code, 0, stopped.err);
    assert.match(stopped.out, new RegExp(`stopped PostgreSQL \\(pid ${state.pid}\\) and removed ${dir.replace(/[/.]/g, "\\$&")}`));
    assert.equal(isAlive(state.pid), false, "PostgreSQL is stopped");
    assert.equal(fs.existsSync(dir), false, "its data and the scratch copy are removed");

    const twice = await runArgv(p.stop, env);
    assert.equal(twice.code, 0, "a stop with nothing to stop succeeds (issue 24)");
    assert.match(twice.out, /rollout sandbox: no sandbox is running \(there is no .*sandbox\.json\): nothing to stop/);
    assert.equal(trackedSnapshot(), before);
  });

  it("the newcomer path, as the README writes it (issue 24): its main command, the sandbox and each printed command, the report on the sandbox, five typical mistakes, the stop", async () => {
    const before = trackedSnapshot();
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
    // 1. The README's first block: its main command (npm ci has run: this suite runs on its install).
    const block = /```bash\n([\s\S]*?)```/.exec(readme);
    assert.ok(block, "the README starts with a bash block");
    const mainLine = block[1].split("\n")[0].replace(/\s+#.*$/, "");
    const steps = mainLine.split(" && ").map((c) => shellCommands(c)[0]);
    assert.deepEqual(steps.map((a) => a.slice(0, 2)), [["npm", "ci"], ["npx", "rollout"]], mainLine);
    const drill = await runArgv(steps[1], env);
    assert.equal(drill.code, 0, drill.out + drill.err);
    assert.match(drill.out, /\b100\s*%/, "the drill reaches 100 %");

    // 2. The sandbox, as the README names it; every command it prints exits as printed.
    const sandboxLine = /`(npx rollout sandbox)`/.exec(readme);
    assert.ok(sandboxLine, "the README names the sandbox command");
    const started = await runArgv(shellCommands(sandboxLine[1])[0], env);
    assert.equal(started.code, 0, started.out + started.err);
    const p = parsePrinted(started.out);
    const withDb = { ...env, ROLLOUT_DATABASE_URL: p.url };
    const projectDir = p.commands[0].argv[p.commands[0].argv.indexOf("--project-dir") + 1];
    for (const c of p.commands) {
      const r = await runArgv(c.argv, withDb);
      assert.equal(r.code, c.exitCode, `${c.line}\nexited ${r.code}:\n${r.out}${r.err}`);
    }

    // 3. The report, as the README writes it, on the sandbox's records (written to the test's folder, not out/).
    const reportLine = /`(npx rollout report --stack prod --out \S+)`/.exec(readme);
    assert.ok(reportLine, "the README names the report command");
    const reportArgv = shellCommands(reportLine[1])[0];
    const reportFile = path.join(tmp as string, "rollout-report.html");
    reportArgv[reportArgv.indexOf("--out") + 1] = reportFile;
    const report = await runArgv([...reportArgv, "--project-dir", projectDir], withDb);
    assert.equal(report.code, 0, report.out + report.err);
    const html = fs.readFileSync(reportFile, "utf8");
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, /prod/);

    // 4. Five typical mistakes: each one line saying what is wrong and what is allowed (then the hint), the
    //    exit code of the README's table, and nothing changed.
    const mistakes: Array<{ argv: string[]; env: NodeJS.ProcessEnv; code: number; says: RegExp }> = [
      { argv: ["npx", "rollout", "stauts"], env: withDb, code: 2, says: /^error: unknown command 'stauts'\n\(Did you mean status\?\)\nrun 'rollout --help'\n$/ },
      { argv: ["npx", "rollout", "status", "--stak", "prod"], env: withDb, code: 2, says: /^error: unknown option '--stak'\n\(Did you mean --stack\?\)\nrun 'rollout status --help'\n$/ },
      { argv: ["npx", "rollout", "advance", "--stack", "prod", "--to", "33", "--project-dir", projectDir], env: withDb, code: 2, says: /"33" is not a stage; allowed: 0, 10, 25, 50, 75, 100\nrun 'rollout advance --help'\n$/ },
      { argv: ["npx", "rollout", "status", "--stack", "prod"], env, code: 2, says: /^rollout status: no database: pass --database-url <postgres:\/\/\.\.\.> or set ROLLOUT_DATABASE_URL .*\nrun 'rollout status --help'\n$/ },
      { argv: ["npx", "rollout", "status", "--stack", "prdo"], env: withDb, code: 1, says: /^rollout status: unknown stack "prdo": there is no Pulumi\.prdo\.yaml\. Stacks here: dev, prod, staging\n$/ },
    ];
    const copy = fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8");
    for (const m of mistakes) {
      const r = await runArgv(m.argv, m.env);
      assert.equal(r.code, m.code, `${m.argv.join(" ")}: exit ${r.code}\n${r.out}${r.err}`);
      assert.match(r.err, m.says, m.argv.join(" "));
      assert.equal(r.out, "", `${m.argv.join(" ")}: nothing on stdout`);
    }
    assert.equal(fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8"), copy, "the mistakes changed no stack file");

    // 5. The stop it prints.
    const stopped = await runArgv(p.stop, env);
    assert.equal(stopped.code, 0, stopped.err);
    assert.equal(trackedSnapshot(), before, "the whole path changed no tracked file");
  });

  it("--inject latency --at 50: gate and advance exit with PAUSE's code, as printed; a server stopped behind its back is still cleaned up by --stop", async () => {
    const started = await runArgv(["npx", "rollout", "sandbox", "--inject", "latency", "--at", "50", "--json"], env);
    assert.equal(started.code, 0, started.err);
    const j = JSON.parse(started.out) as {
      ok: boolean;
      verdict: string;
      stage: number;
      pid: number;
      env: Record<string, string>;
      commands: Array<{ argv: string[]; exitCode: number; text: string }>;
      stages: Array<{ stage: number; verdict: string }>;
    };
    assert.equal(j.ok, true);
    assert.equal(j.verdict, "PAUSE");
    assert.deepEqual(j.stages.map((s) => [s.stage, s.verdict]), [[0, "PROCEED"], [10, "PROCEED"], [25, "PROCEED"], [50, "PAUSE"]]);
    assert.deepEqual(j.commands.map((c) => [c.argv[2], c.exitCode]), [["status", 0], ["gate", 4], ["advance", 4], ["rollback", 0]]);
    for (const c of j.commands) {
      assert.deepEqual(shellCommands(c.text)[0], c.argv, "the text is the argv, quoted");
      const r = await runArgv(c.argv, { ...env, ...j.env });
      assert.equal(r.code, c.exitCode, `${c.text}\nexited ${r.code}:\n${r.out}${r.err}`);
    }

    // Stopped outside the tool: --stop still removes the folder, and says the server was not running.
    process.kill(j.pid, "SIGINT");
    for (let i = 0; i < 300 && isAlive(j.pid); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(isAlive(j.pid), false);
    const stopped = await runArgv(["npx", "rollout", "sandbox", "--stop"], env);
    assert.equal(stopped.code, 0, stopped.err);
    assert.match(stopped.out, /its PostgreSQL was not running; removed /);
    assert.equal(fs.existsSync(sandboxDir(tmp)), false);
  });
});

describe("rollout sandbox: bad inputs", () => {
  let tmp: string | undefined;
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.TMPDIR;
    ({ tmp } = scratchTmp());
    process.env.TMPDIR = tmp; // os.tmpdir() reads it: the sandbox folder is the test's
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
    await cleanUp(tmp);
  });

  async function rollout(args: string[]): Promise<Run> {
    let out = "";
    let err = "";
    const code = await main(["node", "rollout", ...args], { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
  }

  it("each fails naming the option, the value and what is allowed, and creates nothing", async () => {
    const before = trackedSnapshot();
    const cases: Array<[string[], number, RegExp]> = [
      [["sandbox", "--at", "33"], 2, /option '--at <stage>' argument '33' is invalid\. "33" is not a mid-rollout stage; allowed: 10, 25, 50, 75/],
      [["sandbox", "--at", "0"], 2, /argument '0' is invalid\. "0" is not a mid-rollout stage; allowed: 10, 25, 50, 75/],
      [["sandbox", "--at", "100"], 2, /argument '100' is invalid\. "100" is not a mid-rollout stage; allowed: 10, 25, 50, 75/],
      [["sandbox", "--inject", "meteor"], 2, /option '--inject <fault>' argument 'meteor' is invalid\. Allowed choices are error-spike, latency, contamination/],
      [["sandbox", "--seed", "-1"], 2, /"-1" is not a seed; allowed: an integer from 0 to 999999999/],
      [["sandbox", "--stop", "--at", "50"], 2, /--stop takes no other option \(got --at\)/],
      [["sandbox", "--stop", "--stack", "prod", "--seed", "3"], 2, /--stop takes no other option \(got --stack, --seed\)/],
      [["sandbox", "--stak", "prod"], 2, /unknown option '--stak'\n\(Did you mean --stack\?\)/],
      [["sandbox", "--stack", "qa"], 1, /Pulumi\.qa\.yaml/],
    ];
    for (const [args, code, re] of cases) {
      const r = await rollout(args);
      assert.equal(r.code, code, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, re, args.join(" "));
      const j = await rollout([...args, "--json"]);
      assert.equal(j.code, code);
      assert.equal((JSON.parse(j.out) as { ok: boolean }).ok, false, "--json: one object, ok false");
      assert.deepEqual(fs.readdirSync(tmp as string), [], `${args.join(" ")} created nothing`);
    }
    assert.equal(trackedSnapshot(), before);
  });

  it("--stop with no sandbox exits 0, says there is nothing to stop, and creates nothing (issue 24)", async () => {
    const r = await rollout(["sandbox", "--stop"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^rollout sandbox: no sandbox is running \(there is no .*rollout-sandbox-\d+\/sandbox\.json\): nothing to stop\n$/);
    const j = await rollout(["sandbox", "--stop", "--json"]);
    assert.equal(j.code, 0, j.err);
    assert.deepEqual(
      (({ ok, existed, stoppedPid }) => ({ ok, existed, stoppedPid }))(JSON.parse(j.out) as { ok: boolean; existed: boolean; stoppedPid: number | null }),
      { ok: true, existed: false, stoppedPid: null },
    );
    assert.deepEqual(fs.readdirSync(tmp as string), []);
  });

  /** A sandbox folder whose postmaster.pid names `pid` (and whose state file records `postmasterStart`), as a stale or rewritten one would. */
  function plantSandbox(pid: number, postmasterStart: string | null): string {
    const dir = sandboxDir(tmp);
    const dataDir = path.join(dir, "pg", "data");
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, "postmaster.pid"), `${pid}\n${dataDir}\n1700000000\n5432\n\n127.0.0.1\n`);
    fs.writeFileSync(path.join(dir, STATE_FILE), JSON.stringify({ version: 1, phase: "running", stack: "prod", stage: 25, pid, postmasterStart, dataDir }), { mode: 0o600 });
    return dataDir;
  }

  /** An unrelated process (`sleep 60`) in folder `cwd`; killed by the caller. */
  async function unrelated(cwd: string): Promise<ReturnType<typeof spawn>> {
    const child = spawn("sleep", ["60"], { cwd, stdio: "ignore" });
    await new Promise<void>((resolve, reject) => child.once("spawn", resolve).once("error", reject));
    return child;
  }

  it("--stop sends no signal to a process that a stale or rewritten postmaster.pid names: it survives, and the command says what it refused (issue 21, finding 7)", async () => {
    const bystander = await unrelated(os.tmpdir());
    try {
      plantSandbox(bystander.pid as number, null);
      const r = await rollout(["sandbox", "--stop"]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`refused to signal pid ${bystander.pid}, which its postmaster\\.pid names: that process is not the sandbox's PostgreSQL \\(its working folder is .*, not the data folder .*\\), so the file is stale; removed `));
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(isAlive(bystander.pid as number), true, "the unrelated process still runs");
      assert.equal(fs.existsSync(sandboxDir(tmp)), false, "the stale sandbox folder is removed");
    } finally {
      bystander.kill("SIGKILL");
    }
  });

  it("--stop checks the start time the state file recorded: a process working in the data folder but started later gets no signal either", async () => {
    const dataDir = plantSandbox(0, null);
    const impostor = await unrelated(dataDir);
    try {
      plantSandbox(impostor.pid as number, "12345"); // the postmaster the sandbox started began at tick 12345
      const j = await rollout(["sandbox", "--stop", "--json"]);
      assert.equal(j.code, 0, j.err);
      const out = JSON.parse(j.out) as { stoppedPid: number | null; refused: { pid: number; reason: string } | null };
      assert.equal(out.stoppedPid, null);
      assert.equal(out.refused?.pid, impostor.pid);
      assert.match(out.refused?.reason ?? "", /^it started at tick \d+ after boot, not at tick 12345 as recorded when the sandbox started it$/);
      await new Promise((res) => setTimeout(res, 300));
      assert.equal(isAlive(impostor.pid as number), true, "the impostor still runs");
    } finally {
      impostor.kill("SIGKILL");
    }
  });

  it("as root, a TMPDIR the postgres user cannot enter stops the start at once, saying why and what to do, and leaves nothing", async function () {
    if (process.getuid?.() !== 0) this.skip(); // only root hands the server to another user
    fs.chmodSync(tmp as string, 0o700);
    const r = await rollout(["sandbox"]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, new RegExp(`runs as the "postgres" user, which cannot enter ${(tmp as string).replace(/[/.]/g, "\\$&")} .*set TMPDIR to a folder other users can enter`));
    assert.deepEqual(fs.readdirSync(tmp as string), [], "the sandbox folder is removed");
  });

  it("a sandbox folder that is not this user's own (a symlink planted in a shared TMPDIR) is refused by start and stop, and left alone", async () => {
    const target = fs.mkdtempSync(path.join(tmp as string, "elsewhere-"));
    fs.writeFileSync(path.join(target, "keep"), "x");
    fs.symlinkSync(target, sandboxDir(tmp));
    for (const args of [["sandbox"], ["sandbox", "--stop"]]) {
      const r = await rollout(args);
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /rollout-sandbox-\d+ is not a folder this user made \(a symlink\): remove it by hand; nothing was changed/);
    }
    assert.equal(fs.readFileSync(path.join(target, "keep"), "utf8"), "x");
    assert.ok(fs.lstatSync(sandboxDir(tmp)).isSymbolicLink());
  });
});

describe("rollout sandbox: the printed commands (pure)", () => {
  it("the rollback is the one the verdict calls for; advance says what it will do; withProjectDir swaps only the folder", () => {
    const sub = (v: Parameters<typeof sandboxCommands>[2]) => sandboxCommands("prod", "/s/p", v).map((c) => c.argv.slice(2).join(" "));
    assert.deepEqual(sub("PROCEED"), [
      "status --stack prod --project-dir /s/p",
      "gate --stack prod --project-dir /s/p",
      "advance --stack prod --project-dir /s/p",
      "rollback --stack prod --project-dir /s/p",
    ]);
    assert.equal(sub("PAUSE")[3], "rollback --stack prod --project-dir /s/p");
    assert.equal(sub("ROLLBACK")[3], "rollback --stack prod --project-dir /s/p --immediate");
    assert.match(sandboxCommands("prod", "/s/p", "WAIT")[2].purpose, /refuses/);
    assert.deepEqual(withProjectDir(sandboxCommands("prod", "/s/p", "PROCEED"), "/copy").map((c) => c.argv[6]), ["/copy", "/copy", "/copy", "/copy"]);
    assert.equal(exitComment({ argv: [], purpose: "x", exitCode: 4 }), "# exit 4 (PAUSE): x");
    assert.equal(exitComment({ argv: [], purpose: "x", exitCode: 0 }), "# exit 0: x");
    assert.deepEqual(SANDBOX_STAGES, [10, 25, 50, 75]);
  });
});
