import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROXY_HEALTH_PATH, PROXY_LISTEN_PORT, renderNginxConfig } from "../../core/proxyConfig";
import { byType, evaluateStack, CONTAINER } from "../support/program";
import { requireTools } from "../support/tools";

describe("edge proxy config", function () {
  let nginx = "";
  let dir = "";
  before(function () {
    nginx = requireTools(this, "nginx").nginx;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "vc-nginx-"));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function nginxTest(conf: string): { ok: boolean; output: string } {
    const file = path.join(dir, "nginx.conf");
    fs.writeFileSync(file, conf);
    // nginx opens /dev/stdout for its access log: give it a file, not a socket pair.
    const logFile = path.join(dir, "nginx-t.log");
    const fd = fs.openSync(logFile, "w");
    try {
      execFileSync(nginx, ["-t", "-c", file, "-p", dir, "-e", "stderr"], { stdio: ["ignore", fd, fd] });
      return { ok: true, output: fs.readFileSync(logFile, "utf8") };
    } catch {
      return { ok: false, output: fs.readFileSync(logFile, "utf8") };
    } finally {
      fs.closeSync(fd);
    }
  }

  for (const stack of ["prod", "dev", "staging"]) {
    it(`${stack}: the config the program uploads passes the real nginx -t`, async () => {
      const ev = await evaluateStack(stack);
      const edge = byType(ev, CONTAINER).find((c) => c.parent?.startsWith("valuecanvas:proxy:EdgeProxy::"));
      assert.ok(edge);
      const uploads = edge.inputs.uploads as Array<{ file: string; content: string }>;
      assert.equal(uploads[0].file, "/etc/nginx/nginx.conf");
      const r = nginxTest(uploads[0].content);
      assert.ok(r.ok, r.output);
    });
  }

  it("routes to the app alias and retries another replica", () => {
    const conf = renderNginxConfig({ appAlias: "app", appPort: 3000, listenPort: PROXY_LISTEN_PORT, selfHealthPath: PROXY_HEALTH_PATH });
    assert.match(conf, /set \$app_upstream http:\/\/app:3000;/);
    assert.match(conf, /proxy_next_upstream error timeout http_502 http_503 http_504;/);
    assert.match(conf, /resolver 127\.0\.0\.11 valid=2s/);
    assert.match(conf, /proxy_connect_timeout 1s;/);
    // Every resolved replica is tried at most once, bounded in time, not by a count that stale addresses can use up.
    assert.match(conf, /proxy_next_upstream_tries 0;/);
    assert.match(conf, /proxy_next_upstream_timeout 10s;/);
  });

  it("nginx -t rejects a broken config (the check can fail)", () => {
    const conf = renderNginxConfig({ appAlias: "app", appPort: 3000, listenPort: PROXY_LISTEN_PORT, selfHealthPath: PROXY_HEALTH_PATH });
    assert.equal(nginxTest(conf.replace("proxy_pass $app_upstream;", "proxy_pass $app_upstream")).ok, false);
  });

  it("refuses an alias that is not a DNS label", () => {
    assert.throws(() => renderNginxConfig({ appAlias: "app;evil", appPort: 3000, listenPort: 8080, selfHealthPath: "/h" }), /appAlias "app;evil": expected a DNS label/);
  });
});
