/**
 * Issue 21 finding 5: no secret in any task's or container's env or command
 * line. The app's database URL is a Docker secret mounted as a 0400 file owned
 * by the user its tasks run as, read through DATABASE_URL_FILE; the exporter's
 * password is a 0400 file owned by the exporter's user, read through
 * DATA_SOURCE_PASS_FILE. Checked on every stack under the mock runtime, against
 * every value the evaluation marks secret.
 */
import { strict as assert } from "node:assert";
import type { EvaluatedResource, Evaluation } from "../../offline/evaluate";
import { APP_ENV_NAMES, ENV_NAMES } from "../../core/stages";
import { APP_RUN_AS, APP_SECRET_FILES, SECRET_FILE_MODE } from "../../core/swarm";
import { CONTAINER, SERVICE, appService, envOf, evaluateStack, serviceInputs } from "../support/program";

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
      // Not yet: the dev stack's own PostgreSQL (dev only, a random password, published on loopback) still gets
      // POSTGRES_PASSWORD in its env: the project's postgres image (images/postgres/docker-entrypoint.sh) reads no
      // POSTGRES_PASSWORD_FILE yet. Named here so the exception is one, visible, and fails when it grows.
      const NOT_YET = ["dev-postgres"];
      const runs = ev.resources.filter((r) => (r.type === SERVICE || r.type === CONTAINER) && !NOT_YET.includes(r.name));
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
});
