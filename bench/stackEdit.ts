/**
 * `npm run bench:stack-edit`: time and peak memory of `rollout rollback`'s
 * stack-file edit (read, check, edit, diff, write: stack/stackEdit.ts editStack)
 * on stack files of 1,000 to 100,000 lines. Each size runs in its own process
 * so its peak RSS is its own. Writes bench/results-stack-edit.md.
 *
 * The diff before was a full LCS table ((n+1) x (m+1) numbers): 30,000 lines
 * needed about 7 GB and ran Node out of memory after the file was written.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { planRollback } from "../core/transitions";
import { editStack } from "../stack/stackEdit";

const SIZES = (process.env.BENCH_STACK_LINES ?? "1000,10000,30000,100000").split(",").map(Number);

function one(lines: number): { ms: number; maxRssMb: number; diffLines: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-stack-edit-"));
  try {
    const prod = fs.readFileSync(path.join(__dirname, "..", "Pulumi.prod.yaml"), "utf8")
      .replace('canaryPercentage: "0"', 'canaryPercentage: "50"')
      .replace('Orchestration: "false"', 'Orchestration: "true"')
      .replace('Parser: "false"', 'Parser: "true"');
    const filler = Array.from({ length: lines }, (_, i) => `# history line ${i}`).join("\n");
    fs.writeFileSync(path.join(dir, "Pulumi.prod.yaml"), prod + filler + "\n");
    const t0 = process.hrtime.bigint();
    const r = editStack(dir, "prod", (c) => planRollback(c, false));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { ms, maxRssMb: process.resourceUsage().maxRSS / 1024, diffLines: r.diff.split("\n").length };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--one") {
  process.stdout.write(JSON.stringify(one(Number(process.argv[3]))));
} else {
  const rows = SIZES.map((n) => {
    const out = execFileSync(process.execPath, [...process.execArgv, __filename, "--one", String(n)], { encoding: "utf8" });
    return { n, ...(JSON.parse(out) as ReturnType<typeof one>) };
  });
  const table = [
    "| stack file lines | rollback edit (ms) | peak RSS of the process (MB) | diff lines shown |",
    "|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.n} | ${r.ms.toFixed(0)} | ${r.maxRssMb.toFixed(0)} | ${r.diffLines} |`),
  ].join("\n");
  const text = `# Stack-file edit benchmark\n\n\`npm run bench:stack-edit\` on ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "unknown"}), Node ${process.version}.\n` +
    `Peak RSS includes Node and ts-node (about 100 MB before any work).\n\n${table}\n`;
  fs.writeFileSync(path.join(__dirname, "results-stack-edit.md"), text);
  process.stdout.write(text);
}
