/**
 * The database: migrations applied during `pulumi up`, and two least-privilege
 * login roles (app, monitoring) with generated passwords, all secrets.
 *
 * - The migration is a dynamic resource. Its inputs are the admin URL (secret)
 *   and a hash of the migration files, and its diff looks at the hash only: it
 *   runs when sql/ changes, never because of a stage change, and a failed
 *   migration fails the up with the runner's message (file and PostgreSQL's
 *   error). Deleting the resource drops nothing.
 * - Roles and grants are @pulumi/postgresql resources through an explicit
 *   provider built from `admin`; the grants are core/grants.ts's data and come
 *   after the migration (the objects must exist).
 * - The monitoring URL points at the read replica when one is configured
 *   (roles replicate from the primary), so scrapes and gates never load it.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as postgresql from "@pulumi/postgresql";
import * as random from "@pulumi/random";
import type { MonitoringDatabaseConfig } from "../core/configSchema";
import { ROLE_GRANTS, ROLE_NAMES, ROLE_SETTINGS, RoleKey } from "../core/grants";
import { loadMigrations, migrate, migrationsHash } from "../db/migrate";
import { PROJECT_DIR } from "../program/projectDir";

export interface DatabaseArgs {
  /** How the Pulumi engine's host reaches the database as admin (dev: 127.0.0.1 + published port). */
  admin: {
    host: pulumi.Input<string>;
    port: pulumi.Input<number>;
    database: string;
    user: string;
    password: pulumi.Input<string>;
    sslmode: string;
  };
  /** How containers on the private network reach the primary (dev: the postgres container's alias). */
  appEndpoint: { host: pulumi.Input<string>; port: pulumi.Input<number> };
  /**
   * How an operator on the engine's host reaches the primary, for the
   * `operatorMonitoringUrl` (`rollout status`/`gate` run there). Default:
   * `appEndpoint` (the same host name works from both sides). Dev: loopback
   * and the published port, since the container alias resolves only inside
   * the network.
   */
  operatorEndpoint?: { host: pulumi.Input<string>; port: pulumi.Input<number> };
  /** Optional read replica for the monitoring connection (config.monitoringDatabase). */
  monitoringReplica?: MonitoringDatabaseConfig;
  /**
   * Migrations directory, relative to the project directory (where `pulumi up`
   * runs the dynamic provider) or absolute. Default `sql`. Tests only.
   */
  migrationsDir?: string;
}

/** The migration resource's inputs as the provider receives them. */
export interface MigrationInputs {
  databaseUrl: string;
  /** migrationsHash() of the directory when the program was evaluated. */
  sqlHash: string;
  /** File names, for the preview and the state. */
  files: string[];
  migrationsDir: string;
}

/** What the state keeps (no URL). */
export interface MigrationOutputs {
  sqlHash: string;
  files: string[];
  migrationsDir: string;
  /**
   * Every migration file applied to the database, in order: those applied
   * before this run and those this run applied. (It once held only the last
   * run's files, so `pulumi preview --diff` read as if earlier ones were dropped.)
   */
  applied: string[];
}

async function runMigrations(inputs: MigrationInputs): Promise<MigrationOutputs> {
  const dir = path.resolve(process.cwd(), inputs.migrationsDir);
  const now = migrationsHash(dir);
  if (now !== inputs.sqlHash) {
    throw new Error(`${dir} changed between evaluation and apply (hash ${inputs.sqlHash.slice(0, 12)}… now ${now.slice(0, 12)}…); run the update again`);
  }
  let applied: string[];
  try {
    const result = await migrate({ databaseUrl: inputs.databaseUrl, dir });
    applied = [...result.alreadyApplied, ...result.applied];
  } catch (err) {
    // A plain Error: the engine prints its message (the file and PostgreSQL's error) and fails the up.
    throw new Error((err as Error).message || String(err));
  }
  return { sqlHash: inputs.sqlHash, files: inputs.files, migrationsDir: inputs.migrationsDir, applied };
}

/**
 * The dynamic provider. Serialized into the state by the SDK with the
 * migration runner it captures (db/migrate.ts by value, `pg` by require).
 * `migrationsDir` is relative and resolved against the working directory,
 * which the engine sets to the program's directory for the Node.js dynamic
 * provider plugin, so the state holds no machine path.
 */
export const migrationProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: MigrationInputs): Promise<pulumi.dynamic.CreateResult> {
    const outs = await runMigrations(inputs);
    return { id: `migrations-${inputs.sqlHash.slice(0, 16)}`, outs };
  },
  async diff(_id: string, olds: MigrationOutputs, news: MigrationInputs): Promise<pulumi.dynamic.DiffResult> {
    const changed = olds.sqlHash !== news.sqlHash;
    return { changes: changed, replaces: [], deleteBeforeReplace: false };
  },
  async update(_id: string, _olds: MigrationOutputs, news: MigrationInputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await runMigrations(news) };
  },
  async delete(): Promise<void> {
    // Migrations are additive and production data lives in these tables: removing the resource drops nothing.
  },
};

/** Type `pulumi-nodejs:dynamic/database:Migrations`. */
export class Migrations extends pulumi.dynamic.Resource {
  declare readonly sqlHash: pulumi.Output<string>;
  declare readonly applied: pulumi.Output<string[]>;
  constructor(name: string, props: { databaseUrl: pulumi.Input<string>; sqlHash: string; files: string[]; migrationsDir: string }, opts?: pulumi.CustomResourceOptions) {
    super(migrationProvider, name, { ...props, applied: undefined }, opts, "database", "Migrations");
  }
}

function postgresUrl(user: pulumi.Input<string>, password: pulumi.Input<string>, host: pulumi.Input<string>, port: pulumi.Input<number>, database: string, sslmode: string): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([user, password, host, port])
      .apply(([u, p, h, po]) => `postgres://${encodeURIComponent(u)}:${encodeURIComponent(p)}@${h}:${po}/${encodeURIComponent(database)}?sslmode=${sslmode}`),
  );
}

export class Database extends pulumi.ComponentResource {
  readonly appDatabaseUrl: pulumi.Output<string>;
  readonly monitoringDatabaseUrl: pulumi.Output<string>;
  /**
   * The monitoring role's URL as an operator on the engine's host reaches it
   * (a secret): the replica when one is configured, else `operatorEndpoint`.
   * index.ts exports it, for `rollout status` / `gate`.
   */
  readonly operatorMonitoringUrl: pulumi.Output<string>;
  readonly migration: pulumi.Resource;
  /** The admin connection as the engine's host reaches it (a secret): for resources that write as admin. */
  readonly adminUrl: pulumi.Output<string>;
  readonly appRoleName: pulumi.Output<string>;
  readonly monitoringRoleName: pulumi.Output<string>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("valuecanvas:database:Database", name, {}, opts);
    const { admin } = args;

    const migrationsDir = args.migrationsDir ?? "sql";
    const absDir = path.resolve(PROJECT_DIR, migrationsDir);
    const adminUrl = postgresUrl(admin.user, admin.password, admin.host, admin.port, admin.database, admin.sslmode);
    const migration = new Migrations(
      `${name}-migrations`,
      {
        databaseUrl: adminUrl,
        sqlHash: migrationsHash(absDir),
        files: loadMigrations(absDir).map((m) => m.name),
        migrationsDir,
      },
      { parent: this },
    );

    const provider = new postgresql.Provider(
      `${name}-admin`,
      {
        host: admin.host,
        port: admin.port,
        database: admin.database,
        username: admin.user,
        password: pulumi.secret(admin.password),
        sslmode: admin.sslmode,
        // Managed services (Supabase, RDS) give the admin CREATEROLE, not SUPERUSER.
        superuser: false,
      },
      { parent: this },
    );

    const roles = {} as Record<RoleKey, postgresql.Role>;
    const passwords = {} as Record<RoleKey, random.RandomPassword>;
    const grants: Record<RoleKey, postgresql.Grant[]> = { app: [], monitoring: [] };
    for (const key of ["app", "monitoring"] as const) {
      passwords[key] = new random.RandomPassword(`${name}-${key}-password`, { length: 32, special: false }, { parent: this });
      const s = ROLE_SETTINGS[key];
      roles[key] = new postgresql.Role(
        `${name}-${key}`,
        {
          name: ROLE_NAMES[key],
          login: true,
          password: pulumi.secret(passwords[key].result),
          connectionLimit: s.connectionLimit,
          ...(s.statementTimeoutMs > 0 ? { statementTimeout: s.statementTimeoutMs } : {}),
        },
        { parent: this, provider, additionalSecretOutputs: ["password"] },
      );
      for (const g of ROLE_GRANTS[key]) {
        const grant = new postgresql.Grant(
          `${name}-${key}-${g.key}`,
          {
            database: admin.database,
            role: roles[key].name,
            schema: g.schema,
            objectType: g.objectType,
            ...(g.objects ? { objects: [...g.objects] } : {}),
            privileges: [...g.privileges],
          },
          { parent: this, provider, dependsOn: [migration] },
        );
        grants[key].push(grant);
      }
    }

    this.migration = migration;
    this.adminUrl = pulumi.secret(adminUrl);
    this.appRoleName = roles.app.name;
    this.monitoringRoleName = roles.monitoring.name;
    // A role's name, available once its grants exist: whoever uses the URL waits for them.
    const grantedName = (key: RoleKey) => pulumi.all([roles[key].name, ...grants[key].map((g) => g.id)]).apply(([n]) => n);
    this.appDatabaseUrl = postgresUrl(grantedName("app"), passwords.app.result, args.appEndpoint.host, args.appEndpoint.port, admin.database, admin.sslmode);
    const replica = args.monitoringReplica;
    const monitoringUrlAt = (endpoint: { host: pulumi.Input<string>; port: pulumi.Input<number> }) =>
      replica
        ? postgresUrl(grantedName("monitoring"), passwords.monitoring.result, replica.host, replica.port, replica.database ?? admin.database, replica.sslmode)
        : postgresUrl(grantedName("monitoring"), passwords.monitoring.result, endpoint.host, endpoint.port, admin.database, admin.sslmode);
    this.monitoringDatabaseUrl = monitoringUrlAt(args.appEndpoint);
    this.operatorMonitoringUrl = monitoringUrlAt(args.operatorEndpoint ?? args.appEndpoint);

    this.registerOutputs({
      appDatabaseUrl: this.appDatabaseUrl,
      monitoringDatabaseUrl: this.monitoringDatabaseUrl,
      operatorMonitoringUrl: this.operatorMonitoringUrl,
      appRoleName: this.appRoleName,
      monitoringRoleName: this.monitoringRoleName,
    });
  }
}
