/**
 * What the program passes the app so that the app serves exactly what the
 * program checks: the port and the health path (docs/reference-app.md), and a
 * stop grace period the app's graceful stop fits in.
 */
import { strict as assert } from "node:assert";
import { ProgramError } from "../../offline/evaluate";
import { PROXY_CONNECT_TIMEOUT_SECONDS, PROXY_RESOLVER_VALID_SECONDS } from "../../core/proxyConfig";
import { APP_ENV_NAMES, MANAGED_ENV_NAMES } from "../../core/stages";
import { EXIT_DEADLINE_MS, SERVE_AFTER_SIGTERM_MS } from "../../reference-app/src/contract";
import { CONTAINER, appService, byType, envOf, evaluateStack, serviceInputs, stackFile } from "../support/program";

describe("the app's port, health path and stop grace", function () {
  this.timeout(60_000);

  const cases: Array<{ stack: string; sets?: Record<string, string>; port: string; path: string }> = [
    { stack: "dev", port: "3000", path: "/health" },
    { stack: "prod", port: "3000", path: "/health" },
    { stack: "staging", sets: { appPort: "8081", appHealthCheckPath: "/internal/ready" }, port: "8081", path: "/internal/ready" },
  ];
  for (const c of cases) {
    it(`${c.stack}${c.sets ? " with appPort and appHealthCheckPath set" : ""}: the app's tasks get ${APP_ENV_NAMES.port}=${c.port} and ${APP_ENV_NAMES.healthCheckPath}=${c.path}, the ones its health check asks`, async () => {
      const ev = await evaluateStack(c.stack, { sets: c.sets });
      const svc = appService(ev);
      const env = envOf(svc);
      assert.equal(env[APP_ENV_NAMES.port], c.port);
      assert.equal(env[APP_ENV_NAMES.healthCheckPath], c.path);
      const check = (serviceInputs(svc).taskSpec.containerSpec.healthcheck?.tests ?? []).join(" ");
      assert.ok(check.includes(`:${c.port}${c.path}`), `the health check asks port ${c.port}, path ${c.path}: ${check}`);
    });
  }

  it("a stack's extra env cannot override the port or the health path", async () => {
    for (const name of Object.values(APP_ENV_NAMES)) {
      assert.ok(MANAGED_ENV_NAMES.includes(name), `${name} is managed`);
      const raw = { ...stackFile("staging").raw, appExtraEnv: { [name]: "1234" } };
      await assert.rejects(evaluateStack("staging", { raw }), (err: Error) => {
        assert.ok(err instanceof ProgramError);
        assert.match(err.message, new RegExp(`valuecanvas:appExtraEnv = .*not overriding .*${name}`));
        return true;
      });
    }
  });

  for (const stack of ["dev", "prod"]) {
    it(`${stack}: the app's graceful stop fits in the service's stop grace period, and outlasts the proxy's cached address`, async () => {
      const ev = await evaluateStack(stack);
      const spec = serviceInputs(appService(ev)).taskSpec.containerSpec;
      assert.equal(spec.stopSignal, "SIGTERM");
      const m = /^(\d+)s$/.exec(spec.stopGracePeriod ?? "");
      assert.ok(m, `stopGracePeriod in seconds: ${spec.stopGracePeriod}`);
      const grace = Number(m[1]);
      // Well inside: deleting a service, the provider fails when its tasks outlast the grace period (issue 15).
      assert.ok(EXIT_DEADLINE_MS <= (grace - 5) * 1000, `the app exits by ${EXIT_DEADLINE_MS} ms, at least 5 s inside the ${grace} s grace`);
      // The proxy config as the program uploads it: its resolver validity and connect timeout.
      const proxy = byType(ev, CONTAINER).find((c) => c.parent?.startsWith("valuecanvas:proxy:EdgeProxy::"));
      const conf = (proxy?.inputs.uploads as Array<{ content: string }>)[0].content;
      const valid = Number(/resolver \S+ valid=(\d+)s/.exec(conf)?.[1]);
      const connect = Number(/proxy_connect_timeout (\d+)s;/.exec(conf)?.[1]);
      assert.equal(valid, PROXY_RESOLVER_VALID_SECONDS);
      assert.equal(connect, PROXY_CONNECT_TIMEOUT_SECONDS);
      assert.ok(SERVE_AFTER_SIGTERM_MS >= (valid + connect) * 1000, `serves ${SERVE_AFTER_SIGTERM_MS} ms after SIGTERM, at least ${valid} s + ${connect} s`);
    });
  }
});
