/**
 * The database: migrations applied during `pulumi up`, and least-privilege
 * roles with generated passwords, all secrets: the monitoring login role, and
 * the app's NOLOGIN group role with its two login roles, used in turn so that a
 * password rotation fails no request (core/appCredentials.ts).
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
import { APP_LOGIN_ROLES, APP_SLOTS, AppSlot, activeSlot, passwordKeepers } from "../core/appCredentials";
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
  /**
   * How many times the app's password was rotated (config appCredentialRotation, default 0): which of the
   * app's two login roles the URL names, and which passwords are new (core/appCredentials.ts).
   */
  appCredentialRotation?: number;
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
  /** The login role the app uses (after `appCredentialRotation` rotations: core/appCredentials.ts). */
  readonly appRoleName: pulumi.Output<string>;
  /** The NOLOGIN group role that holds the app's privileges. */
  readonly appGroupRoleName: pulumi.Output<string>;
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

    // A login role with its kind's settings (per login role: PostgreSQL does not pass them down from a group).
    const loginRole = (resource: string, key: RoleKey, roleName: string, password: random.RandomPassword, memberOf: pulumi.Input<string>[] = []) => {
      const s = ROLE_SETTINGS[key];
      return new postgresql.Role(
        resource,
        {
          name: roleName,
          login: true,
          password: pulumi.secret(password.result),
          ...(memberOf.length > 0 ? { roles: memberOf, inherit: true } : {}),
          connectionLimit: s.connectionLimit,
          ...(s.statementTimeoutMs > 0 ? { statementTimeout: s.statementTimeoutMs } : {}),
        },
        { parent: this, provider, additionalSecretOutputs: ["password"] },
      );
    };

    // The app's privileges are held by a NOLOGIN group role; its two login roles inherit them and take turns
    // (core/appCredentials.ts). Slot a keeps the resource names the single app role had: an existing stack's
    // role and password are unchanged (it only joins the group), and so is the app's URL.
    const appGroup = new postgresql.Role(`${name}-app-group`, { name: ROLE_NAMES.app, login: false }, { parent: this, provider });
    const rotation = args.appCredentialRotation ?? 0;
    const appLogins = {} as Record<AppSlot, { role: postgresql.Role; password: random.RandomPassword }>;
    for (const slot of APP_SLOTS) {
      const resource = slot === "a" ? `${name}-app` : `${name}-app-${slot}`;
      const keepers = passwordKeepers(rotation, slot);
      const password = new random.RandomPassword(`${resource}-password`, { length: 32, special: false, ...(keepers ? { keepers } : {}) }, { parent: this });
      appLogins[slot] = { role: loginRole(resource, "app", APP_LOGIN_ROLES[slot], password, [appGroup.name]), password };
    }
    const monitoringPassword = new random.RandomPassword(`${name}-monitoring-password`, { length: 32, special: false }, { parent: this });
    const monitoringRole = loginRole(`${name}-monitoring`, "monitoring", ROLE_NAMES.monitoring, monitoringPassword);

    const grantees: Record<RoleKey, postgresql.Role> = { app: appGroup, monitoring: monitoringRole };
    const grants: Record<RoleKey, postgresql.Grant[]> = { app: [], monitoring: [] };
    for (const key of ["app", "monitoring"] as const) {
      for (const g of ROLE_GRANTS[key]) {
        const grant = new postgresql.Grant(
          `${name}-${key}-${g.key}`,
          {
            database: admin.database,
            role: grantees[key].name,
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
    // A login role's name, available once it is created or updated (its password set, its membership granted)
    // and its kind's grants exist: whoever uses the URL waits for them. For the app, the rotation's new URL
    // (a new Docker secret, then the service update) so waits for the new password to be set.
    const grantedName = (role: postgresql.Role, key: RoleKey) => pulumi.all([role.name, ...grants[key].map((g) => g.id)]).apply(([n]) => n);
    const active = appLogins[activeSlot(rotation)];
    this.appRoleName = active.role.name;
    this.appGroupRoleName = appGroup.name;
    this.monitoringRoleName = monitoringRole.name;
    this.appDatabaseUrl = postgresUrl(grantedName(active.role, "app"), active.password.result, args.appEndpoint.host, args.appEndpoint.port, admin.database, admin.sslmode);
    const replica = args.monitoringReplica;
    const monitoringName = grantedName(monitoringRole, "monitoring");
    const monitoringUrlAt = (endpoint: { host: pulumi.Input<string>; port: pulumi.Input<number> }) =>
      replica
        ? postgresUrl(monitoringName, monitoringPassword.result, replica.host, replica.port, replica.database ?? admin.database, replica.sslmode)
        : postgresUrl(monitoringName, monitoringPassword.result, endpoint.host, endpoint.port, admin.database, admin.sslmode);
    this.monitoringDatabaseUrl = monitoringUrlAt(args.appEndpoint);
    this.operatorMonitoringUrl = monitoringUrlAt(args.operatorEndpoint ?? args.appEndpoint);

    this.registerOutputs({
      appDatabaseUrl: this.appDatabaseUrl,
      monitoringDatabaseUrl: this.monitoringDatabaseUrl,
      operatorMonitoringUrl: this.operatorMonitoringUrl,
      appRoleName: this.appRoleName,
      appGroupRoleName: this.appGroupRoleName,
      monitoringRoleName: this.monitoringRoleName,
    });
  }
}
