/**
 * Docker Swarm, for the `[docker]` suites that run the app as a Swarm service
 * (components/app.ts, test/support/service.ts). Where this engine is no
 * active Swarm node, such a suite skips and prints the command that starts a
 * single-node Swarm; under CI=true it fails instead (as requireDocker does).
 */
import { docker, requireDocker } from "./docker";

/** The exact commands that make this engine a single-node Swarm with the task history CI uses (.ci/run). */
export const SWARM_INIT_COMMAND = "docker swarm init --advertise-addr 127.0.0.1 && docker swarm update --task-history-limit 1";

let state: Promise<{ state: string; manager: boolean }> | undefined;

/** This engine's Swarm state ("active", "inactive", "pending", "error", "locked") and whether it is a manager. */
export function swarmState(): Promise<{ state: string; manager: boolean }> {
  state ??= docker(["info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"], { timeoutMs: 20_000 }).then((r) => {
    const [s, control] = r.stdout.trim().split(" ");
    return { state: r.code === 0 && s ? s : "unknown", manager: control === "true" };
  });
  return state;
}

/** In a mocha `before`: requireDocker, then skip (or, under CI=true, fail) unless this engine is an active Swarm manager. */
export async function requireSwarm(ctx: Mocha.Context): Promise<void> {
  await requireDocker(ctx);
  const s = await swarmState();
  if (s.state === "active" && s.manager) return;
  const msg = `this Docker engine is not an active Swarm manager (Swarm state: ${s.state}${s.state === "active" ? ", a worker" : ""}); start a single-node Swarm with: ${SWARM_INIT_COMMAND}`;
  if (process.env.CI === "true") throw new Error(`${msg} (CI=true: this is a failure, not a skip)`);
  console.warn(`      skipped: ${msg}`);
  ctx.skip();
}
