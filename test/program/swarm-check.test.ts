/**
 * Every stack runs on a Swarm manager: a real deploy stops at once, with the
 * exact command, where none is active (core/swarmCheck.ts decides,
 * program/dockerInfo.ts asks the engine). Never under the mock runtime or in a preview.
 */
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DockerInfoError, readSwarmInfo } from "../../program/dockerInfo";
import { DEFAULT_DOCKER_HOST, DockerTarget, DockerTargetError, dockerTarget, swarmCheckApplies, swarmInitCommand, swarmProblem } from "../../core/swarmCheck";
import { evaluateStack } from "../support/program";

const LOCAL = dockerTarget({});

describe("the Swarm manager check", function () {
  this.timeout(60_000);

  describe("the target engine (core/swarmCheck.ts dockerTarget)", () => {
    const cases: Array<[Parameters<typeof dockerTarget>[0], DockerTarget]> = [
      [{}, { kind: "unix", socketPath: "/var/run/docker.sock", host: DEFAULT_DOCKER_HOST }],
      [{ host: "  " }, { kind: "unix", socketPath: "/var/run/docker.sock", host: DEFAULT_DOCKER_HOST }],
      [{ host: "unix:///run/user/1000/docker.sock" }, { kind: "unix", socketPath: "/run/user/1000/docker.sock", host: "unix:///run/user/1000/docker.sock" }],
      [{ host: "tcp://10.0.0.5:2375" }, { kind: "tcp", hostname: "10.0.0.5", port: 2375, host: "tcp://10.0.0.5:2375" }],
      [{ host: "tcp://manager.internal" }, { kind: "tcp", hostname: "manager.internal", port: 2375, host: "tcp://manager.internal" }],
      [{ host: "tcp://10.0.0.5:2376", tlsVerify: "1" }, { kind: "cli", host: "tcp://10.0.0.5:2376" }],
      [{ host: "ssh://deploy@manager.internal" }, { kind: "cli", host: "ssh://deploy@manager.internal" }],
      [{ host: "tcp://x:1", context: "prod-swarm" }, { kind: "cli", context: "prod-swarm" }],
      [{ context: "default", host: "tcp://10.0.0.5:2375" }, { kind: "tcp", hostname: "10.0.0.5", port: 2375, host: "tcp://10.0.0.5:2375" }],
    ];
    for (const [input, want] of cases) it(`${JSON.stringify(input)} → ${want.kind}`, () => assert.deepEqual(dockerTarget(input), want));

    for (const bad of ["ftp://x", "not a url", "npipe:////./pipe/docker_engine"]) {
      it(`refuses ${JSON.stringify(bad)}, naming it and what is allowed`, () => {
        assert.throws(() => dockerTarget({ host: bad }), (e: Error) => e instanceof DockerTargetError && e.message.includes(JSON.stringify(bad)) && /unix|tcp|ssh/.test(e.message));
      });
    }
  });

  describe("the decision (swarmProblem)", () => {
    it("a manager of an active Swarm: go on", () => {
      assert.equal(swarmProblem({ LocalNodeState: "active", ControlAvailable: true }, LOCAL), undefined);
    });

    it("no Swarm: stop, with the exact init command for the engine the deploy targets", () => {
      const local = swarmProblem({ LocalNodeState: "inactive", ControlAvailable: false }, LOCAL)!;
      assert.match(local, /no Swarm is active on the Docker engine at unix:\/\/\/var\/run\/docker\.sock/);
      assert.ok(local.includes("\n  docker swarm init --advertise-addr 127.0.0.1\n"), local);
      const remote = swarmProblem({ LocalNodeState: "inactive" }, dockerTarget({ host: "tcp://10.0.0.5:2375" }))!;
      assert.ok(remote.includes("\n  docker -H tcp://10.0.0.5:2375 swarm init --advertise-addr 10.0.0.5\n"), remote);
      const ctx = swarmProblem({}, dockerTarget({ context: "prod swarm" }))!;
      assert.ok(ctx.includes("docker --context 'prod swarm' swarm init --advertise-addr 127.0.0.1"), ctx);
      assert.equal(swarmInitCommand(dockerTarget({ host: "ssh://deploy@10.1.2.3" })), "docker -H ssh://deploy@10.1.2.3 swarm init --advertise-addr 10.1.2.3");
    });

    it("a worker, a locked, pending or broken Swarm: stop, saying which", () => {
      assert.match(swarmProblem({ LocalNodeState: "active", ControlAvailable: false }, LOCAL)!, /is a Swarm worker, not a manager/);
      assert.match(swarmProblem({ LocalNodeState: "locked" }, LOCAL)!, /locked: unlock it with docker swarm unlock/);
      assert.match(swarmProblem({ LocalNodeState: "pending" }, LOCAL)!, /still joining/);
      assert.match(swarmProblem({ LocalNodeState: "error", Error: "raft failed" }, LOCAL)!, /state "error" \(raft failed\)/);
    });

    it("runs only on a real deploy: never in a preview, never under the mock runtime", () => {
      assert.equal(swarmCheckApplies({ dryRun: false, mocked: false }), true);
      assert.equal(swarmCheckApplies({ dryRun: true, mocked: false }), false);
      assert.equal(swarmCheckApplies({ dryRun: false, mocked: true }), false);
      assert.equal(swarmCheckApplies({ dryRun: true, mocked: true }), false);
    });
  });

  describe("asking the engine (program/dockerInfo.ts), against a stand-in Engine API on a socket", () => {
    let dir: string;
    let server: ChildProcess | undefined;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "vc-dockerinfo-"));
    });
    afterEach(() => {
      server?.kill();
      server = undefined;
      fs.rmSync(dir, { recursive: true, force: true });
    });
    /** A separate process (the probe blocks this one while it waits): answers GET /info with `status` and `body`. */
    async function standIn(status: number, body: string): Promise<string> {
      const sock = path.join(dir, "docker.sock");
      const script = `require("node:http").createServer((q, s) => { s.writeHead(q.url === "/info" ? Number(process.argv[2]) : 404); s.end(process.argv[3]); }).listen(process.argv[1], () => console.log("up"));`;
      server = spawn(process.execPath, ["-e", script, sock, String(status), body], { stdio: ["ignore", "pipe", "inherit"] });
      await new Promise<void>((res, rej) => {
        server!.stdout!.once("data", () => res());
        server!.once("exit", (c) => rej(new Error(`stand-in exited ${c}`)));
      });
      return `unix://${sock}`;
    }

    it("reads .Swarm from GET /info", async () => {
      const host = await standIn(200, JSON.stringify({ ID: "x", Swarm: { LocalNodeState: "inactive", ControlAvailable: false, NodeAddr: "" } }));
      assert.deepEqual(readSwarmInfo(dockerTarget({ host })), { LocalNodeState: "inactive", ControlAvailable: false, NodeAddr: "" });
    });

    it("an engine that answers an error, or nothing, is a clear error naming it", async () => {
      const host = await standIn(500, "boom");
      assert.throws(() => readSwarmInfo(dockerTarget({ host })), (e: Error) => e instanceof DockerInfoError && e.message.includes(host) && /HTTP 500/.test(e.message));
      const missing = `unix://${path.join(dir, "none.sock")}`;
      assert.throws(() => readSwarmInfo(dockerTarget({ host: missing })), (e: Error) => e instanceof DockerInfoError && e.message.includes(missing));
    });
  });

  it("never fires under the mock runtime: npm run plan evaluates with DOCKER_HOST at an engine that does not exist", async () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = `unix://${path.join(os.tmpdir(), "vc-no-such-engine.sock")}`;
    try {
      const ev = await evaluateStack("dev");
      assert.ok(ev.resources.some((r) => r.type === "docker:index/service:Service"));
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
