/**
 * `npm run bench:cli`: how long the entry points take to start, compiled (dist/, what `npm ci` builds) beside
 * the same command through ts-node (ROLLOUT_TS_NODE=1, as every start was before the build). Median of
 * BENCH_CLI_RUNS runs (default 10) each, wall time and the process's CPU time (user + system, from
 * /usr/bin/time when installed: on a busy machine the CPU time is what an idle one would take as wall time,
 * nearly, since each start is one thread). The machine's load average is printed beside: on the shared
 * 2-core machine the wall times include waiting for a core. The cases run round-robin (measureAll). Writes
 * bench/results-cli.md.
 *
 * Goals (issue 24): `rollout --help` ≤ 0.3 s, any command's own start ≤ 0.5 s, on 2 idle cores.
 * A command's own start is timed to the moment it fails for want of a database at 127.0.0.1:1 (nothing
 * listens there): it has read its stack file, loaded its modules and tried to connect, and done nothing else.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { distIsFresh } from "../bin/load.cjs";

const ROOT = path.join(__dirname, "..");
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? "10");
const TIME = fs.existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
const NO_DB = "postgres://bench@127.0.0.1:1/none";

interface Case {
  name: string;
  argv: string[];
  goalSeconds: number | null;
  /** The exit code the command must give (the bench fails otherwise: a timing of a broken start means nothing). */
  exitCode: number;
}

const rollout = path.join(ROOT, "bin", "rollout.cjs");
const run = path.join(ROOT, "bin", "run.cjs");
const CASES: Case[] = [
  { name: "rollout --help", argv: [rollout, "--help"], goalSeconds: 0.3, exitCode: 0 },
  { name: "rollout advance --to 33 (a usage error)", argv: [rollout, "advance", "--stack", "prod", "--to", "33"], goalSeconds: 0.3, exitCode: 2 },
  { name: "rollout gate --stack prod (start, to its database)", argv: [rollout, "gate", "--stack", "prod", "--database-url", NO_DB], goalSeconds: 0.5, exitCode: 1 },
  { name: "rollout status --stack prod (start, to its database)", argv: [rollout, "status", "--stack", "prod", "--database-url", NO_DB], goalSeconds: 0.5, exitCode: 1 },
  { name: "rollout rollback --stack staging --dry-run (whole command: refused, at 0 %)", argv: [rollout, "rollback", "--stack", "staging", "--dry-run"], goalSeconds: 0.5, exitCode: 2 },
  { name: "npm run plan -- --stack prod (program under the mock runtime)", argv: [run, "cli/plan", "--stack", "prod"], goalSeconds: null, exitCode: 0 },
];

interface Timing {
  wall: number;
  cpu: number | null;
}

function once(c: Case, tsNode: boolean): Timing {
  const env = { ...process.env, ROLLOUT_TS_NODE: tsNode ? "1" : "0", ROLLOUT_DATABASE_URL: "", DATABASE_URL: "" };
  const argv = TIME ? [TIME, "-f", "cpu %U %S", process.execPath, ...c.argv] : [process.execPath, ...c.argv];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { cwd: ROOT, env, encoding: "utf8" });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== c.exitCode) {
    throw new Error(`${c.name}${tsNode ? " (ts-node)" : ""}: exit ${String(r.status)}, expected ${c.exitCode}\n${r.stderr}`);
  }
  const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return { wall, cpu: m ? Number(m[1]) + Number(m[2]) : null };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Whether dist/ still matches the sources, asked of a new process (bin/load.cjs caches its answer in this one). */
function stillFresh(): boolean {
  return spawnSync(process.execPath, ["-e", `process.exit(require(${JSON.stringify(path.join(ROOT, "bin", "load.cjs"))}).distIsFresh() ? 0 : 1)`]).status === 0;
}

/**
 * Every case RUNS times, round-robin: each round runs every case once, so a burst of other work on the
 * shared machine falls on all cases alike instead of on whichever case was being timed (timed one case
 * after another, two commands with the same start differed by 0.15 s of CPU). Medians per case.
 */
function measureAll(cases: readonly Case[], tsNode: boolean): Array<{ wall: number; cpu: number | null }> {
  const ts: Timing[][] = cases.map(() => []);
  for (let r = 0; r < RUNS; r++) {
    // A source edited during the run would make the "compiled" runs fall back to ts-node: refuse to time that.
    if (!tsNode && !stillFresh()) throw new Error("dist/ no longer matches the sources (a file was edited during the run): npm run build, then run again");
    cases.forEach((c, k) => ts[k].push(once(c, tsNode)));
    process.stderr.write(`bench:cli: ${tsNode ? "ts-node" : "compiled"}: round ${r + 1} of ${RUNS}\n`);
  }
  return ts.map((t) => {
    const cpus = t.map((x) => x.cpu).filter((x): x is number => x !== null);
    return { wall: median(t.map((x) => x.wall)), cpu: cpus.length === t.length ? median(cpus) : null };
  });
}

function main(): void {
  if (!distIsFresh()) {
    process.stderr.write("bench:cli: dist/ does not match the sources: building it (npm run build)\n");
    const b = spawnSync(process.execPath, [path.join(ROOT, "tools", "build.cjs")], { stdio: "inherit" });
    if (b.status !== 0) throw new Error("the build failed");
  }
  const loadBefore = os.loadavg();
  const s = (x: number | null) => (x === null ? "-" : `${x.toFixed(2)} s`);
  const rows: string[] = [];
  let met = true;
  const compiledAll = measureAll(CASES, false);
  const tsNodeAll = measureAll(CASES, true);
  for (const [k, c] of CASES.entries()) {
    const compiled = compiledAll[k];
    const tsNode = tsNodeAll[k];
    // The goal is for idle cores: the CPU time stands for it when known (one thread), else the wall time.
    const idle = compiled.cpu ?? compiled.wall;
    const ok = c.goalSeconds === null ? null : idle <= c.goalSeconds;
    if (ok === false) met = false;
    rows.push(`| ${c.name} | ${s(compiled.wall)} | ${s(compiled.cpu)} | ${s(tsNode.wall)} | ${s(tsNode.cpu)} | ${c.goalSeconds === null ? "-" : `≤ ${c.goalSeconds} s: ${ok ? "met" : "NOT met"}`} |`);
  }
  const loadAfter = os.loadavg();
  const text =
    `# CLI start-up benchmark\n\n` +
    `\`npm run bench:cli\` on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "unknown"}), Node ${process.version}; ` +
    `median of ${RUNS} runs each, the cases run round-robin. Load average (1 min) ${loadBefore[0].toFixed(1)} before, ${loadAfter[0].toFixed(1)} after: ` +
    `${loadBefore[0] > 1 || loadAfter[0] > 1 ? "the machine was busy with other work, so wall times include waiting for a core; the CPU time (user + system) is the idle figure" : "an idle machine"}.\n\n` +
    `| command | compiled: wall | compiled: CPU | ts-node: wall | ts-node: CPU | goal (2 idle cores) |\n|---|---:|---:|---:|---:|---|\n` +
    rows.join("\n") +
    `\n\n${met ? "Every start-up goal is met." : "A start-up goal is NOT met."}\n`;
  fs.writeFileSync(path.join(__dirname, "results-cli.md"), text);
  process.stdout.write(text);
  if (!met) process.exitCode = 1;
}

main();
