/**
 * Secrets in config, in every form the readers accept:
 *
 * - a secret stored in plain text is refused wherever it sits: a YAML
 *   mapping, a flow mapping, or a JSON-string group (how `pulumi config set`
 *   stores structured values), by the stack-file reader that plan, render,
 *   rollout and CI share; and the plan never claims such a secret is "not in
 *   the stack file";
 * - a credential-looking value that is not a secret key (appExtraEnv's
 *   DATABASE_URL, *PASSWORD*, *TOKEN*, *KEY*, *SECRET*, a URL with a password,
 *   a password= parameter or conninfo) is masked in the errors of plan,
 *   render and rollout rollback, and in plan --set's echo.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { plan } from "../../cli/plan";
import { render } from "../../cli/render";
import { main as rollout } from "../../cli/rollout";
import { shownSets } from "../../offline/plan";
import { parseStackFile } from "../../stack/stackFile";
import { PROJECT_DIR } from "../support/program";

const DEV = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8");

function project(stackText: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "config-secrets-"));
  fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), stackText);
  return dir;
}

async function errorOf(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    return (e as Error).message;
  }
  assert.fail("expected an error");
}

async function rolloutRollback(dir: string): Promise<{ code: number; out: string }> {
  let out = "";
  const io = { out: (s: string) => void (out += s), err: (s: string) => void (out += s) };
  const code = await rollout(["node", "rollout", "rollback", "--stack", "dev", "--project-dir", dir, "--dry-run"], io);
  return { code, out };
}

describe("plain secrets inside groups, in every form the reader accepts", function () {
  this.timeout(60_000);
  const forms: Array<[string, string]> = [
    ["a JSON-string group (single-quoted)", `  valuecanvas:database: '{"host":"db.internal","adminPassword":"PlainPw-7"}'\n`],
    ["a JSON-string group (double-quoted, escaped)", `  valuecanvas:database: "{\\"host\\":\\"db.internal\\",\\"adminPassword\\":\\"PlainPw-7\\"}"\n`],
    ["a JSON-string group with leading space", `  valuecanvas:database: ' {"host":"db.internal","adminPassword":"PlainPw-7"}'\n`],
    ["a JSON-string group in a block scalar", `  valuecanvas:database: |\n    {"host": "db.internal",\n     "adminPassword": "PlainPw-7"}\n`],
    ["a YAML mapping", `  valuecanvas:database:\n    host: db.internal\n    adminPassword: PlainPw-7\n`],
    ["a YAML flow mapping", `  valuecanvas:database: {host: db.internal, adminPassword: PlainPw-7}\n`],
    ["a plain top-level secret", `  valuecanvas:pagerdutyRoutingKey: PlainPw-7\n`],
    ["a plain top-level secret as a JSON string", `  valuecanvas:slackWebhookUrl: '"PlainPw-7"'\n`],
  ];
  // Block scalars and flow mappings are outside the YAML subset both readers agree on
  // (core/yamlSubset.ts): refused before the secret check, and still never echoed.
  const OUTSIDE_SUBSET = new Set(["a JSON-string group in a block scalar", "a YAML flow mapping"]);
  for (const [title, lines] of forms) {
    it(`refuses ${title}: the reader, plan, render and rollback, without echoing it`, async () => {
      const text = DEV + lines;
      const refusal = OUTSIDE_SUBSET.has(title) ? /not in the accepted subset/ : /stored in plain text/;
      assert.throws(
        () => parseStackFile("dev", "Pulumi.dev.yaml", text),
        OUTSIDE_SUBSET.has(title) ? refusal : /is stored in plain text; it is a secret\. Remove it and run: pulumi config set --secret/,
      );
      const dir = project(text);
      try {
        const p = await errorOf(() => plan({ stack: "dev", set: [], json: false, projectDir: dir }));
        assert.match(p, refusal);
        assert.ok(!p.includes("not in the stack file"));
        const r = await errorOf(() => render({ stack: "dev", out: path.join(dir, "out"), projectDir: dir }));
        assert.match(r, refusal);
        const rb = await rolloutRollback(dir);
        assert.equal(rb.code, 1, rb.out);
        assert.match(rb.out, refusal);
        for (const s of [p, r, rb.out]) assert.ok(!s.includes("PlainPw-7"), s);
        assert.equal(fs.readFileSync(path.join(dir, "Pulumi.dev.yaml"), "utf8"), text, "nothing written");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("accepts the same groups with the secret encrypted (secure:) or left to pulumi config set --secret", () => {
    const secure = parseStackFile("dev", "f", DEV + `  valuecanvas:database:\n    host: db.internal\n    adminPassword:\n      secure: v1:AAAA\n`);
    assert.equal(secure.secrets.find((s) => s.key === "database.adminPassword")?.source, "secure");
    const unset = parseStackFile("dev", "f", DEV + `  valuecanvas:database: '{"host":"db.internal"}'\n`);
    assert.equal(unset.secrets.find((s) => s.key === "database.adminPassword")?.source, "unset");
  });
});

describe("credential-looking values in appExtraEnv are masked in every error", function () {
  this.timeout(120_000);
  const CREDENTIALS = ["Pw-Url-1111", "Pw-Name-3333", "tok-4444", "key-5555", "Pw-Conn-6666", "Pw-Query-7777", "sec-8888", "Pw-Json-9999"];
  const envs: Array<[string, string]> = [
    ["DATABASE_URL (a managed name)", `  valuecanvas:appExtraEnv:\n    DATABASE_URL: postgres://app:Pw-Url-1111@db:5432/app\n`],
    [
      "credential names and values beside a bad name",
      `  valuecanvas:appExtraEnv:\n    bad-name: x\n    FOO_URL: postgres://u:Pw-Url-1111@h/db\n    DB_PASSWORD: Pw-Name-3333\n    API_TOKEN: tok-4444\n` +
        `    SERVICE_KEY: key-5555\n    CONN: "host=h password=Pw-Conn-6666"\n    Q: "postgres://h/db?sslmode=require&password=Pw-Query-7777"\n    APP_SECRET: sec-8888\n`,
    ],
    ["a JSON string Pulumi would store (not valid JSON)", `  valuecanvas:appExtraEnv: '{"X_URL":"postgres://u:Pw-Json-9999@h/db",'\n`],
    ["a JSON string with a managed name", `  valuecanvas:appExtraEnv: '{"DATABASE_URL":"postgres://u:Pw-Json-9999@h/db"}'\n`],
  ];
  for (const [title, lines] of envs) {
    it(`${title}: plan, render and rollback name the key and mask the value`, async () => {
      const dir = project(DEV + lines);
      try {
        const outputs = [
          await errorOf(() => plan({ stack: "dev", set: [], json: false, projectDir: dir })),
          await errorOf(() => render({ stack: "dev", out: path.join(dir, "out"), projectDir: dir })),
          (await rolloutRollback(dir)).out,
        ];
        for (const o of outputs) {
          assert.match(o, /valuecanvas:appExtraEnv = .*: expected a map of environment variable names/, o);
          for (const c of CREDENTIALS) assert.ok(!o.includes(c), `${c} echoed:\n${o}`);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("plan --set echoes a credential-looking value masked", async () => {
    const set = [{ path: "appExtraEnv.REPORTS_URL", value: "postgres://rep:Pw-Url-1111@db/reports" }, { path: "appExtraEnv.API_TOKEN", value: "tok-4444" }];
    const out = await plan({ stack: "dev", set, json: false });
    for (const c of CREDENTIALS) assert.ok(!out.includes(c), `${c} echoed:\n${out}`);
    assert.match(out, /Changes from valuecanvas:appExtraEnv\.REPORTS_URL=\[secret\], valuecanvas:appExtraEnv\.API_TOKEN=\[secret\]:/);
    // --json prints the same masked sets.
    assert.deepEqual(shownSets(set).map((s) => s.value), ["[secret]", "[secret]"]);
  });
});
