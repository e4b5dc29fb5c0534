/**
 * A harness that starts the resources a stack declares on the real Docker
 * engine and a single-node Swarm, for the `[docker]` end-to-end tests. It
 * reads them from the same mock-runtime evaluation `npm run plan` uses
 * (offline/evaluate.ts) and starts them the way `pulumi up` creates a fresh
 * stack: the network (an attachable overlay, so the Swarm service and the
 * plain containers share it) and volumes, the dev PostgreSQL (waiting until
 * Docker reports it healthy, as `wait: true` does), the migrations through the
 * project's runner (db/migrate.ts), the declared roles and grants (the
 * `postgresql.Role`/`Grant` inputs, memberships included, applied as the
 * provider applies them: test/support/declaredRoles.ts),
 * then the app's `docker.Service` (test/support/service.ts: `docker service
 * create`, waited on as its `convergeConfig` says) and the edge proxy.
 *
 * A change of the app (applyAppChange) is an in-place `docker service update`
 * of the changed fields, waited on the same way; a rollback fails it as it
 * fails `pulumi up`. A change of the roles (applyDatabaseChange: a password
 * rotation) comes before it, as the app's URL secret depends on the role, and
 * its deletes after it (finish), as the engine runs deletes last.
 *
 * It exercises the declared resources; it is not a substitute for `pulumi up`:
 * no provider, no state, no diff engine, no replacement of the service or the
 * network, no rollout-record row. Passwords are the mock runtime's (the
 * declared env and roles agree on them).
 */
import { Client } from "pg";
import { migrate } from "../../db/migrate";
import type { EvaluatedResource, Evaluation } from "../../offline/evaluate";
import { DatabaseChange, applyDatabaseChanges, createDeclared } from "./declaredRoles";
import { ContainerSpec, containerByRole, containerSpec, declaredContainers, startSpec } from "./declared";
import { DockerScope, publishTarget, publishedPort, waitHealthy } from "./docker";
import { appService, envOf, serviceInputs } from "./program";
import { Converged, ServiceRollbackError, createService, runningTasks, updateService } from "./service";
import { ServiceInputs } from "./serviceSpec";

const VOLUME = "docker:index/volume:Volume";
const NETWORK = "docker:index/network:Network";
const SECRET = "docker:index/secret:Secret";

/** The mock runtime names a resource without a `name` input `<resource name>-mock` (offline/evaluate.ts). */
const mockName = (r: EvaluatedResource) => String(r.inputs.name ?? `${r.name}-mock`);

export interface StartedStack {
  /** The real (attachable overlay) network. */
  network: string;
  /** The app's Swarm service (its real name) and the declared spec it was last given. */
  service: string;
  serviceSpec: ServiceInputs;
  /** The admin URL of the dev PostgreSQL through its (ephemeral, loopback) published port. */
  adminUrl: string;
  /** The edge proxy's loopback URL. */
  proxyUrl: string;
  /** The edge proxy's declared container (the container running it is `containers[proxySpec.name]`). */
  proxySpec: ContainerSpec;
  /** Container names by declared resource name (the plain containers: dev PostgreSQL, edge proxy). */
  containers: Record<string, string>;
  /** The container ids of the app service's running tasks (refreshed by applyAppChange). */
  appContainers: string[];
  /** The migrations the runner applied. */
  migrations: string[];
  /** The real Swarm secrets made for the declared docker.Secrets, by declared resource name and data. */
  secrets: Map<string, string>;
}

export interface StartOptions {
  /** Replace the declared app image, e.g. a stand-in named as such by the test (a service takes no uploads). */
  app?: { image: string };
  /** Publish the edge proxy on this loopback port instead of an ephemeral one (a replacement keeps the address). */
  proxyLoopbackPort?: number;
  log?: (line: string) => void;
}

function waitMs(spec: ContainerSpec, fallbackSeconds: number): number {
  const t = spec.resource.inputs.waitTimeout;
  return (typeof t === "number" ? t : fallbackSeconds) * 1000;
}

/** The app's declared docker.Service (exactly one). */
export function declaredService(ev: Evaluation): { resource: EvaluatedResource; spec: ServiceInputs } {
  const r = appService(ev);
  return { resource: r, spec: serviceInputs(r) };
}

/**
 * Make the real Swarm secrets `ev` declares (one per declared resource and data: new data is a new secret, as the
 * provider replaces an immutable secret) and point the spec's secret mounts at them. The mock runtime names a
 * declared secret `<name>-mock` and its id `<name>-id`.
 */
async function withSecrets(scope: DockerScope, ev: Evaluation, spec: ServiceInputs, known: Map<string, string>): Promise<ServiceInputs> {
  const real = new Map<string, string>();
  for (const r of ev.resources.filter((x) => x.type === SECRET)) {
    const data = Buffer.from(String(r.inputs.data), "base64").toString("utf8");
    const key = `${r.name}\0${data}`;
    if (!known.has(key)) known.set(key, await scope.secret(r.name, data));
    real.set(mockName(r), known.get(key)!);
    real.set(`${r.name}-id`, known.get(key)!);
  }
  const c = spec.taskSpec.containerSpec;
  if (!c.secrets || c.secrets.length === 0) return spec;
  const secrets = c.secrets.map((x) => {
    const n = real.get(String(x.secretName ?? x.secretId));
    if (!n) throw new Error(`secret mount ${JSON.stringify(x.secretName ?? x.secretId)} names no declared docker.Secret`);
    return { ...x, secretId: n, secretName: n };
  });
  return { ...spec, taskSpec: { ...spec.taskSpec, containerSpec: { ...c, secrets } } };
}

function withImage(spec: ServiceInputs, opts: StartOptions): ServiceInputs {
  if (!opts.app) return spec;
  return { ...spec, taskSpec: { ...spec.taskSpec, containerSpec: { ...spec.taskSpec.containerSpec, image: opts.app.image } } };
}

/** Every declared network (by its mock name and mock id) → the one real network. */
function networkMap(ev: Evaluation, real: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of ev.resources.filter((r) => r.type === NETWORK)) {
    out[mockName(n)] = real;
    out[`${n.name}-id`] = real;
  }
  for (const r of declaredContainers(ev)) for (const n of (r.inputs.networksAdvanced as Array<{ name: string }> | undefined) ?? []) out[n.name] = real;
  return out;
}

/** Start the dev stack `ev` declares (monitoring left out) in `scope`. Everything is removed by `scope.cleanup()`. */
export async function startDevStack(scope: DockerScope, ev: Evaluation, opts: StartOptions = {}): Promise<StartedStack> {
  const log = opts.log ?? (() => undefined);
  const network = await scope.network("stack", { overlay: true });
  const networks = networkMap(ev, network);
  const volumes: Record<string, string> = {};
  for (const v of ev.resources.filter((r) => r.type === VOLUME)) volumes[mockName(v)] = await scope.volume(v.name);
  const containers: Record<string, string> = {};

  // 1. the dev PostgreSQL, healthy
  const pgSpec = containerSpec(containerByRole(ev, "dev-postgres"), { networks, volumes, publish: "ephemeral" });
  containers[pgSpec.name] = await startSpec(scope, pgSpec);
  await waitHealthy(containers[pgSpec.name], waitMs(pgSpec, 120));
  const env = envOf(pgSpec.resource);
  const port = await publishedPort(containers[pgSpec.name], 5432);
  // The superuser's password is the file the container was given (POSTGRES_PASSWORD_FILE), as the program's admin output is.
  const passwordFile = pgSpec.uploads.find((u) => u.file === env.POSTGRES_PASSWORD_FILE);
  if (!passwordFile) throw new Error(`dev-postgres: no upload at POSTGRES_PASSWORD_FILE (${String(env.POSTGRES_PASSWORD_FILE)})`);
  const host = publishTarget().reachHost;
  const adminUrl = `postgres://${encodeURIComponent(env.POSTGRES_USER)}:${encodeURIComponent(passwordFile.content)}@${host}:${port}/${encodeURIComponent(env.POSTGRES_DB)}?sslmode=disable`;
  log(`dev PostgreSQL healthy on ${host}:${port}`);

  // 2. migrations (the project's runner), then the declared roles and grants
  const m = await migrate({ databaseUrl: adminUrl, log: () => undefined });
  log(`migrations applied: ${m.applied.length}`);
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await createDeclared(admin, ev);
  } finally {
    await admin.end();
  }

  // 3. the app's Swarm service, converged
  const declared = declaredService(ev);
  const secrets = new Map<string, string>();
  const spec = await withSecrets(scope, ev, withImage(declared.spec, opts), secrets);
  const svc = await createService(scope, declared.resource.name, spec, networks, log);
  const appContainers = (await runningTasks(svc.name)).map((t) => t.containerId!).filter(Boolean);
  log(`app service ${svc.name}: ${appContainers.length} tasks running after ${svc.converged.seconds.toFixed(1)} s`);

  // 4. the edge proxy, healthy
  const proxySpec = containerSpec(containerByRole(ev, "edge-proxy"), { networks, publish: opts.proxyLoopbackPort ? { loopbackPort: opts.proxyLoopbackPort } : "ephemeral" });
  containers[proxySpec.name] = await startSpec(scope, proxySpec);
  await waitHealthy(containers[proxySpec.name], waitMs(proxySpec, 60));
  const proxyPort = await publishedPort(containers[proxySpec.name], (proxySpec.resource.inputs.ports as Array<{ internal: number }>)[0].internal);

  return {
    network,
    service: svc.name,
    serviceSpec: spec,
    adminUrl,
    proxyUrl: `http://${host}:${proxyPort}`,
    proxySpec,
    containers,
    appContainers,
    migrations: m.applied,
    secrets,
  };
}

export interface AppliedChange {
  /** The service's fields the change updated in place (dotted input paths). */
  changed: string[];
  /** The `docker service update` flags sent (only the changed fields). */
  flags: string[];
  converged: Converged;
  /** The container ids of the tasks running before and after. */
  before: string[];
  after: string[];
}

/**
 * Apply a change of the app from the declared `current` to `next`: the in-place `docker service
 * update` the provider makes, waited on as its convergeConfig says. Rejects with
 * ServiceRollbackError when Swarm rolled the update back (`pulumi up` fails so); the stack then
 * records the new spec anyway, as the provider's state does after a failed update.
 */
export async function applyAppChange(scope: DockerScope, stack: StartedStack, current: Evaluation, next: Evaluation, opts: StartOptions = {}): Promise<AppliedChange> {
  void scope;
  void current; // the spec the service was last given is the stack's (after a failed update, the failed one, as in the provider's state)
  const declared = declaredService(next);
  const spec = await withSecrets(scope, next, withImage(declared.spec, opts), stack.secrets);
  const before = stack.appContainers;
  let u;
  try {
    u = await updateService(stack.service, declared.resource.name, stack.serviceSpec, spec, opts.log);
  } finally {
    // As the provider leaves its state after a failed update too: the new spec recorded as the service's
    // outputs (issue 22, fact 4), so the next change is diffed against it, not against what Swarm runs.
    stack.serviceSpec = spec;
  }
  stack.appContainers = (await runningTasks(stack.service)).map((t) => t.containerId!).filter(Boolean);
  return { changed: u.changed, flags: u.flags, converged: u.converged, before, after: stack.appContainers };
}

export { ServiceRollbackError };

/**
 * Apply the declared roles' and grants' change from `current` to `next` (test/support/declaredRoles.ts), before
 * the app's change; call `finish()` after it for the deletes `pulumi up` runs last.
 */
export async function applyDatabaseChange(stack: StartedStack, current: Evaluation, next: Evaluation): Promise<Omit<DatabaseChange, "finish"> & { finish: () => Promise<void> }> {
  const change = await withAdmin(stack, (admin) => applyDatabaseChanges(admin, current, next));
  return { steps: change.steps, pending: change.pending, finish: () => withAdmin(stack, (admin) => change.finish(admin)) };
}

/** Run `fn` with an admin connection to the stack's database. */
export async function withAdmin<T>(stack: StartedStack, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: stack.adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
