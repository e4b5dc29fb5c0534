/**
 * The app's health check: config never reaches a shell. The path schema
 * refuses every shell and URL metacharacter; the generated check is exec-form
 * argv; and run for real (the argv the program declares, on this host,
 * against loopback) it fails when nothing listens or the app answers an
 * error, and passes only when the app answers 2xx. No container in any stack
 * uses CMD-SHELL.
 */
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, parseConfig } from "../../core/config";
import { HEALTH_CHECK_PROBES } from "../../core/configSchema";
import { CONTAINER, SERVICE, appService, byType, evaluateStack, serviceInputs } from "../support/program";

const BASE = { appImage: "ghcr.io/valuecanvas/app:phase3" };

function accepts(p: string): boolean {
  try {
    parseConfig({ ...BASE, appHealthCheckPath: p }, { stack: "staging" });
    return true;
  } catch (e) {
    if (e instanceof ConfigError) return false;
    throw e;
  }
}

// Every character a POSIX shell, a URL parser or an HTTP client treats as syntax.
const METACHARACTERS = [
  ";", "&", "|", "$", "`", "'", '"', "(", ")", "*", "<", ">", " ", "\t", "\n", "\r", "\\", "?", "#", "!", "{", "}", "[", "]",
  "^", "=", "+", ",", ":", "@", "%", "\u0000", "\u0085", "\u00a0", "\u2028", "é",
];

describe("appHealthCheckPath: a strict path, never shell syntax", () => {
  for (const ch of METACHARACTERS) {
    it(`refuses ${JSON.stringify(ch)} anywhere in the path`, () => {
      for (const p of [`/health${ch}`, `/${ch}health`, `/he${ch}alth/x`]) assert.equal(accepts(p), false, JSON.stringify(p));
    });
  }

  for (const p of ["/health?a=1&b=2", "/health;touch$IFS'pwned';exit$IFS'0'", "/health$(id)", "/health`id`", "/health||true", "/health\nexit 0", "/health%zz", "/health%4", "health", "", "//" + "a".repeat(1024)]) {
    it(`refuses ${JSON.stringify(p)}, naming the key, the value and what is allowed`, () => {
      assert.throws(
        () => parseConfig({ ...BASE, appHealthCheckPath: p }, { stack: "staging" }),
        (e: Error) => e instanceof ConfigError && e.message.includes(`valuecanvas:appHealthCheckPath = ${JSON.stringify(p)}: expected an absolute URL path`),
      );
    });
  }

  it("accepts plain paths and %XX escapes", () => {
    for (const p of ["/", "/health", "/api/v1/health-check", "/_status/live.json", "/~app/ok", "/health%3Fa%3D1", "/a%2fb"]) assert.ok(accepts(p), p);
  });

  it("accepts only wget or curl as the probe", () => {
    assert.deepEqual([...HEALTH_CHECK_PROBES], ["wget", "curl"]);
    assert.throws(() => parseConfig({ ...BASE, appHealthCheckProbe: "sh" }, { stack: "staging" }), /valuecanvas:appHealthCheckProbe = "sh": expected one of wget, curl/);
  });
});

/** Run an argv (no shell) and return its exit code. */
function run(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    execFile(argv[0], argv.slice(1), { timeout: 15_000 }, (err) => {
      if (!err) return resolve(0);
      const code = (err as NodeJS.ErrnoException & { code?: unknown }).code;
      resolve(typeof code === "number" ? code : -1);
    });
  });
}

function hasTool(name: string): boolean {
  return (process.env.PATH ?? "").split(":").some((d) => d && fs.existsSync(path.join(d, name)));
}

/** A free loopback port: bound, then released, so nothing listens on it. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("the generated health check, run for real", function () {
  this.timeout(120_000);

  for (const probe of HEALTH_CHECK_PROBES) {
    it(`${probe}: exec form, the URL one argument; exits non-zero with nothing listening or on an HTTP error, 0 on 2xx`, async function () {
      if (!hasTool(probe)) {
        if (process.env.CI === "true") throw new Error(`${probe} is not installed (CI=true: a missing tool is a failure)`);
        this.skip();
      }
      const port = await closedPort();
      const ev = await evaluateStack("staging", { sets: { appPort: String(port), appHealthCheckProbe: probe, appHealthCheckPath: "/health" } });
      const tests = serviceInputs(appService(ev)).taskSpec.containerSpec.healthcheck?.tests ?? [];
      assert.equal(tests[0], "CMD");
      assert.equal(tests[1], probe);
      assert.equal(tests[tests.length - 1], `http://127.0.0.1:${port}/health`);
      const argv = tests.slice(1);

      assert.notEqual(await run(argv), 0, "nothing listening: unhealthy");

      let status = 500;
      const hits: string[] = [];
      const server = http.createServer((req, res) => {
        hits.push(req.url ?? "");
        res.writeHead(status).end("x");
      });
      await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
      try {
        assert.notEqual(await run(argv), 0, "HTTP 500: unhealthy");
        status = 200;
        assert.equal(await run(argv), 0, "HTTP 200: healthy");
        status = 404;
        assert.notEqual(await run(argv), 0, "HTTP 404: unhealthy");
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
      assert.ok(hits.length >= 3 && hits.every((h) => h === "/health"), JSON.stringify(hits));
    });
  }

  it("the review's path cannot reach a probe: the program refuses it before registering anything", async () => {
    const marker = path.join(os.tmpdir(), "pwned");
    for (const p of ["/health?a=1&b=2", "/health;touch$IFS'pwned';exit$IFS'0'"]) {
      await assert.rejects(evaluateStack("staging", { sets: { appHealthCheckPath: p } }), /valuecanvas:appHealthCheckPath/);
    }
    assert.equal(fs.existsSync(marker), false);
  });

  for (const stack of ["dev", "staging", "prod"]) {
    it(`${stack}: every container's and service's health check is exec form (CMD), none is CMD-SHELL`, async () => {
      const ev = await evaluateStack(stack);
      const checks = [
        ...byType(ev, CONTAINER).map((c) => [c.name, (c.inputs.healthcheck as { tests?: string[] } | undefined)?.tests] as const),
        ...byType(ev, SERVICE).map((s) => [s.name, serviceInputs(s).taskSpec.containerSpec.healthcheck?.tests] as const),
      ].filter(([, t]) => t !== undefined);
      assert.ok(checks.length >= 2, "the app and the proxy have health checks");
      for (const [name, t] of checks) assert.equal(t![0], "CMD", `${name}: ${JSON.stringify(t)}`);
    });
  }
});
