import { strict as assert } from "node:assert";
import { main, plan } from "../../cli/plan";
import { SECRET_KEYS } from "../../core/configSchema";
import { secretPlaceholder } from "../../stack/stackFile";

/** Run the CLI in-process, capturing stdout and stderr. */
async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => ((out += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await main(["node", "plan", ...args]);
    return { code, out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

describe("npm run plan", function () {
  this.timeout(60_000);

  it("prints every resource the prod stack declares, secrets masked", async () => {
    const r = await runCli(["--stack", "prod"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\+ docker:index\/service:Service app  \[in app\]/);
    assert.match(r.out, /\+ docker:index\/container:Container edge/);
    // Issue 21 finding 5 / issue 22 fact 2: the settings are a plain, ordered command line; the URL a Docker secret.
    assert.match(r.out, /taskSpec: \{"containerSpec":\{"args":\["\/usr\/bin\/env","APP_HEALTH_CHECK_PATH=\/health",/);
    assert.match(r.out, /\+ docker:index\/secret:Secret app-database-url  \[in app\]\n    data: "\[secret\]"/);
    for (const k of SECRET_KEYS) assert.ok(!r.out.includes(secretPlaceholder(`valuecanvas:${k}`)), `${k} never printed`);
    assert.match(r.out, /Secrets not in the stack file .*database\.adminPassword/);
  });

  it("with --set prints only what the change alters", async () => {
    const r = await runCli(["--stack", "prod", "--set", "enableStatelessOrchestration=true", "--set", "enableSafeJsonParser=true", "--json"]);
    assert.equal(r.code, 0, r.err);
    const base = JSON.parse(r.out) as { changes: Array<{ name: string; changes: Array<{ input: string; before: unknown; after: unknown }> }> };
    assert.deepEqual(base.changes.map((c) => c.name).sort(), ["app", "app-rollout-wait", "rollout-event"]);
    // The flags change in the ordered settings, in plain: a reviewer reads them (no secret is among them).
    const app = base.changes.find((x) => x.name === "app")?.changes ?? [];
    const args = app.filter((x) => x.input.startsWith("taskSpec.containerSpec.args.")).map((x) => [x.before, x.after]);
    assert.deepEqual(args, [
      ["ENABLE_SAFE_JSON_PARSER=false", "ENABLE_SAFE_JSON_PARSER=true"],
      ["ENABLE_STATELESS_ORCHESTRATION=false", "ENABLE_STATELESS_ORCHESTRATION=true"],
    ]);
    assert.ok(!app.some((x) => x.input.startsWith("taskSpec.containerSpec.env")), "the env does not change");
  });

  it("the text diff of a stage change shows the service updated in place and the percentage label moving", async () => {
    const text = await plan({ stack: "dev", set: [{ path: "canaryPercentage", value: "25" }], json: false });
    assert.match(text, /\n~ docker:index\/service:Service app\n/);
    assert.match(text, /- \{"label":"valuecanvas\.rollout\/canary_percentage","value":"10"\}/);
    assert.match(text, /\+ \{"label":"valuecanvas\.rollout\/canary_percentage","value":"25"\}/);
    assert.match(text, /~ pulumi-nodejs:dynamic\/rollout:RolloutEvent rollout-event\n    canaryPercentage: 10 => 25\n/);
    // The wait that makes up mean "rolled out" (components/rolloutWait.ts) waits for the new stage.
    assert.match(text, /~ pulumi-nodejs:dynamic\/rollout:RolloutWait app-rollout-wait\n    expected\.labels\.valuecanvas\.rollout\/canary_percentage: "10" => "25"\n/);
    assert.match(text, /3 resources would change\./);
  });

  const bad: Array<[string[], number, RegExp]> = [
    [["--stack", "nope"], 1, /unknown stack "nope": there is no Pulumi\.nope\.yaml\. Stacks here: dev, prod, staging/],
    [["--stack", "prod", "--set", "canaryPercentage=33"], 1, /valuecanvas:canaryPercentage = "33": expected one of the stages/],
    [["--stack", "prod", "--set", "canaryPercentag=25"], 1, /did you mean valuecanvas:canaryPercentage\?/],
    [["--stack", "prod", "--set", "canaryPercentage"], 2, /--set "canaryPercentage": expected key=value/],
    [["--stack", "prod", "--set", "docker:host=x"], 2, /only valuecanvas: keys can be set here, not docker:/],
    [["--stack", "prod", "--set", "slackWebhookUrl=https://hooks.example/x"], 2, /secrets are never given on a command line/],
    [["--stack", "../etc"], 1, /"\.\.\/etc" is not a valid stack name/],
    [[], 2, /required option '--stack <name>'/],
  ];
  for (const [args, code, msg] of bad) {
    it(`plan ${args.join(" ") || "(no arguments)"} exits ${code} with a clear message`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, code, r.err);
      assert.match(r.err, msg);
      assert.equal(r.out, "");
    });
  }
});
