/**
 * [docker] The local images (npm run images) honour the contracts the program
 * relies on. Each container is started from what the dev stack declares (the
 * offline evaluation, test/support/declared.ts) with its image keys pointed at
 * the local images, so the command, env, uploads and health checks are the
 * components' own. Only difference: ports are published on loopback with
 * ephemeral host ports, and the monitoring UIs and the exporter are published
 * too, so that the test can probe them.
 */
import { strict as assert } from "node:assert";
import { Client } from "pg";
import { IMAGES, imageByKey } from "../../tools/images";
import { MONITORING_CONTAINER } from "../../components/monitoring";
import { PROXY_HEALTH_PATH, PROXY_LISTEN_PORT } from "../../core/proxyConfig";
import type { Evaluation } from "../../offline/evaluate";
import { DockerScope, docker, dockerOk, publishedPort, requireDocker, requireImages, waitFor, waitHealthy } from "../support/docker";
import { containerByRole, containerSpec, startSpec } from "../support/declared";
import { envOf, evaluateStack } from "../support/program";
import { DEV_POSTGRES_PASSWORD_FILE } from "../../components/devPostgres";

const INFRA = ["nginx", "postgres", "prometheus", "alertmanager", "postgres-exporter"] as const;
const tagOf = (key: string) => imageByKey(key).tag;
/** The `pulumi config set --path` keys of the local images, as `npm run plan -- --set` takes them. */
const LOCAL_IMAGE_SETS: Record<string, string> = Object.fromEntries(
  IMAGES.flatMap((d) => (d.kind === "dockerfile" && d.configKey && d.key !== "reference-app" ? [[d.configKey, d.tag]] : [])),
);

async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: r.status, body: await r.text() };
}

/** The uid of a container's main process (pid 1), read from /proc. */
async function mainUid(container: string): Promise<number> {
  const status = await dockerOk(["exec", container, "cat", "/proc/1/status"]);
  const m = /^Uid:\s+(\d+)/m.exec(status);
  assert.ok(m, status);
  return Number(m[1]);
}

async function connect(port: number, user: string, password: string, database: string): Promise<Client> {
  const c = new Client({ host: "127.0.0.1", port, user, password, database, connectionTimeoutMillis: 5000 });
  await c.connect();
  return c;
}

describe("local base images [docker]", function () {
  this.timeout(120_000);
  const scope = new DockerScope("bases");
  const bases = { "debian-bookworm": tagOf("debian-bookworm"), "debian-trixie": tagOf("debian-trixie") };

  before(async function () {
    await requireDocker(this);
    await requireImages(this, bases);
  });
  after(async () => scope.cleanup());

  for (const [key, tag] of Object.entries(bases)) {
    it(`${key}: "/" is 0755 and a non-root user can run programs (a 0700 root made every non-root image fail)`, async () => {
      const c = await scope.start(`${key}-nobody`, ["--user", "nobody"], { image: tag, command: ["stat", "-c", "%a %U", "/"] });
      assert.equal(await dockerOk(["wait", c]), "0", (await docker(["logs", c])).stderr);
      assert.equal((await docker(["logs", c])).stdout.trim(), "755 root");
    });

    it(`${key}: no maintainer script may start a daemon (policy-rc.d), and apt keeps no .deb files`, async () => {
      const c = await scope.start(`${key}-policy`, [], { image: tag, command: ["sh", "-c", "/usr/sbin/policy-rc.d; echo $?; ls /var/cache/apt/archives | grep -c '\\.deb$' || true"] });
      await dockerOk(["wait", c]);
      assert.deepEqual((await docker(["logs", c])).stdout.trim().split("\n"), ["101", "0"]);
    });
  }
});

describe("local images honour their contracts [docker]", function () {
  this.timeout(180_000);
  const scope = new DockerScope("images");
  let ev: Evaluation;
  let net: string;
  const networks: Record<string, string> = {};

  before(async function () {
    await requireDocker(this);
    await requireImages(this, Object.fromEntries(INFRA.map((k) => [k, tagOf(k)])));
    // Receivers' secrets set, to a host that never resolves (.invalid): the image's contract is
    // that Alertmanager loads the rendered config with real receivers, not the null ones an unset
    // secret gives. https, because plain http is refused outside alerting.httpReceiverHosts.
    ev = await evaluateStack("dev", { sets: { ...LOCAL_IMAGE_SETS, slackWebhookUrl: "https://webhook-sink.invalid/slack", pagerdutyRoutingKey: "test-routing-key" } });
    net = await scope.network();
    const declaredNet = ev.resources.find((r) => r.type === "docker:index/network:Network");
    assert.ok(declaredNet);
    networks[`${declaredNet.name}-mock`] = net;
  });
  after(async () => scope.cleanup());

  it("the dev stack declares the local images once its image keys point at them", () => {
    for (const [role, key] of [
      ["edge-proxy", "nginx"],
      ["dev-postgres", "postgres"],
      ["monitoring-prometheus", "prometheus"],
      ["monitoring-alertmanager", "alertmanager"],
      ["monitoring-exporter", "postgres-exporter"],
    ]) {
      assert.equal(containerByRole(ev, role).inputs.image, tagOf(key), role);
    }
  });

  describe("dev PostgreSQL (the official image's contract)", () => {
    const password = `pw-${Math.random().toString(36).slice(2)}'"$ x`;
    let volume: string;
    let pg: string;
    let port: number;

    before(async () => {
      volume = await scope.volume("pgdata");
      const declared = containerByRole(ev, "dev-postgres");
      const spec = containerSpec(declared, { networks, volumes: { [`dev-postgres-data-mock`]: volume }, publish: "ephemeral" });
      // The declared env names the password file; the declared upload carries the mock runtime's password, which
      // this test's own replaces (same path, owner and mode). User and database are this test's too.
      const env = ["--env", `POSTGRES_PASSWORD_FILE=${envOf(declared).POSTGRES_PASSWORD_FILE}`, "--env", "POSTGRES_USER=owner", "--env", "POSTGRES_DB=appdb"];
      const createArgs = spec.createArgs.filter((a, i, all) => a !== "--env" && all[i - 1] !== "--env");
      const uploads = spec.uploads.map((u) => (u.file === envOf(declared).POSTGRES_PASSWORD_FILE ? { ...u, content: password } : u));
      assert.equal(uploads.filter((u) => u.content === password).length, 1, "the declared upload at POSTGRES_PASSWORD_FILE");
      pg = await scope.start("pg", [...createArgs, ...env], { image: spec.image, command: spec.command, uploads });
      await waitHealthy(pg, 120_000);
      port = await publishedPort(pg, 5432);
    });

    it("becomes healthy by its declared pg_isready check, and pg_isready is on the PATH", async () => {
      assert.match(await dockerOk(["exec", pg, "sh", "-c", "command -v pg_isready"]), /pg_isready$/);
      assert.equal((await docker(["exec", pg, "pg_isready", "-U", "owner"])).code, 0);
    });

    it("accepts the env's user and password over TCP (password auth), into POSTGRES_DB, and refuses a wrong password", async () => {
      const c = await connect(port, "owner", password, "appdb");
      try {
        const r = await c.query<{ u: string; d: string; su: boolean }>("select current_user as u, current_database() as d, (select rolsuper from pg_roles where rolname = current_user) as su");
        assert.deepEqual(r.rows[0], { u: "owner", d: "appdb", su: true });
        const hba = await c.query<{ auth_method: string }>("select auth_method from pg_hba_file_rules where type = 'host' and address = 'all'");
        assert.deepEqual(hba.rows.map((x) => x.auth_method), ["scram-sha-256"]);
        const listen = await c.query<{ setting: string }>("select setting from pg_settings where name = 'listen_addresses'");
        assert.equal(listen.rows[0].setting, "*");
      } finally {
        await c.end();
      }
      await assert.rejects(connect(port, "owner", "wrong", "appdb"), /password authentication failed for user "owner"/);
    });

    it("the server runs as the non-root postgres user", async () => {
      const uid = await mainUid(pg);
      assert.notEqual(uid, 0);
      assert.equal(await dockerOk(["exec", pg, "id", "-un", String(uid)]), "postgres");
    });

    it("the password is in no env: not in `docker inspect`, not in any process's environ; the file is 0400 and the postgres user's (uid 999)", async () => {
      const inspected = await dockerOk(["inspect", pg]);
      assert.ok(!inspected.includes(password), "docker inspect shows the password");
      const environs = await dockerOk(["exec", pg, "sh", "-c", "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'"]);
      assert.match(environs, /POSTGRES_PASSWORD_FILE=/, "the environs were read");
      assert.ok(!environs.includes(password), "a process's environ holds the password");
      assert.equal(await dockerOk(["exec", pg, "stat", "-c", "%a %u:%g", DEV_POSTGRES_PASSWORD_FILE.path]), "400 999:999");
      assert.equal(await dockerOk(["exec", pg, "id", "-u", "postgres"]), DEV_POSTGRES_PASSWORD_FILE.uid);
    });

    it("refuses POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE together, and a file it cannot read, saying which", async () => {
      const both = await scope.start("pgboth", ["--env", "POSTGRES_PASSWORD=x", "--env", "POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password"], {
        image: tagOf("postgres"),
        uploads: [{ file: "/run/secrets/postgres_password", content: "y", owner: "999", group: "999", permissions: "0400" }],
      });
      const unreadable = await scope.start("pgunreadable", ["--env", "POSTGRES_PASSWORD_FILE=/run/secrets/postgres_password"], {
        image: tagOf("postgres"),
        uploads: [{ file: "/run/secrets/postgres_password", content: "y", owner: "0", group: "0", permissions: "0400" }],
      });
      for (const [c, re] of [
        [both, /both POSTGRES_PASSWORD and POSTGRES_PASSWORD_FILE are set/],
        [unreadable, /POSTGRES_PASSWORD_FILE names \/run\/secrets\/postgres_password, which the user postgres cannot read/],
      ] as const) {
        await waitFor("the container to exit", 60_000, async () => ((await dockerOk(["inspect", "--format", "{{.State.Status}}", c])) === "exited" ? true : undefined));
        assert.match((await docker(["logs", c])).stderr, re);
        assert.notEqual(await dockerOk(["inspect", "--format", "{{.State.ExitCode}}", c]), "0");
      }
    });

    it("is reachable from another container on the network under its alias postgres:5432", async () => {
      const probe = await scope.start("pgprobe", ["--network", net, "--env", `PGPASSWORD=${password}`], {
        image: tagOf("postgres"),
        command: ["psql", "-h", "postgres", "-U", "owner", "-d", "appdb", "-tAc", "select 42"],
      });
      const code = await waitFor("the probe to exit", 60_000, async () => {
        const s = await dockerOk(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", probe]);
        return s.startsWith("exited") ? Number(s.split(" ")[1]) : undefined;
      });
      const logs = await docker(["logs", probe]);
      assert.equal(code, 0, logs.stderr);
      assert.equal(logs.stdout.trim(), "42");
    });

    it("keeps its data in the volume at /var/lib/postgresql/data: a new container on it keeps rows and the first password", async () => {
      const c = await connect(port, "owner", password, "appdb");
      await c.query("create table kept (v text)");
      await c.query("insert into kept values ('survives')");
      await c.end();
      await scope.remove(pg);
      // initdb does not run again: the new env is ignored, as in the official image.
      pg = await scope.start("pg2", ["--volume", `${volume}:/var/lib/postgresql/data`, "--publish", "127.0.0.1::5432", "--env", "POSTGRES_PASSWORD=other", "--health-cmd", "pg_isready -U owner", "--health-interval", "1s"], {
        image: tagOf("postgres"),
      });
      await waitHealthy(pg, 120_000);
      port = await publishedPort(pg, 5432);
      const c2 = await connect(port, "owner", password, "appdb");
      try {
        assert.deepEqual((await c2.query("select v from kept")).rows, [{ v: "survives" }]);
      } finally {
        await c2.end();
      }
      assert.match(await dockerOk(["exec", pg, "ls", "/var/lib/postgresql/data"]), /PG_VERSION/);
    });

    it("refuses to initialise without POSTGRES_PASSWORD, saying so", async () => {
      const c = await scope.start("pgnopw", [], { image: tagOf("postgres") });
      await waitFor("the container to exit", 60_000, async () => ((await dockerOk(["inspect", "--format", "{{.State.Status}}", c])) === "exited" ? true : undefined));
      const logs = await docker(["logs", c]);
      assert.match(logs.stderr, /POSTGRES_PASSWORD is not set/);
    });
  });

  describe("edge proxy (nginx)", () => {
    it("starts with the uploaded config, answers its own health path, and Docker reports its declared wget check healthy", async () => {
      const spec = containerSpec(containerByRole(ev, "edge-proxy"), { networks, publish: "ephemeral" });
      assert.ok(spec.uploads.some((u) => u.file === "/etc/nginx/nginx.conf"));
      const proxy = await startSpec(scope, spec);
      assert.match(await dockerOk(["exec", proxy, "sh", "-c", "command -v wget"]), /wget$/);
      const port = await publishedPort(proxy, PROXY_LISTEN_PORT);
      const r = await waitFor("the proxy to answer", 30_000, async () => {
        const x = await httpGet(`http://127.0.0.1:${port}${PROXY_HEALTH_PATH}`);
        return x.status === 200 ? x : undefined;
      });
      assert.equal(r.body, "ok\n");
      await waitHealthy(proxy, 60_000);
      // No app replica answers the alias yet: the proxy says so rather than hanging.
      const app = await httpGet(`http://127.0.0.1:${port}/api/agent/query`);
      assert.ok([502, 503, 504].includes(app.status), String(app.status));
    });
  });

  describe("monitoring (the component's commands, env and uploads)", () => {
    it("Prometheus starts with the declared flags and files, as nobody, and answers /-/ready and /-/healthy", async () => {
      const volume = await scope.volume("promdata");
      const declared = containerByRole(ev, "monitoring-prometheus");
      const spec = containerSpec(declared, { networks, volumes: { "monitoring-prometheus-data-mock": volume }, publish: "ephemeral", alsoPublish: [MONITORING_CONTAINER.prometheus.port] });
      const c = await startSpec(scope, spec);
      const port = await publishedPort(c, MONITORING_CONTAINER.prometheus.port);
      for (const p of ["/-/ready", "/-/healthy"]) {
        await waitFor(`prometheus ${p}`, 60_000, async () => ((await httpGet(`http://127.0.0.1:${port}${p}`)).status === 200 ? true : undefined));
      }
      // The uploaded rules loaded: the rule groups are there.
      const rules = JSON.parse((await httpGet(`http://127.0.0.1:${port}/api/v1/rules`)).body) as { data: { groups: unknown[] } };
      assert.ok(rules.data.groups.length > 0, "no rule group loaded");
      assert.equal(await dockerOk(["exec", c, "id", "-un"]), "nobody");
      assert.equal(await mainUid(c), Number(await dockerOk(["exec", c, "id", "-u", "nobody"])));
    });

    it("Alertmanager starts with the declared flags and the rendered alertmanager.yml, as nobody, and answers /-/ready and /-/healthy", async () => {
      const spec = containerSpec(containerByRole(ev, "monitoring-alertmanager"), { networks, publish: "ephemeral", alsoPublish: [MONITORING_CONTAINER.alertmanager.port] });
      assert.ok(spec.command.includes("--cluster.listen-address="));
      const c = await startSpec(scope, spec);
      const port = await publishedPort(c, MONITORING_CONTAINER.alertmanager.port);
      for (const p of ["/-/ready", "/-/healthy"]) {
        await waitFor(`alertmanager ${p}`, 60_000, async () => ((await httpGet(`http://127.0.0.1:${port}${p}`)).status === 200 ? true : undefined));
      }
      assert.equal(await dockerOk(["exec", c, "id", "-un"]), "nobody");
    });

    it("the exporter starts with the declared flags, env and files, reads its password from the 0400 DATA_SOURCE_PASS_FILE (no secret in its env), and serves /metrics", async () => {
      const pw = "exporter-test-pw";
      const pg = await scope.start("exporterpg", ["--network", net, "--network-alias", "exporterdb", "--env", `POSTGRES_PASSWORD=${pw}`, "--health-cmd", "pg_isready -U postgres", "--health-interval", "1s"], {
        image: tagOf("postgres"),
      });
      await waitHealthy(pg, 120_000);
      const spec = containerSpec(containerByRole(ev, "monitoring-exporter"), { networks, publish: "ephemeral", alsoPublish: [MONITORING_CONTAINER.exporter.port] });
      assert.ok(spec.command.some((a) => a.startsWith("--extend.query-path=")));
      // The declared connection is the mock runtime's; point it at this test's database, keep the rest of the env and files.
      assert.ok(!spec.createArgs.some((a) => a.startsWith("DATA_SOURCE_NAME=")), "no DSN (with its password) in the env");
      const ex = MONITORING_CONTAINER.exporter;
      assert.ok(spec.createArgs.includes(`DATA_SOURCE_PASS_FILE=${ex.passwordFile}`));
      const args = spec.createArgs.map((a) =>
        a.startsWith("DATA_SOURCE_URI=") ? "DATA_SOURCE_URI=exporterdb:5432/postgres?sslmode=disable" : a.startsWith("DATA_SOURCE_USER=") ? "DATA_SOURCE_USER=postgres" : a,
      );
      assert.ok(args.some((a) => a === "PG_EXPORTER_DISABLE_DEFAULT_METRICS=true"));
      const passFile = spec.uploads.find((u) => u.file === ex.passwordFile);
      assert.deepEqual([passFile?.owner, passFile?.permissions], [ex.uid, "0400"]);
      const uploads = spec.uploads.map((u) => (u === passFile ? { ...u, content: pw } : u));
      const c = await scope.start("exporter", args, { image: spec.image, command: spec.command, uploads });
      // Owner-only, owned by the user the exporter runs as.
      assert.equal(await dockerOk(["exec", c, "stat", "-c", "%a %u", ex.passwordFile]), `400 ${ex.uid}`);
      const port = await publishedPort(c, MONITORING_CONTAINER.exporter.port);
      const metrics = await waitFor("exporter /metrics with pg_up 1", 60_000, async () => {
        const r = await httpGet(`http://127.0.0.1:${port}/metrics`);
        return r.status === 200 && /^pg_up 1$/m.test(r.body) ? r.body : undefined;
      });
      assert.match(metrics, /^pg_exporter_last_scrape_error/m);
      assert.equal(await dockerOk(["exec", c, "id", "-un"]), "nobody");
    });
  });
});
