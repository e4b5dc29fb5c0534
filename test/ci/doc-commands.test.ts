/**
 * Every command in docs/RUNBOOK.md, README.md and docs/air-gapped.md is true: each `rollout` line
 * parses with the real CLI (createRolloutCli from cli/rollout.ts), each
 * `npm run` names a script in package.json, and each `pulumi config set` sets
 * a schema key to a value the schema accepts. Also: the runbook's criteria
 * block is what core/stages.ts generates, every number it states outside that
 * block is one of the definitions, and every monitoring view it queries exists.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError } from "commander";
import fc from "fast-check";
import { createRolloutCli, parsedInvocation } from "../../cli/rollout";
import { DocCommand, DocCommandError, checkPulumiConfigSet, extractCommands, parsePulumiConfigSet, shellCommands } from "../../tools/docCommands";
import { RUNBOOK_BEGIN, RUNBOOK_END, criteriaMarkdown, renderRunbook } from "../../tools/runbook";
import { GUIDE_SOAK_HOURS, GUIDE_THRESHOLDS, STAGES } from "../../core/stages";
import { ROLLOUT_SOAK_SECONDS } from "../../core/swarm";
import { shellCommand, shellQuote } from "../../core/shell";

const ROOT = path.resolve(__dirname, "../..");
const DOCS = ["README.md", ...fs.readdirSync(path.join(__dirname, "../../docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), "utf8");
const SCRIPTS = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
const STACKS = fs.readdirSync(ROOT).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined);

const commands: DocCommand[] = DOCS.flatMap((f) => extractCommands(f, read(f)));

/** Silence a command tree's output (parse errors come back as CommanderError). */
function silence(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  for (const c of cmd.commands) silence(c);
}

/** What is wrong with a `rollout` command line, or undefined. Parsing only: nothing runs. */
function checkRollout(args: string[]): string | undefined {
  const cli = createRolloutCli();
  silence(cli);
  try {
    cli.parse(args, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode === 0) return undefined; // --help
    return (e as Error).message;
  }
  if (!parsedInvocation(cli)) return "no command";
  // A stack must exist; a <placeholder> is a generic instruction.
  const i = args.indexOf("--stack");
  if (i >= 0 && !STACKS.includes(args[i + 1]) && !/^<[a-z -]+>$/.test(args[i + 1])) return `--stack ${args[i + 1]}: no Pulumi.${args[i + 1]}.yaml`;
  return undefined;
}

function checkNpmRun(args: string[]): string | undefined {
  const name = args.find((a) => !a.startsWith("-"));
  if (!name) return "no script name";
  return name in SCRIPTS ? undefined : `package.json has no script "${name}" (scripts: ${Object.keys(SCRIPTS).join(", ")})`;
}

function problemOf(c: DocCommand): string | undefined {
  try {
    switch (c.kind) {
      case "rollout":
        return checkRollout(c.args);
      case "npm-run":
        return checkNpmRun(c.args);
      case "pulumi-config-set":
        return checkPulumiConfigSet(parsePulumiConfigSet(c.args), ROOT);
    }
  } catch (e) {
    return (e as Error).message;
  }
}

describe("commands in the README and every page in docs/", () => {
  it("finds the commands the runbook must teach", () => {
    const runbook = commands.filter((c) => c.file === "docs/RUNBOOK.md").map((c) => c.text);
    for (const expected of [
      "npx rollout gate --stack prod",
      "npx rollout advance --stack prod",
      "npx rollout status --stack prod",
      "npx rollout rollback --stack prod --immediate",
      "npx rollout rollback --stack prod",
      "npx rollout drill",
      "pulumi config set --stack prod canaryPercentage 10",
      "pulumi config set --stack prod canaryPercentage 25",
      "pulumi config set --stack prod canaryPercentage 50",
      "pulumi config set --stack prod canaryPercentage 75",
      "pulumi config set --stack prod canaryPercentage 100",
      "pulumi config set --stack prod enableStatelessOrchestration false",
      "npm run verify",
    ]) {
      assert.ok(runbook.includes(expected), `RUNBOOK lacks: ${expected}`);
    }
    assert.ok(commands.some((c) => c.file === "README.md"), "README has commands too");
  });

  for (const kind of ["rollout", "npm-run", "pulumi-config-set"] as const) {
    it(`every ${kind} command is true`, () => {
      const found = commands.filter((c) => c.kind === kind);
      assert.ok(found.length > 0);
      const bad = found.map((c) => ({ c, p: problemOf(c) })).filter((x) => x.p !== undefined);
      assert.deepEqual(
        bad.map(({ c, p }) => `${c.file}:${c.line}: ${c.text}\n    → ${p}`),
        [],
      );
    });
  }

  it("a wrong rollout line is caught by the real CLI (the check can fail)", () => {
    assert.match(checkRollout(["gate"]) ?? "", /required option '--stack <name>' not specified/);
    assert.match(checkRollout(["gate", "--stack", "prod", "--loud"]) ?? "", /unknown option '--loud'/);
    assert.match(checkRollout(["advance", "--stack", "prod", "--to", "33"]) ?? "", /"33" is not a stage; allowed: 0, 10, 25, 50, 75, 100/);
    assert.match(checkRollout(["advance", "--stack", "prod", "--force"]) ?? "", /--force needs --reason/);
    assert.match(checkRollout(["drill", "--inject", "meteor"]) ?? "", /Allowed choices are error-spike, latency, contamination/);
    assert.match(checkRollout(["status", "--stack", "qa"]) ?? "", /no Pulumi\.qa\.yaml/);
    assert.equal(checkRollout(["rollback", "--stack", "prod", "--immediate"]), undefined);
    assert.equal(checkRollout(["--help"]), undefined);
    assert.match(checkNpmRun(["deploy"]) ?? "", /package.json has no script "deploy"/);
  });
});

describe("the doc-command parser", () => {
  const check = (line: string) => {
    const [c] = extractCommands("x.md", "```bash\n" + line + "\n```\n");
    assert.ok(c, `no command in ${line}`);
    return checkPulumiConfigSet(parsePulumiConfigSet(c.args), ROOT);
  };

  it("splits lines like a shell: quotes, comments, && ; |", () => {
    assert.deepEqual(shellCommands(`npm ci && npm run plan -- --stack prod   # main job`), [["npm", "ci"], ["npm", "run", "plan", "--", "--stack", "prod"]]);
    assert.deepEqual(shellCommands(`pulumi config set --secret slackWebhookUrl 'https://x#y' ; echo "a \\"b\\" #c"`), [
      ["pulumi", "config", "set", "--secret", "slackWebhookUrl", "https://x#y"],
      ["echo", 'a "b" #c'],
    ]);
    assert.deepEqual(shellCommands(`npx rollout gate --stack prod --json | jq .verdict`), [["npx", "rollout", "gate", "--stack", "prod", "--json"], ["jq", ".verdict"]]);
    assert.throws(() => shellCommands(`echo 'open`), (e: unknown) => e instanceof DocCommandError && /unterminated '/.test(e.message));
  });

  it("a quoted argument is one word, its quotes gone; placeholders and $VARIABLES stay as written; an open double quote is refused too", () => {
    const [c] = extractCommands("x.md", "```bash\nnpx rollout advance --stack prod --force --reason \"legacy's p95 held: 'ok' for 2 h\" # then wait\n```\n");
    assert.deepEqual(c.args, ["advance", "--stack", "prod", "--force", "--reason", "legacy's p95 held: 'ok' for 2 h"]);
    assert.deepEqual(shellCommands(`pulumi config set --stack <stack> --secret 'database.adminPassword' "$ADMIN_PASSWORD"`), [
      ["pulumi", "config", "set", "--stack", "<stack>", "--secret", "database.adminPassword", "$ADMIN_PASSWORD"],
    ]);
    assert.deepEqual(shellCommands(`gh workflow run deploy.yml -f base=<last deployed commit> > out.txt`), [["gh", "workflow", "run", "deploy.yml", "-f", "base=<last", "deployed", "commit>"], ["out.txt"]]);
    assert.throws(() => shellCommands(`npx rollout gate --reason "open`), (e: unknown) => e instanceof DocCommandError && /unterminated "/.test(e.message));
  });

  it("reads back every command core/shell.ts prints for people to paste; refuses, rather than misreads, a quoted word ending in a backslash", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 6 }), (words) => {
        const argv = ["npx", "rollout", ...words];
        const line = shellCommand(argv);
        // shell-quote 1.8 runs `'a\' 'b'` together (one word "a\ b"): a line with a single-quoted
        // part that ends in a backslash is refused instead.
        const quotedPartEndsInBackslash = words.some((w) => shellQuote(w) !== w && w.split("'").some((part) => part.endsWith("\\")));
        if (quotedPartEndsInBackslash) assert.throws(() => shellCommands(line), DocCommandError);
        else assert.deepEqual(shellCommands(line), [argv]);
      }),
      { numRuns: 1000, seed: 20261202 },
    );
    assert.throws(() => shellCommands(`echo 'a\\' 'b'`), (e: unknown) => e instanceof DocCommandError && /a backslash ends a single-quoted word/.test(e.message));
  });

  it("extracts from fenced blocks (prompt dropped) but a ```text block (a command's output) and inline spans; bare tool mentions are not commands", () => {
    const md = [
      "Run `npx rollout gate --stack prod` or `pulumi config set`.",
      "```",
      "$ npm run verify -- --skip-tests",
      "git commit -m x",
      "```",
      "Not code: npm run nothing",
      "`DATABASE_URL=postgres://u:p@h/db npm run migrate`",
      "```text",
      "verdict: PROCEED (rollout gate would exit 0; status exits 0)",
      "```",
      "```bash",
      "npx rollout status --stack prod",
      "```",
    ].join("\n");
    const found = extractCommands("x.md", md);
    assert.deepEqual(found.map((c) => [c.line, c.kind, c.text]), [
      [1, "rollout", "npx rollout gate --stack prod"],
      [3, "npm-run", "npm run verify -- --skip-tests"],
      [7, "npm-run", "DATABASE_URL=postgres://u:p@h/db npm run migrate"],
      [12, "rollout", "npx rollout status --stack prod"],
    ]);
  });

  it("prose is not a command: a subcommand named alone, and spans that are not shell; a broken command line still fails", () => {
    const md = "Run `rollout gate` daily. RFC 3986 allows `; & $ ' ( )` in a path.\n```text\nline 6: it's a NEL\n```\n`npx rollout gate --stack prod`\n";
    assert.deepEqual(extractCommands("x.md", md).map((c) => c.text), ["npx rollout gate --stack prod"]);
    assert.throws(() => extractCommands("x.md", "`npx rollout gate --reason 'unterminated`\n"), DocCommandError);
  });

  it("accepts what the schema accepts", () => {
    for (const ok of [
      "pulumi config set --stack prod canaryPercentage 25",
      "pulumi config set canaryPercentage 25 --stack=staging",
      "pulumi config set -s prod valuecanvas:enableSafeJsonParser false",
      "pulumi config set --stack staging --path thresholds.p95WarningSeconds 2.5",
      "pulumi config set --stack prod --path gate.soakHours 24",
      "pulumi config set --secret --stack prod --path database.adminPassword '<password>'",
      "pulumi config set --stack dev --path appExtraEnv.LOG_LEVEL debug",
      "pulumi config set --stack dev docker:host unix:///var/run/docker.sock",
    ]) {
      assert.equal(check(ok), undefined, ok);
    }
  });

  it("rejects each bad line with a message naming the key, the value and what is allowed", () => {
    const cases: Array<[string, RegExp]> = [
      ["pulumi config set --stack prod canaryPercentage 33", /valuecanvas:canaryPercentage = "33": expected one of the stages 0, 10, 25, 50, 75, 100/],
      ["pulumi config set --stack prod canaryPercentage 25%", /valuecanvas:canaryPercentage = "25%": expected one of the stages/],
      ["pulumi config set --stack prod canaryPercentag 25", /unknown key valuecanvas:canaryPercentag; did you mean canaryPercentage\?/],
      ["pulumi config set --stack prod enableSafeJsonParser yes", /valuecanvas:enableSafeJsonParser = "yes": expected true or false/],
      ["pulumi config set --stack prod appImage ghcr.io/valuecanvas/app:latest", /valuecanvas:appImage = "ghcr.io\/valuecanvas\/app:latest": expected an image pinned by digest/],
      ["pulumi config set --stack prod thresholds.p95WarningSeconds 2", /has a "\." but no --path/],
      ["pulumi config set --stack prod --path thresholds.p95WarningSeconds 9", /valuecanvas:thresholds\.p95WarningSeconds = "9": expected less than thresholds\.p95CriticalSeconds/],
      ["pulumi config set --stack prod pagerdutyRoutingKey abc", /pagerdutyRoutingKey is a secret: set it with --secret/],
      ["pulumi config set --secret --stack prod canaryPercentage 10", /canaryPercentage is not a secret/],
      ["pulumi config set --stack qa canaryPercentage 10", /--stack qa: there is no Pulumi\.qa\.yaml/],
      ["pulumi config set --stack prod canaryPercentage", /no value for canaryPercentage/],
      ["pulumi config set --stack prod canaryPercentage 10 20", /takes a key and a value; got 3 words/],
      ["pulumi config set --stak prod canaryPercentage 10", /unknown flag --stak/],
      ["pulumi config set --stack prod acme:thing 1", /namespace "acme" is neither this project's/],
    ];
    for (const [line, re] of cases) {
      let msg: string | undefined;
      try {
        msg = check(line);
      } catch (e) {
        msg = (e as Error).message;
      }
      assert.match(msg ?? "(accepted)", re, line);
    }
  });
});

describe("the runbook's numbers and queries", () => {
  const runbook = read("docs/RUNBOOK.md");

  it("the criteria block is what core/stages.ts generates (npm run docs:runbook)", () => {
    assert.equal(renderRunbook(runbook), runbook, "docs/RUNBOOK.md is out of date: run npm run docs:runbook");
    assert.ok(runbook.includes(criteriaMarkdown()));
  });

  it("the generated block states the guide's thresholds and soak time from GUIDE_THRESHOLDS", () => {
    const t = GUIDE_THRESHOLDS;
    const block = criteriaMarkdown();
    assert.ok(block.includes(`| error rate | < ${t.targetErrorRatePct}% | > ${t.errorRateWarningPct}% | > ${t.errorRateCriticalPct}% |`));
    assert.ok(block.includes(`| P95 latency | < ${t.targetP95Seconds}s | > ${t.p95WarningSeconds}s | > ${t.p95CriticalSeconds}s |`));
    assert.ok(block.includes(`**${GUIDE_SOAK_HOURS} hours**`));
    // and it follows the definition: other thresholds give other numbers
    const other = criteriaMarkdown({ ...t, errorRateWarningPct: 3, p95CriticalSeconds: 7 }, 24);
    assert.ok(other.includes("> 3%") && other.includes("> 7s") && other.includes("**24 hours**"));
  });

  it("outside the generated block, every percentage, second and hour is a stage, a threshold, the soak time or a view's window", () => {
    const a = runbook.indexOf(RUNBOOK_BEGIN);
    const b = runbook.indexOf(RUNBOOK_END);
    const prose = runbook.slice(0, a) + runbook.slice(b);
    const t = GUIDE_THRESHOLDS;
    const pct = new Set<number>([...STAGES, t.errorRateWarningPct, t.errorRateCriticalPct, t.targetErrorRatePct]);
    // ... and Swarm's soak after an update, which `pulumi up` waits for (the RUNBOOK's recovery section).
    const secs = new Set<number>([t.p95WarningSeconds, t.p95CriticalSeconds, t.targetP95Seconds, ROLLOUT_SOAK_SECONDS]);
    const hours = new Set<number>([GUIDE_SOAK_HOURS, 24, 1]); // soak; the views' 24-hour and 1-hour windows
    const bad: string[] = [];
    for (const m of prose.matchAll(/(\d+(?:\.\d+)?)\s?%/g)) if (!pct.has(Number(m[1]))) bad.push(m[0]);
    for (const m of prose.matchAll(/(\d+(?:\.\d+)?)\s?(?:s|sec|seconds?)\b/g)) if (!secs.has(Number(m[1]))) bad.push(m[0]);
    for (const m of prose.matchAll(/(\d+(?:\.\d+)?)\s?(?:h|hours?)\b/g)) if (!hours.has(Number(m[1]))) bad.push(m[0]);
    assert.deepEqual(bad, []);
  });

  it("every monitoring view it queries exists in the migrations, and it covers all six", () => {
    const sql = fs.readdirSync(path.join(ROOT, "sql")).map((f) => read(path.join("sql", f))).join("\n");
    const defined = new Set([...sql.matchAll(/CREATE (?:OR REPLACE )?VIEW monitoring\.(\w+)/gi)].map((m) => m[1]));
    const queried = new Set([...runbook.matchAll(/psql "\$ROLLOUT_DATABASE_URL" -c 'SELECT \* FROM monitoring\.(\w+)'/g)].map((m) => m[1]));
    for (const v of ["error_rate_by_version", "latency_by_version", "session_isolation", "error_patterns", "slow_sessions", "contaminated_sessions"]) {
      assert.ok(queried.has(v), `RUNBOOK has no psql one-liner for monitoring.${v}`);
    }
    for (const v of queried) assert.ok(defined.has(v), `monitoring.${v} is not defined in sql/`);
  });
});
