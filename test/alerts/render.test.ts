/**
 * `npm run render`: writes a stack's monitoring files with placeholders for
 * secrets, and its Grafana dashboard; bad stacks, bad config and bad arguments
 * give clear errors and write nothing.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { main, render } from "../../cli/render";
import { MONITORING_FILE_NAMES, SECRET_PLACEHOLDERS, renderMonitoringFiles } from "../../core/alerts";
import { GRAFANA_DASHBOARD_FILE, PANEL_TITLES, renderGrafanaDashboard } from "../../core/alerts/grafanaDashboard";
import { testConfig, tmpDir } from "./support";

const PROJECT = path.join(__dirname, "..", "..");

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

/** A project directory with one stack file. */
function project(stack: string, yaml: string): string {
  const dir = tmpDir("vc-render-project-");
  fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), yaml);
  return dir;
}

const listing = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

describe("npm run render", () => {
  let work = "";
  beforeEach(() => {
    work = tmpDir("vc-render-");
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  for (const stack of ["staging", "prod", "dev"]) {
    it(`writes the four files of the ${stack} stack, its name in the external label and the runbooks, and its Grafana dashboard`, () => {
      const out = path.join(work, "out");
      const c = capture();
      assert.equal(main(["node", "render", "--stack", stack, "--out", out], c.io), 0, c.err.join(""));
      assert.deepEqual(listing(out), [...Object.values(MONITORING_FILE_NAMES), GRAFANA_DASHBOARD_FILE].sort());
      const dashboard = JSON.parse(fs.readFileSync(path.join(out, GRAFANA_DASHBOARD_FILE), "utf8")) as { uid: string; title: string };
      assert.equal(dashboard.uid, `valuecanvas-rollout-${stack}`, "one dashboard per stack");
      assert.ok(dashboard.title.endsWith(stack));
      assert.ok(c.out.join("").includes(GRAFANA_DASHBOARD_FILE));
      const rules = fs.readFileSync(path.join(out, MONITORING_FILE_NAMES.rules), "utf8");
      assert.match(rules, new RegExp(`npx rollout rollback --stack ${stack} --immediate`));
      const prom = fs.readFileSync(path.join(out, MONITORING_FILE_NAMES.prometheus), "utf8");
      assert.match(prom, new RegExp(`stack: ${stack}`));
      assert.ok(c.out.join("").includes(MONITORING_FILE_NAMES.alertmanager));
    });
  }

  it("writes placeholders for secure values, never their ciphertext, and warns about unset receivers", () => {
    const dir = project(
      "s1",
      [
        "config:",
        "  valuecanvas:appImage: ghcr.io/valuecanvas/app:phase3",
        "  valuecanvas:pagerdutyRoutingKey:",
        "    secure: AAABAKCIPHERTEXTPAGERDUTY",
        "  valuecanvas:thresholds:",
        "    errorRateCriticalPct: 8",
        "",
      ].join("\n"),
    );
    try {
      const out = path.join(work, "o");
      const r = render({ stack: "s1", out, projectDir: dir });
      const am = fs.readFileSync(path.join(out, MONITORING_FILE_NAMES.alertmanager), "utf8");
      const all = listing(out).map((f) => fs.readFileSync(path.join(out, f), "utf8")).join("\n");
      assert.ok(!all.includes("CIPHERTEXT"));
      assert.ok(am.includes(SECRET_PLACEHOLDERS.pagerdutyRoutingKey));
      assert.ok(!am.includes("slack_configs"), "an unset webhook renders no Slack integration");
      assert.equal(r.warnings.length, 1);
      assert.match(r.warnings[0], /slackWebhookUrl is not set/);
      // thresholds come from the stack's config, in the rules and in the dashboard's lines
      assert.match(fs.readFileSync(path.join(out, MONITORING_FILE_NAMES.rules), "utf8"), /> 8\) and/);
      const dashboard = JSON.parse(fs.readFileSync(path.join(out, GRAFANA_DASHBOARD_FILE), "utf8")) as {
        panels: Array<{ title: string; fieldConfig?: { defaults: { thresholds?: { steps: Array<{ value: number | null }> } } } }>;
      };
      const errorRate = dashboard.panels.find((p) => p.title === PANEL_TITLES.errorRate);
      assert.deepEqual(errorRate?.fieldConfig?.defaults.thresholds?.steps.map((x) => x.value), [null, 1, 2, 8]);
      assert.ok(r.files.includes(GRAFANA_DASHBOARD_FILE));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("replaces the files in an existing directory and leaves other files alone", () => {
    const out = path.join(work, "existing");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "keep.txt"), "mine");
    fs.writeFileSync(path.join(out, MONITORING_FILE_NAMES.rules), "stale");
    render({ stack: "staging", out, projectDir: PROJECT });
    assert.equal(fs.readFileSync(path.join(out, "keep.txt"), "utf8"), "mine");
    const expected = renderMonitoringFiles(testConfig({}, "staging"), {}, { stack: "staging" });
    assert.equal(fs.readFileSync(path.join(out, MONITORING_FILE_NAMES.rules), "utf8"), expected[MONITORING_FILE_NAMES.rules]);
    assert.equal(fs.readFileSync(path.join(out, GRAFANA_DASHBOARD_FILE), "utf8"), renderGrafanaDashboard(testConfig({}, "staging"), { stack: "staging" }));
    assert.deepEqual(listing(work), ["existing"], "no temporary directory left behind");
  });

  it("an unknown stack: exit 1, names the stack and the known ones, writes nothing", () => {
    const out = path.join(work, "out");
    const c = capture();
    assert.equal(main(["node", "render", "--stack", "stagign", "--out", out], c.io), 1);
    assert.match(c.err.join(""), /unknown stack "stagign".*Stacks here: dev, prod, staging/);
    assert.deepEqual(listing(work), []);
  });

  it("an invalid config value: exit 1, names key, value and what is allowed, writes nothing", () => {
    const dir = project("bad", "config:\n  valuecanvas:appImage: a/b:1\n  valuecanvas:alerting:\n    criticalFor: soon\n    minRequests: 0\n");
    try {
      const out = path.join(work, "out");
      assert.throws(() => render({ stack: "bad", out, projectDir: dir }), (e: Error) => {
        assert.match(e.message, /valuecanvas:alerting\.criticalFor = "soon": expected a Prometheus duration/);
        assert.match(e.message, /valuecanvas:alerting\.minRequests = 0: expected an integer from 1/);
        return true;
      });
      assert.deepEqual(listing(work), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a malformed stack file: exit 1 with the file named, writes nothing", () => {
    const dir = project("broken", "config:\n  valuecanvas:appImage: [unclosed\n");
    try {
      assert.throws(() => render({ stack: "broken", out: path.join(work, "out"), projectDir: dir }), /Pulumi\.broken\.yaml line 2, column \d+: /);
      assert.deepEqual(listing(work), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("bad arguments: exit 2 with the usage, writes nothing", () => {
    const file = path.join(work, "a-file");
    fs.writeFileSync(file, "x");
    const cases: Array<{ argv: string[]; message: RegExp }> = [
      { argv: ["--stack", "prod"], message: /required option '--out <dir>' not specified/ },
      { argv: ["--out", path.join(work, "o")], message: /required option '--stack <name>' not specified/ },
      { argv: ["--stack", "prod", "--out", file], message: /--out: ".*a-file" is not a directory/ },
      { argv: ["--stack", "prod", "--out", path.join(work, "no", "such", "dir")], message: /--out: the parent directory ".*" does not exist/ },
      { argv: ["--stack", "prod", "--out", path.join(work, "o"), "--bogus"], message: /unknown option '--bogus'/ },
    ];
    for (const { argv, message } of cases) {
      const c = capture();
      assert.equal(main(["node", "render", ...argv], c.io), 2, argv.join(" "));
      assert.match(c.err.join(""), message);
    }
    assert.deepEqual(listing(work), ["a-file"]);
    assert.equal(fs.readFileSync(file, "utf8"), "x");
  });
});
