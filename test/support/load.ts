/**
 * A small closed-loop load generator for the `[docker]` Swarm tests and
 * `npm run bench:stage-change`: `connections` workers, each sending the
 * guide's request (`POST /api/agent/query`, a bearer token per user, users in
 * turn) to the edge proxy on loopback, one after another, over keep-alive
 * connections. Bounded: it stops at `maxSeconds` or `maxRequests`, whichever
 * comes first, and each request times out after `timeoutMs`. Every request is
 * recorded (test/support/loadStats.ts summarises them).
 */
import * as http from "node:http";
import { flagsOn } from "../../core/stages";
import { AGENT_QUERY_PATH, REPLICA_HEADER, ROLLOUT_HEADER, parseRolloutHeader } from "../../reference-app/src/contract";
import type { Sample } from "./loadStats";
import { publishTarget } from "./docker";

export interface LoadOptions {
  /** The edge proxy's loopback URL. */
  url: string;
  connections: number;
  /** Distinct users (bearer tokens `load-user-<i>`). */
  users: number;
  maxSeconds: number;
  maxRequests: number;
  timeoutMs?: number;
}

export class Load {
  readonly samples: Sample[] = [];
  private readonly t0 = performance.now();
  private stopped = false;
  private readonly agent: http.Agent;
  private readonly done: Promise<void>;
  private next = 0;
  /** Session ids are `<run>-<n>`: unique per request, across runs on the same database. */
  private readonly run = `load-${process.pid}-${Date.now().toString(36)}`;

  constructor(private readonly opts: LoadOptions) {
    const u = new URL(opts.url);
    // Loopback, or the multi-node harness's manager (a container the tests started), where its published ports are.
    if (u.hostname !== "127.0.0.1" && u.hostname !== "localhost" && u.hostname !== publishTarget().reachHost) {
      throw new Error(`load url ${opts.url}: expected a loopback address (or the multi-node harness's manager)`);
    }
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.connections });
    this.done = Promise.all(Array.from({ length: opts.connections }, () => this.worker())).then(() => undefined);
  }

  /** Milliseconds since the load started (the samples' clock). */
  now(): number {
    return performance.now() - this.t0;
  }

  /** Stop sending; resolves when every request in flight has ended. */
  async stop(): Promise<Sample[]> {
    this.stopped = true;
    await this.done;
    this.agent.destroy();
    return this.samples;
  }

  private async worker(): Promise<void> {
    const deadline = this.opts.maxSeconds * 1000;
    while (!this.stopped && this.now() < deadline && this.next < this.opts.maxRequests) {
      const n = this.next++;
      this.samples.push(await this.one(`load-user-${n % this.opts.users}`, `${this.run}-${n}`));
    }
  }

  private one(user: string, sessionId: string): Promise<Sample> {
    const startMs = this.now();
    const body = JSON.stringify({ query: "test query", sessionId });
    return new Promise((resolve) => {
      let settled = false;
      const finish = (status: number, res: http.IncomingMessage | undefined, error?: string) => {
        if (settled) return;
        settled = true;
        let replica: string | undefined;
        let on: boolean | undefined;
        let pct: number | undefined;
        const header = res?.headers[ROLLOUT_HEADER];
        if (typeof header === "string") {
          try {
            const h = parseRolloutHeader(header);
            on = flagsOn(h);
            pct = h.canaryPercentage;
          } catch {
            /* not the app's header: counted by its status */
          }
        }
        const r = res?.headers[REPLICA_HEADER];
        if (typeof r === "string") replica = r;
        resolve({ sessionId, startMs, endMs: this.now(), status, replica, flagsOn: on, canaryPercentage: pct, error });
      };
      const req = http.request(
        `${this.opts.url}${AGENT_QUERY_PATH}`,
        {
          method: "POST",
          agent: this.agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: `Bearer ${user}` },
          timeout: this.opts.timeoutMs ?? 30_000,
        },
        (res) => {
          res.resume();
          res.on("end", () => finish(res.statusCode ?? 0, res));
          res.on("error", (e) => finish(0, res, e.message));
        },
      );
      req.on("timeout", () => {
        req.destroy(new Error("timeout"));
      });
      req.on("error", (e) => finish(0, undefined, e.message));
      req.end(body);
    });
  }
}
