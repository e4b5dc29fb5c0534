/**
 * How the app's Swarm service rolls out a change: the health gate, the update
 * and rollback policies, and the one rule that makes an immediate rollback an
 * emergency. Pure: no Pulumi import, no I/O. components/app.ts declares the
 * service from these values; docs/swarm.md explains them.
 */
import type { PlacementConfig } from "./configSchema";
import { goShortSeconds } from "./goDuration";
import { RolloutState, isImmediateRollbackState } from "./stages";

/**
 * The app's health check timings (the test itself comes from core/healthCheck.ts).
 * Swarm counts a task as running only once it is healthy, and keeps it out of
 * the service's DNS until then, so these set how fast an update moves and how
 * fast a release that never gets healthy is rolled back
 * (about startPeriod + retries × interval).
 *
 * startPeriod is 60 s so that a 30 s database outage during an update does not
 * roll a good release back: a task started in the outage cannot listen until
 * the database answers, and with 15 s its failed checks turned it unhealthy
 * at about 24 s, inside the outage (measured on the real Swarm,
 * test/stack/swarm-rollout.test.ts). A healthy task passes its first check
 * long before, so this does not slow a good update; it only delays the
 * rollback of a release that never gets healthy to about 70 s.
 *
 * Every duration is in the provider's read-back form (core/goDuration.ts): it
 * reads 60 s back as "1m", and "60s" would show as a change on every preview.
 */
export const APP_HEALTH_CHECK = { interval: goShortSeconds(3), timeout: goShortSeconds(3), retries: 3, startPeriod: goShortSeconds(60) } as const;

/**
 * Seconds Docker waits after SIGTERM before it kills a task. The reference app
 * exits by EXIT_DEADLINE_MS (reference-app/src/contract.ts), well inside
 * (test/program/app-env.test.ts): the provider fails a service delete that
 * outlasts this (issue 15).
 */
export const APP_STOP_GRACE_SECONDS = 30;

/** Swarm's "all tasks at once" parallelism. */
export const ALL_AT_ONCE = 0;
/** A gradual change: one task at a time. */
export const ONE_AT_A_TIME = 1;

/**
 * How many tasks a change to the service updates at once: every task at once
 * for the guide's immediate rollback (both flags off, percentage kept: the
 * state `rollout rollback --immediate` writes, core/transitions.ts planRollback),
 * one at a time for everything else (stage changes, gradual rollbacks, image
 * and replica changes). Either way start-first, behind the same health gate:
 * a new task must be healthy before the old one it replaces is stopped.
 *
 * Derived from the declared state alone, so the same stack file always
 * declares the same service, and no extra config key can disagree with it.
 */
export function updateParallelism(state: RolloutState): number {
  return isImmediateRollbackState(state) ? ALL_AT_ONCE : ONE_AT_A_TIME;
}

/** The service's `updateConfig` (docker provider ServiceUpdateConfig). */
export interface UpdatePolicy {
  order: "start-first";
  parallelism: number;
  failureAction: "rollback";
  /** How long Swarm watches each updated task for a failure before it counts the update as good. */
  monitor: string;
  /** Pause between batches. */
  delay: string;
  /** No failed task is tolerated: one failure rolls the update back. */
  maxFailureRatio: string;
}

/**
 * The soak: how long after it starts a task must keep running before its update counts as good.
 * Swarm's `monitor` starts when an updated task reports running (with a health check: once it is
 * healthy, a few seconds after its start), so a task that dies inside `ROLLOUT_SOAK_SECONDS` of its
 * start dies inside the monitor, counts as a failed update (`maxFailureRatio` 0) and Swarm rolls
 * the update back. With the old 10 s, a release dying 12 s after start crash-looped with `up`
 * green (issue 22, fact 3). The wait after the service (components/rolloutWait.ts) asks the same
 * soak of every running task, so `up` returns only once Swarm could still have rolled back no more.
 */
export const ROLLOUT_SOAK_SECONDS = 30;

export function updatePolicy(state: RolloutState): UpdatePolicy {
  // Go's short form ("30s", "1m"): what the provider reads back (issue 22, fact 1).
  return { order: "start-first", parallelism: updateParallelism(state), failureAction: "rollback", monitor: goShortSeconds(ROLLOUT_SOAK_SECONDS), delay: goShortSeconds(1), maxFailureRatio: "0" };
}

/**
 * The service's `rollbackConfig`: undo a failed update on every updated task at
 * once (it is an emergency), start-first so the old tasks' replacements are
 * healthy before anything stops; if the rollback itself fails, pause and leave
 * it to a person.
 */
export const ROLLBACK_POLICY = { order: "start-first", parallelism: ALL_AT_ONCE, failureAction: "pause", monitor: "5s", delay: "0s", maxFailureRatio: "0" } as const;

/**
 * Swarm's UpdateStatus message once it has rolled an update back. (While the
 * rollback runs it says "update rolled back due to failure"; nobody reads that
 * after `up`.)
 */
export const SWARM_ROLLBACK_COMPLETED = "rollback completed";
/** What a failed `pulumi up` says when Swarm rolled the update back: the provider's words around Swarm's (issue 22 fact 5). */
export const ROLLBACK_UP_ERROR = `service rollback completed: ${SWARM_ROLLBACK_COMPLETED}`;

/**
 * The service's `convergeConfig`. The provider's converge is satisfied as soon as
 * every slot has *a* running task (old ones included) or it reads
 * `UpdateState: completed`, which can be the previous update's (issue 22, fact 3):
 * it does NOT mean "rolled out". It is kept for what it does catch (a rollback that
 * completes while it polls: "service rollback completed: rollback completed"); the
 * wait that means "rolled out" is components/rolloutWait.ts, after the service, with
 * its own timeout (ROLLOUT_WAIT_TIMEOUT_SECONDS). This timeout covers the slowest
 * legitimate update: appReplicas tasks one at a time, each about startPeriod + monitor.
 */
export const CONVERGE_POLICY = { delay: "2s", timeout: "10m" } as const;

/** How long the rollout wait (components/rolloutWait.ts) waits for Swarm to report the update rolled out. */
export const ROLLOUT_WAIT_TIMEOUT_SECONDS = 600;

/**
 * Swarm's restart policy for a task that exits or fails its health check: restart
 * it, always, after 5 s. It does not hide a dying task from the update: the task
 * that died is `failed` (or `complete`) and Swarm's updater counts that inside
 * `monitor` whatever the restart policy does afterwards; the restart only keeps
 * the slot serving meanwhile. `condition: any` (not `on-failure`) so that a task
 * that exits 0 is restarted too; no `maxAttempts`, so a slot never stays empty
 * after a crash outside an update (the app's own fault, which the alerts see).
 */
export const RESTART_POLICY = { condition: "any", delay: "5s", maxAttempts: 0, window: "0s" } as const;

/**
 * The service's endpoint mode: DNS round robin. The default VIP mode answered
 * only 504s on the measured machine (IPVS does not route there, issue 15);
 * with dnsrr the proxy resolves the tasks' own addresses, and a task is in the
 * DNS only while it is healthy.
 */
export const ENDPOINT_MODE = "dnsrr";

/**
 * The app's secrets reach its tasks as Docker secret files, never through the
 * env or the command line (issue 21 finding 5): `docker service inspect`,
 * `docker inspect` of a task and /proc/<pid>/environ show neither. The app
 * reads each through its `*_FILE` variable (docs/reference-app.md).
 */
export const APP_SECRET_FILES = { databaseUrl: "/run/secrets/database_url" } as const;
/** A secret file is readable by its owner only. */
export const SECRET_FILE_MODE = 0o400;
/**
 * The uid and gid the app's tasks run as, which own its secret files (Docker
 * writes them root-owned otherwise, and a 0400 file would be unreadable). The
 * service sets the user, so it does not depend on what the image's USER is.
 */
export const APP_RUN_AS = { uid: "10001", gid: "10001" } as const;

/** The service's `taskSpec.placement` (docker provider ServiceTaskSpecPlacement). */
export interface ServicePlacement {
  constraints?: string[];
  prefs?: string[];
  maxReplicas?: number;
}

/**
 * The app's placement on a multi-node Swarm (config appPlacement, docs/swarm.md "More than one host"), or
 * undefined when the stack sets none: then the spec has no placement at all, so a single-node stack's task
 * template, and its running tasks, stay as they were. Swarm's scheduler already spreads a service's tasks over
 * the nodes that may run them; `spreadOver` spreads them over a node label's values first (zones, racks).
 *
 * `maxReplicasPerNode` needs room: a start-first update starts each new task before its old one stops, so
 * Swarm needs appReplicas + 1 places (appReplicas + parallelism), and the immediate rollback, all at once,
 * 2 × appReplicas; without them the new tasks stay pending ("max replicas per node limit exceed") and the
 * update never ends. The program cannot count the nodes; docs/swarm.md says so.
 */
export function appPlacement(p: PlacementConfig): ServicePlacement | undefined {
  const out: ServicePlacement = {};
  if (p.constraints.length > 0) out.constraints = [...p.constraints];
  if (p.spreadOver.length > 0) out.prefs = p.spreadOver.map((label) => `spread=${label}`);
  if (p.maxReplicasPerNode !== undefined) out.maxReplicas = p.maxReplicasPerNode;
  return Object.keys(out).length > 0 ? out : undefined;
}
