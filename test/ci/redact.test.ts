/**
 * core/redact.ts, the one redaction home: every credential form node-postgres
 * and libpq accept, every secret the workflow holds in every written form,
 * in every place the PR comment quotes text; and the workflow hands every
 * secret it holds to the comment builder.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import * as comment from "../../ci/comment";
import { redactUrl } from "../../db/rolloutStore";
import { SECRET_MASK, looksLikeCredential, redact } from "../../core/redact";
import { seededRandom } from "../../drill/traffic";

const ROOT = path.resolve(__dirname, "../..");
const PW = "Hunter2-pw";

describe("redact: credential forms", () => {
  const forms: Array<[string, string, string?]> = [
    ["URL userinfo", `postgres://mon:${PW}@db:5432/app`, "postgres://mon:[secret]@db:5432/app"],
    ["URL userinfo, postgresql scheme", `postgresql://mon:${PW}@db/app`, "postgresql://mon:[secret]@db/app"],
    ["URL userinfo with a raw @ in the password (WHATWG reads to the last @)", `postgres://mon:a@${PW}@db/app`, "postgres://mon:[secret]@db/app"],
    ["URL userinfo, empty user", `postgres://:${PW}@db/app`, "postgres://:[secret]@db/app"],
    ["URL userinfo, percent-encoded", `postgres://mon:${encodeURIComponent(PW + "/@")}@db/app`, "postgres://mon:[secret]@db/app"],
    ["?password= query parameter", `postgres://mon@db/app?password=${PW}`, "postgres://mon@db/app?password=[secret]"],
    ["&password= after other parameters", `postgres://db/app?sslmode=require&password=${PW}&application_name=x`, "postgres://db/app?sslmode=require&password=[secret]&application_name=x"],
    ["&sslpassword=", `postgres://db/app?sslmode=verify-full&sslpassword=${PW}`, "postgres://db/app?sslmode=verify-full&sslpassword=[secret]"],
    ["a percent-encoded parameter name", `postgres://db/app?pass%77ord=${PW}`, "postgres://db/app?pass%77ord=[secret]"],
    ["a socket URL", `socket://mon:${PW}@/var/run/postgresql?db=app`, "socket://mon:[secret]@/var/run/postgresql?db=app"],
    ["conninfo key=value", `host=db port=5432 password=${PW} dbname=app`, "host=db port=5432 password=[secret] dbname=app"],
    ["conninfo quoted, with an escaped quote and a space", `host=db password='a \\' ${PW}' dbname=app`, "host=db password='[secret]' dbname=app"],
    ["PGPASSWORD= in a command line", `PGPASSWORD=${PW} psql -h db`, "PGPASSWORD=[secret] psql -h db"],
    ["export PGPASSWORD=\"…\"", `export PGPASSWORD="${PW} x"`, 'export PGPASSWORD="[secret]"'],
    ["PGPASSWORD: in YAML", `PGPASSWORD: ${PW}`, "PGPASSWORD: [secret]"],
    ["a JSON member", `{"adminPassword":"${PW}","host":"db"}`, '{"adminPassword":"[secret]","host":"db"}'],
    ["a namespaced config key", `valuecanvas:pagerdutyRoutingKey: ${PW}`, "valuecanvas:pagerdutyRoutingKey: [secret]"],
    ["DATABASE_URL=", `DATABASE_URL=postgres://db/app?password=${PW}`, "DATABASE_URL=[secret]"],
    ["a token env var", `PULUMI_ACCESS_TOKEN=${PW}`, "PULUMI_ACCESS_TOKEN=[secret]"],
  ];
  for (const [title, text, expected] of forms) {
    it(`masks ${title}`, () => {
      const out = redact(`before ${text} after`);
      assert.ok(!out.includes(PW), out);
      if (expected) assert.equal(out, `before ${expected} after`);
      assert.equal(looksLikeCredential(text), true);
      assert.equal(redact(out), out, "idempotent");
    });
  }

  it("leaves text without credentials alone", () => {
    for (const t of ["password authentication failed for user \"mon\"", "postgres://mon@db:5432/app", "https://github.com/o/r/actions/runs/1", "keepLocally: true", "stage 25%: PROCEED"]) {
      assert.equal(redact(t), t);
      assert.equal(looksLikeCredential(t), false, t);
    }
  });

  it("redactUrl is the same redaction", () => {
    assert.equal(redactUrl(`postgres://mon:${PW}@db/app?password=${PW}`), "postgres://mon:[secret]@db/app?password=[secret]");
    assert.equal(comment.redact, redact, "ci/comment.ts re-exports the one function");
  });
});

describe("redact: the secrets the workflow holds, in every written form", () => {
  const secret = `p@ss/w rd+"\\'!é${PW}`;
  const forms: Array<[string, string]> = [
    ["raw", secret],
    ["encodeURIComponent", encodeURIComponent(secret)],
    ["encodeURI", encodeURI(secret)],
    ["form-encoded (URLSearchParams: + for space)", new URLSearchParams({ x: secret }).toString().slice(2)],
    ["lower-case hex", encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ["partly encoded", secret.replace("@", "%40")],
    ["JSON-escaped", JSON.stringify(secret).slice(1, -1)],
  ];
  const givens: Array<[string, string]> = [["as is", secret], ["with a trailing newline", `${secret}\n`], ["with surrounding whitespace", `  ${secret}\r\n`]];
  for (const [how, given] of givens) {
    for (const [title, written] of forms) {
      it(`masks the ${title} form of a secret given ${how}`, () => {
        const out = redact(`x ${written} y`, [given]);
        assert.equal(out, `x ${SECRET_MASK} y`);
      });
    }
  }

  it("a database URL secret: its password is masked on its own too, decoded and encoded", () => {
    const url = "postgres://mon:p%40ss%2Fw0rd-x@replica:5432/postgres";
    assert.equal(redact("error for p@ss/w0rd-x and p%40ss%2Fw0rd-x", [url]), "error for [secret] and [secret]");
    assert.equal(redact("q=tok-123456", ["postgres://r/db?password=tok-123456"]), "q=[secret]");
  });

  it("ignores empty and trivially short values (credential forms are still masked)", () => {
    assert.equal(redact("abc", ["", "a", "ab\n"]), "abc");
  });
});

describe("redact: a URL's password as written or decoded, up to the last @ before the host (issue 21, finding 9)", () => {
  const cases: Array<[string, string, string]> = [
    ["spaces (a decoded URL in the gate's stderr)", "postgres://mon:pa ss Word7@host/db", "postgres://mon:[secret]@host/db"],
    ["a tab", "postgres://mon:pa\tss Word7@host/db", "postgres://mon:[secret]@host/db"],
    ["@ in the password, decoded", "postgres://mon:p@ss w@rd7@host:5432/db", "postgres://mon:[secret]@host:5432/db"],
    [": in the password", "postgres://mon:pa:ss wo:rd7@host/db", "postgres://mon:[secret]@host/db"],
    ["% in a decoded password", "postgres://mon:100% sure@host/db", "postgres://mon:[secret]@host/db"],
    ["percent-encoded", "postgres://mon:pa%20ss%40Word7%3A@host/db", "postgres://mon:[secret]@host/db"],
    ["a user with @ (the first : splits)", "postgres://mon@corp:pa ss@host/db", "postgres://mon@corp:[secret]@host/db"],
    ["postgresql://", "postgresql://mon:pa ss Word7@host:5432/db?sslmode=require", "postgresql://mon:[secret]@host:5432/db?sslmode=require"],
    ["mysql://", "mysql://root:pa ss@mysql:3306/app", "mysql://root:[secret]@mysql:3306/app"],
    ["redis:// with an empty user", "redis://:pa ss@cache:6379/0", "redis://:[secret]@cache:6379/0"],
    ["https://", "https://bot:pa ss@example.com/hook", "https://bot:[secret]@example.com/hook"],
    ["a scheme with + and .", "git+ssh.v2://ci:pa ss@git.example.com/repo", "git+ssh.v2://ci:[secret]@git.example.com/repo"],
    ["in quotes", `"postgres://mon:pa ss' x"@host/db"`, `"postgres://mon:[secret]@host/db"`],
    ["at the end of the text", "connect to postgres://mon:pa ss Word7@host", "connect to postgres://mon:[secret]@host"],
    ["two on one line, with paths", "from postgres://a:pw one@h1/db to postgresql://b:pw two@h2:5432/db", "from postgres://a:[secret]@h1/db to postgresql://b:[secret]@h2:5432/db"],
    ["two on one line, without paths", "postgres://a:pw one@h1 then postgres://b:pw two@h2", "postgres://a:[secret]@h1 then postgres://b:[secret]@h2"],
    ["at a line end, an @ on the next line left alone", "cannot connect to postgres://mon:pa ss@host\nmail ops@example.com", "cannot connect to postgres://mon:[secret]@host\nmail ops@example.com"],
    ["CRLF line ends", "a postgres://mon:pa ss@h1\r\nb postgres://x:y z@h2\r\n", "a postgres://mon:[secret]@h1\r\nb postgres://x:[secret]@h2\r\n"],
  ];
  for (const [title, text, expected] of cases) {
    it(`masks a password with ${title}`, () => {
      const out = redact(text);
      assert.equal(out, expected);
      assert.equal(looksLikeCredential(text), true);
      assert.equal(redact(out), out, "idempotent");
    });
  }

  it("every password drawn from spaces, @, :, %, quotes and letters, in any scheme, in several URLs per text: none survives, the rest does", () => {
    const next = seededRandom(21);
    const alphabet = "abcXYZ019 @:%'\"!$&*+,;=~\t";
    const pick = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
    const schemes = ["postgres", "postgresql", "mysql", "redis", "https", "amqp", "mongodb+srv"];
    for (let i = 0; i < 500; i++) {
      const urls = Array.from({ length: 1 + Math.floor(next() * 3) }, (_, k) => {
        const scheme = schemes[Math.floor(next() * schemes.length)];
        const pw = `K${pick(2 + Math.floor(next() * 10))}Q`;
        const tail = ["/db", ":5432/db?sslmode=require", "", "/"][Math.floor(next() * 4)];
        return { text: `${scheme}://u${k}:${pw}@h${k}.example${tail}`, masked: `${scheme}://u${k}:[secret]@h${k}.example${tail}`, pw };
      });
      const sep = next() < 0.5 ? " and " : "\n";
      const text = `error: ${urls.map((u) => u.text).join(sep)} (code 28P01)`;
      assert.equal(redact(text), `error: ${urls.map((u) => u.masked).join(sep)} (code 28P01)`, text);
    }
  });

  it("a given secret URL whose password has spaces: the password alone is masked too, decoded and encoded", () => {
    const url = "postgres://mon:pa ss Word7@replica/postgres";
    assert.equal(redact("auth failed for 'pa ss Word7' (pa%20ss%20Word7)", [url]), "auth failed for '[secret]' ([secret])");
    // A decoded password with "/" is no URL form this can read (it looks like a path), but as a given secret it is masked.
    assert.equal(redact("postgres://mon:pa/ss w7@replica/postgres", ["postgres://mon:pa%2Fss%20w7@replica/postgres"]), "postgres://mon:[secret]@replica/postgres");
  });

  it("through the PR comment: the gate's stderr with a decoded URL whose password has spaces", () => {
    const r = comment.readGateRun({ exitCode: 1, stdout: "", stderr: "cannot connect to postgres://mon:pa ss Word7@host/db: timeout\n" }, []);
    assert.equal(r.ok, false);
    const problem = r.ok ? "" : r.problem;
    assert.ok(!/pa ss|Word7/.test(problem), problem);
    assert.match(problem, /postgres:\/\/mon:\[secret\]@host\/db/);
  });

  it("leaves URLs without a password alone, also when an @ follows later on the line", () => {
    for (const t of ["postgres://mon@db:5432/app", "see https://example.com/a@b for postgres://db:5432/app", "postgres://db:5432/app; mail ops@example.com", "ssh://git@github.com:org/repo"]) {
      assert.equal(redact(t), t);
      assert.equal(looksLikeCredential(t), false, t);
    }
  });
});

describe("the PR comment: every quoted place goes through the one redaction", () => {
  const DB_URL = "postgres://mon:Mon-Pw-4242@replica:5432/postgres";
  const TOKEN = "pul-Token-5353";
  const secrets = [`${DB_URL}\n`, TOKEN];
  const leaked = ["Mon-Pw-4242", TOKEN, "Other-Pw-6464", "Conn-Pw-7575", "Pg-Pw-8686", "Q-Pw-9797"];
  const preview = `Previewing update (prod)\n  ~ env: DATABASE_URL=${DB_URL}\n  token ${encodeURIComponent(TOKEN)}\n  other postgres://app:Other-Pw-6464@db/app\nResources:\n    ~ 1 to update\n`;
  const gateJson = {
    ok: false,
    exitCode: 4,
    command: "gate",
    stack: "prod",
    verdict: "PAUSE",
    notes: [`host=replica password=Conn-Pw-7575`],
    gate: {
      verdict: "PAUSE",
      exitCode: 4,
      reasons: [`PGPASSWORD=Pg-Pw-8686 was seen`],
      advice: `connect with postgres://replica/db?password=Q-Pw-9797`,
      notes: [],
    },
  };

  it("preview, gate reasons, notes, advice, gate JSON, gate-config note and the why-this-stack reasons", () => {
    const r = comment.buildStackReview({
      stack: "prod",
      reasons: [`changed by ${TOKEN}`],
      canarySummary: "10% → 25%: raised",
      raised: true,
      preview: { outcome: "success", output: preview },
      gate: { exitCode: 4, stdout: JSON.stringify(gateJson), stderr: "" },
      gateConfigNote: `read with ${DB_URL}`,
      secrets,
    });
    for (const s of leaked) assert.ok(!r.markdown.includes(s), `${s} in:\n${r.markdown}`);
    assert.match(r.markdown, /PAUSE/);
  });

  it("a failed gate's stderr and error message", () => {
    const stderr = comment.readGateRun({ exitCode: 1, stdout: "", stderr: `cannot connect to ${DB_URL}?sslpassword=Q-Pw-9797` }, secrets);
    const json = comment.readGateRun({ exitCode: 1, stdout: JSON.stringify({ ok: false, error: { message: `login failed: PGPASSWORD=Pg-Pw-8686` } }) }, secrets);
    for (const r of [stderr, json]) {
      assert.equal(r.ok, false);
      const problem = r.ok ? "" : r.problem;
      for (const s of leaked) assert.ok(!problem.includes(s), problem);
    }
  });
});

describe("the workflow hands every secret it holds to the comment builder", () => {
  it("each env var of the job that builds the comment (rollout-review.yml's review, the base's code) that reads a secret is passed with --secret-env", () => {
    const wf = parse(fs.readFileSync(path.join(ROOT, ".github/workflows/rollout-review.yml"), "utf8")) as {
      jobs: Record<string, { env?: Record<string, string>; steps: Array<{ env?: Record<string, string>; run?: string }> }>;
    };
    const builders = Object.entries(wf.jobs).filter(([, j]) => j.steps.some((s) => s.run?.includes("ci:pr-comment")));
    assert.deepEqual(builders.map(([n]) => n), ["review"], "one job builds the comment");
    const job = builders[0][1];
    const step = job.steps.find((s) => s.run?.includes("ci:pr-comment"));
    assert.ok(step, "the comment step");
    const env = { ...job.env, ...step.env };
    const holding = Object.entries(env).filter(([, v]) => /\bsecrets\s*[.[]/.test(String(v))).map(([k]) => k).sort();
    assert.ok(holding.length >= 1, JSON.stringify(holding));
    const passed = /--secret-env((?:\s+[A-Z_][A-Z0-9_]*)+)/.exec(step.run!)?.[1].trim().split(/\s+/).sort() ?? [];
    assert.deepEqual(passed.filter((p) => holding.includes(p)), holding);
  });
});
