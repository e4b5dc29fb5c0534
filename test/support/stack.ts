/**
 * A harness that starts the resources a stack declares on the real Docker
 * engine, for the `[docker]` end-to-end tests. It reads them from the same
 * mock-runtime evaluation `npm run plan` uses (offline/evaluate.ts) and starts
 * them the way `pulumi up` creates a fresh stack: the network and volumes, the
 * dev PostgreSQL (waiting until Docker reports it healthy, as `wait: true`
 * does), the migrations through the project's runner (lib/migrate.ts), the
 * declared roles and grants (the `postgresql.Role`/`Grant` inputs, applied with
 * lib/grants.ts's statements), then the app replicas in parallel and the edge
 * proxy, each waited on until healthy.
 *
 * It exercises the declared resources; it is not a substitute for `pulumi up`:
 * no provider, no state, no diff, no update ordering yet (replacements,
 * pending deletions and a failed `up` are not mimicked), no rollout-record row.
 * Passwords are the mock runtime's (the declared env and roles agree on them).
 */
import { Client } from "pg";
import { grantStatements, GrantSpec } from "../../lib/grants";
import { migrate } from "../../lib/migrate";
import type { EvaluatedResource, Evaluation } from "../../offline/evaluate";
import { LABEL_PREFIX } from "../../components/labels";
import { ContainerSpec, Upload, containerByRole, containerSpec, declaredContainers, startSpec } from "./declared";
import { DockerScope, dockerOk, publishedPort, waitHealthy } from "./docker";
import { envOf, labelsOf } from "./program";

const ROLE = "postgresql:index/role:Role";
const GRANT = "postgresql:index/grant:Grant";
const VOLUME = "docker:index/volume:Volume";

/** The mock runtime names a resource without a `name` input `<resource name>-mock` (offline/evaluate.ts). */
const mockName = (r: EvaluatedResource) => String(r.inputs.name ?? `${r.name}-mock`);

export interface StartedStack {
  network: string;
  /** The admin URL of the dev PostgreSQL through its (ephemeral, loopback) published port. */
  adminUrl: string;
  /** The edge proxy's loopback URL. */
  proxyUrl: string;
  /** Container names by declared resource name. */
  containers: Record<string, string>;
  appContainers: string[];
  /** The migrations the runner applied. */
  migrations: string[];
}

export interface StartOptions {
  /** Replace the declared app image (and add uploads), e.g. a stand-in named as such by the test. */
  app?: { image: string; uploads?: Upload[] };
  log?: (line: string) => void;
}

function waitMs(spec: ContainerSpec, fallbackSeconds: number): number {
  const t = spec.resource.inputs.waitTimeout;
  return (typeof t === "number" ? t : fallbackSeconds) * 1000;
}

/** Apply one declared `postgresql.Role` as the provider would: LOGIN, password, connection limit, statement timeout. */
async function applyRole(admin: Client, r: EvaluatedResource): Promise<void> {
  const i = r.inputs as { name: string; login?: boolean; password?: string; connectionLimit?: number; statementTimeout?: number };
  const create = await admin.query<{ sql: string }>(
    `SELECT format('CREATE ROLE %I WITH %s PASSWORD %L CONNECTION LIMIT %s', $1::text, $2::text, $3::text, $4::int) AS sql`,
    [i.name, i.login ? "LOGIN" : "NOLOGIN", i.password ?? "", i.connectionLimit ?? -1],
  );
  await admin.query(create.rows[0].sql);
  if (i.statementTimeout) {
    const alter = await admin.query<{ sql: string }>(`SELECT format('ALTER ROLE %I SET statement_timeout = %s', $1::text, $2::int) AS sql`, [i.name, i.statementTimeout]);
    await admin.query(alter.rows[0].sql);
  }
}

/** Apply one declared `postgresql.Grant` with the statements lib/grants.ts defines for it. */
async function applyGrant(admin: Client, r: EvaluatedResource): Promise<void> {
  const i = r.inputs as { role: string; schema: string; objectType: GrantSpec["objectType"]; objects?: string[]; privileges: string[] };
  const spec = { key: r.name, schema: i.schema, objectType: i.objectType, objects: i.objects, privileges: i.privileges } as GrantSpec;
  await admin.query("BEGIN");
  try {
    for (const sql of grantStatements(i.role, spec)) await admin.query(sql);
    await admin.query("COMMIT");
  } catch (e) {
    await admin.query("ROLLBACK");
    throw e;
  }
}

/** Start the dev stack `ev` declares (monitoring left out) in `scope`. Everything is removed by `scope.cleanup()`. */
export async function startDevStack(scope: DockerScope, ev: Evaluation, opts: StartOptions = {}): Promise<StartedStack> {
  const log = opts.log ?? (() => undefined);
  const network = await scope.network("stack");
  const networks: Record<string, string> = {};
  for (const r of declaredContainers(ev)) for (const n of (r.inputs.networksAdvanced as Array<{ name: string }> | undefined) ?? []) networks[n.name] = network;
  const volumes: Record<string, string> = {};
  for (const v of ev.resources.filter((r) => r.type === VOLUME)) volumes[mockName(v)] = await scope.volume(v.name);
  const containers: Record<string, string> = {};

  // 1. the dev PostgreSQL, healthy
  const pgSpec = containerSpec(containerByRole(ev, "dev-postgres"), { networks, volumes, publish: "ephemeral" });
  containers[pgSpec.name] = await startSpec(scope, pgSpec);
  await waitHealthy(containers[pgSpec.name], waitMs(pgSpec, 120));
  const env = envOf(pgSpec.resource);
  const port = await publishedPort(containers[pgSpec.name], 5432);
  const adminUrl = `postgres://${encodeURIComponent(env.POSTGRES_USER)}:${encodeURIComponent(env.POSTGRES_PASSWORD)}@127.0.0.1:${port}/${encodeURIComponent(env.POSTGRES_DB)}?sslmode=disable`;
  log(`dev PostgreSQL healthy on 127.0.0.1:${port}`);

  // 2. migrations (the project's runner), then the declared roles and grants
  const m = await migrate({ databaseUrl: adminUrl, log: () => undefined });
  log(`migrations applied: ${m.applied.length}`);
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const r of ev.resources.filter((x) => x.type === ROLE)) await applyRole(admin, r);
    for (const r of ev.resources.filter((x) => x.type === GRANT)) await applyGrant(admin, r);
  } finally {
    await admin.end();
  }

  // 3. the app replicas, in parallel, each healthy
  const appResources = declaredContainers(ev).filter((r) => labelsOf(r)[`${LABEL_PREFIX}/role`] === "app");
  const appContainers = await Promise.all(
    appResources.map(async (r) => {
      const spec = containerSpec(r, { networks, publish: "ephemeral" });
      const s = opts.app ? { ...spec, image: opts.app.image, uploads: [...spec.uploads, ...(opts.app.uploads ?? [])] } : spec;
      const c = await startSpec(scope, s, `app-${labelsOf(r)[`${LABEL_PREFIX}/replica`]}`);
      containers[r.name] = c;
      await waitHealthy(c, waitMs(spec, 180));
      return c;
    }),
  );
  log(`app replicas healthy: ${appContainers.length}`);

  // 4. the edge proxy, healthy
  const proxySpec = containerSpec(containerByRole(ev, "edge-proxy"), { networks, publish: "ephemeral" });
  containers[proxySpec.name] = await startSpec(scope, proxySpec);
  await waitHealthy(containers[proxySpec.name], waitMs(proxySpec, 60));
  const proxyPort = await publishedPort(containers[proxySpec.name], (proxySpec.resource.inputs.ports as Array<{ internal: number }>)[0].internal);

  return { network, adminUrl, proxyUrl: `http://127.0.0.1:${proxyPort}`, containers, appContainers, migrations: m.applied };
}

export interface AppliedChange {
  /** Declared resource names whose container was replaced. */
  replaced: string[];
  /** The new containers, by declared resource name. */
  created: Record<string, string>;
  /** The old containers, deleted at the end. */
  deleted: string[];
}

/** A declared container's inputs that, when they differ, make the Docker provider replace it. */
const replacingInputs = (r: EvaluatedResource) => JSON.stringify({ image: r.inputs.image, envs: r.inputs.envs, labels: r.inputs.labels, command: r.inputs.command, uploads: r.inputs.uploads });

/**
 * Apply a change of the app replicas from the stack's current evaluation to `next`, in the order
 * the Pulumi engine was seen to use for `deleteBeforeReplace: false`: every replacement created
 * first, in parallel; each waited on until healthy (`wait: true`); then the replaced containers
 * deleted at the end, each stopped with its declared signal and grace period.
 */
export async function applyAppChange(scope: DockerScope, stack: StartedStack, current: Evaluation, next: Evaluation, opts: StartOptions = {}): Promise<AppliedChange> {
  const role = (r: EvaluatedResource) => labelsOf(r)[`${LABEL_PREFIX}/role`];
  const before = new Map(declaredContainers(current).filter((r) => role(r) === "app").map((r) => [r.name, r]));
  const after = declaredContainers(next).filter((r) => role(r) === "app");
  const changed = after.filter((r) => !before.has(r.name) || replacingInputs(before.get(r.name)!) !== replacingInputs(r));
  for (const r of changed) {
    if (r.options.deleteBeforeReplace) throw new Error(`${r.name}: deleteBeforeReplace is not mimicked by applyAppChange`);
  }
  const networks = Object.fromEntries(
    declaredContainers(next).flatMap((r) => ((r.inputs.networksAdvanced as Array<{ name: string }> | undefined) ?? []).map((n) => [n.name, stack.network])),
  );
  const created: Record<string, string> = {};
  await Promise.all(
    changed.map(async (r) => {
      const spec = containerSpec(r, { networks, publish: "ephemeral" });
      const s = opts.app ? { ...spec, image: opts.app.image, uploads: [...spec.uploads, ...(opts.app.uploads ?? [])] } : spec;
      const c = await startSpec(scope, s, `app-${labelsOf(r)[`${LABEL_PREFIX}/replica`]}`);
      created[r.name] = c;
      await waitHealthy(c, waitMs(spec, 180));
    }),
  );
  // Only after every replacement is healthy: the replaced ones, in parallel, each with its grace period.
  const deleted = changed.map((r) => stack.containers[r.name]).filter((c): c is string => c !== undefined);
  await Promise.all(
    changed.map(async (r) => {
      const old = stack.containers[r.name];
      if (!old) return;
      const grace = before.get(r.name)?.inputs.destroyGraceSeconds;
      await dockerOk(["stop", "--time", String(typeof grace === "number" ? grace : 10), old], { timeoutMs: 120_000 });
      await scope.remove(old);
    }),
  );
  for (const [name, c] of Object.entries(created)) stack.containers[name] = c;
  stack.appContainers = after.map((r) => stack.containers[r.name]);
  return { replaced: changed.map((r) => r.name), created, deleted };
}
