/**
 * Issue 21 finding 5: no secret in any task's or container's env or command
 * line. The app's database URL is a Docker secret mounted as a 0400 file owned
 * by the user its tasks run as, read through DATABASE_URL_FILE; the exporter's
 * password is a 0400 file owned by the exporter's user, read through
 * DATA_SOURCE_PASS_FILE; the dev PostgreSQL's, a 0400 file read through
 * POSTGRES_PASSWORD_FILE. Checked on every stack under the mock runtime, against
 * every value the evaluation marks secret.
 */
import { strict as assert } from "node:assert";
import type { EvaluatedResource, Evaluation } from "../../offline/evaluate";
import { APP_ENV_NAMES, ENV_NAMES } from "../../core/stages";
import { APP_RUN_AS, APP_SECRET_FILES, SECRET_FILE_MODE } from "../../core/swarm";
import { CONTAINER, SERVICE, appService, envOf, evaluateStack, serviceInputs } from "../support/program";
import { secretSettingFile, splitExtraEnv } from "../../core/appSecrets";
import { DEV_POSTGRES_PASSWORD_FILE } from "../../components/devPostgres";

const SECRET = "docker:index/secret:Secret";

function at(v: unknown, p: string): unknown {
  return p.split(".").reduce<unknown>((x, k) => (x === null || typeof x !== "object" ? undefined : (x as Record<string, unknown>)[k]), v);
}
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === "object") Object.values(v).forEach((x) => strings(x, out));
  return out;
}

/** Every secret value in the evaluation (decoded too, for base64 data), and the passwords inside URLs. */
function secretValues(ev: Evaluation): string[] {
  const out = new Set<string>();
  for (const r of ev.resources) {
    for (const p of r.secretPaths) {
      for (const s of strings(at(r.inputs, p))) {
        out.add(s);
        if (r.type === SECRET) out.add(Buffer.from(s, "base64").toString("utf8"));
      }
    }
  }
  for (const s of [...out]) {
    try {
      const u = new URL(s);
      if (u.password) out.add(decodeURIComponent(u.password));
    } catch {
      /* not a URL */
    }
  }
  return [...out].filter((s) => s.length >= 6 && !s.startsWith("/"));
}

/** What a task or container shows to `docker inspect` and /proc: its env and its command line. */
function shown(r: EvaluatedResource): string[] {
  const env = Object.entries(envOf(r)).map(([k, v]) => `${k}=${v}`);
  if (r.type === SERVICE) {
    const c = serviceInputs(r).taskSpec.containerSpec;
    return [...env, ...(c.commands ?? []), ...(c.args ?? [])];
  }
  return [...env, ...strings(r.inputs.command), ...strings(r.inputs.entrypoints)];
}

describe("no secret in a task's or container's env or command line", function () {
  this.timeout(120_000);
  for (const stack of ["dev", "staging", "prod"]) {
    it(`${stack}: every service and container`, async () => {
      const ev = await evaluateStack(stack);
      const secrets = secretValues(ev);
      assert.ok(secrets.length > 0, "the evaluation has secrets to look for");
      const runs = ev.resources.filter((r) => r.type === SERVICE || r.type === CONTAINER);
      for (const r of runs) {
        for (const line of shown(r)) {
          for (const s of secrets) assert.ok(!line.includes(s), `${r.name}: a secret is in its env or command line (${line.slice(0, line.indexOf("=") + 1)}…, ${s.length} characters of a secret value)`);
          assert.doesNotMatch(line, /:\/\/[^/@\s]*:[^/@\s]+@/, `${r.name}: a URL with a password in its env or command line`);
        }
        // The env is plain now: nothing in it needs to be a secret.
        if (r.type === SERVICE) assert.ok(!r.secretPaths.some((p) => p.startsWith("taskSpec.containerSpec.env")), `${r.name}: env marked secret`);
      }
    });

    it(`${stack}: the app reads its database URL from a 0400 Docker secret file owned by the user its tasks run as`, async () => {
      const ev = await evaluateStack(stack);
      const svc = appService(ev);
      const c = serviceInputs(svc).taskSpec.containerSpec;
      const env = envOf(svc);
      assert.equal(env[ENV_NAMES.databaseUrl], undefined);
      assert.equal(env[APP_ENV_NAMES.databaseUrlFile], APP_SECRET_FILES.databaseUrl);
      assert.equal(c.user, `${APP_RUN_AS.uid}:${APP_RUN_AS.gid}`);
      const mounts = c.secrets ?? [];
      assert.equal(mounts.length, 1);
      const m = mounts[0];
      assert.deepEqual([m.fileName, m.fileMode, m.fileUid, m.fileGid], [APP_SECRET_FILES.databaseUrl, SECRET_FILE_MODE, APP_RUN_AS.uid, APP_RUN_AS.gid]);
      assert.equal(SECRET_FILE_MODE, 0o400);
      const secret = ev.resources.filter((r) => r.type === SECRET);
      assert.equal(secret.length, 1);
      assert.equal(m.secretName, `${secret[0].name}-mock`, "the mount names the declared secret");
      assert.ok(secret[0].secretPaths.includes("data"), "the secret's data is a Pulumi secret");
      assert.match(Buffer.from(String(secret[0].inputs.data), "base64").toString("utf8"), /^postgres(ql)?:\/\/[^:]+:[^@]+@/);
      assert.equal(secret[0].inputs.name, undefined, "auto-named: a new URL makes a new secret beside the old one");
    });
  }

  it("dev: its own PostgreSQL gets the superuser's password as a 0400 file owned by the image's postgres user (uid 999), through POSTGRES_PASSWORD_FILE; the upload is a Pulumi secret", async () => {
    const ev = await evaluateStack("dev");
    const pg = ev.resources.find((r) => r.type === CONTAINER && r.name === "dev-postgres");
    assert.ok(pg, "the dev stack declares its PostgreSQL");
    const env = envOf(pg);
    assert.equal(env.POSTGRES_PASSWORD, undefined);
    assert.equal(env.POSTGRES_PASSWORD_FILE, DEV_POSTGRES_PASSWORD_FILE.path);
    const uploads = (pg.inputs.uploads ?? []) as Array<{ file: string; content: string; owner?: string; group?: string; permissions?: string }>;
    const file = uploads.find((u) => u.file === DEV_POSTGRES_PASSWORD_FILE.path);
    assert.ok(file, "the password file is uploaded");
    assert.deepEqual([file.owner, file.group, file.permissions], ["999", "999", "0400"]);
    assert.ok(file.content.length >= 32, "the random password");
    assert.ok(pg.secretPaths.includes("uploads"), "the upload is a Pulumi secret");
    assert.ok(!pg.secretPaths.some((p) => p.startsWith("envs")), "the env holds no secret, so it need not be one");
  });

  it("a secret-looking extra setting (appExtraEnv) is a Docker secret file too, the app given <NAME>_FILE, never the value on its command line", async () => {
    const token = "tok-4444-abcdef";
    const url = "postgres://rep:Pw-Url-1111@db/reports";
    const ev = await evaluateStack("dev", { sets: { "appExtraEnv.API_TOKEN": token, "appExtraEnv.REPORTS_URL": url, "appExtraEnv.LOG_LEVEL": "debug" } });
    const svc = appService(ev);
    const env = envOf(svc);
    assert.equal(env.LOG_LEVEL, "debug", "a plain setting stays a setting");
    assert.equal(env.API_TOKEN, undefined);
    assert.equal(env.REPORTS_URL, undefined);
    assert.equal(env.API_TOKEN_FILE, secretSettingFile("API_TOKEN"));
    assert.equal(env.REPORTS_URL_FILE, secretSettingFile("REPORTS_URL"));
    for (const line of shown(svc)) for (const s of [token, url, "Pw-Url-1111"]) assert.ok(!line.includes(s), `a secret on the command line: ${line}`);
    const held = ev.resources.filter((r) => r.type === SECRET).map((r) => Buffer.from(String(r.inputs.data), "base64").toString("utf8"));
    assert.ok(held.includes(token) && held.includes(url), "each secret setting is held by a Docker secret");
    for (const r of ev.resources.filter((x) => x.type === SECRET)) assert.ok(r.secretPaths.includes("data"), `${r.name}: data is a Pulumi secret`);
    const files = (serviceInputs(svc).taskSpec.containerSpec.secrets ?? []).map((m) => [m.fileName, m.fileMode]);
    assert.deepEqual(files.sort(), [[APP_SECRET_FILES.databaseUrl, SECRET_FILE_MODE], [secretSettingFile("API_TOKEN"), SECRET_FILE_MODE], [secretSettingFile("REPORTS_URL"), SECRET_FILE_MODE]].sort());
  });

  it("splitExtraEnv: by name or by value, and a <NAME>_FILE that would collide is refused naming both", () => {
    assert.deepEqual(splitExtraEnv({ LOG_LEVEL: "debug", API_TOKEN: "x", DSN: "postgres://u:p@h/d" }), { plain: { LOG_LEVEL: "debug" }, secret: { API_TOKEN: "x", DSN: "postgres://u:p@h/d" } });
    assert.throws(() => splitExtraEnv({ API_TOKEN: "x", API_TOKEN_FILE: "/x" }), /valuecanvas:appExtraEnv\.API_TOKEN may hold a secret, so the app gets it as API_TOKEN_FILE .* but API_TOKEN_FILE is set too/);
    assert.throws(() => splitExtraEnv({ API_TOKEN: "x" }, ["API_TOKEN_FILE"]), /API_TOKEN_FILE is set too/);
  });
});
