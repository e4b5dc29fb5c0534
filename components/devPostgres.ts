/**
 * The `dev` stack's own PostgreSQL container, used when no external database
 * is configured. Containers reach it as `postgres:5432` on the private network;
 * the Pulumi engine (migrations, roles) through loopback on `devPostgresPort`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import { execHealthCheckTest } from "../core/healthCheck";
import { containerLabels } from "../program/labels";

export interface DevPostgresArgs {
  image: string;
  networkName: pulumi.Input<string>;
  /** Loopback port the engine's host uses to reach it. */
  hostPort: number;
}

export const DEV_POSTGRES_ALIAS = "postgres";
export const DEV_POSTGRES_USER = "postgres";
export const DEV_POSTGRES_DB = "postgres";

export const DEV_POSTGRES_PORT = 5432;

/**
 * The superuser's password reaches the server as a 0400 file owned by the image's postgres user (uid 999,
 * images/postgres/Dockerfile), read once by initdb through POSTGRES_PASSWORD_FILE: it is in no env
 * (`docker inspect`, /proc/<pid>/environ) and no command line.
 */
export const DEV_POSTGRES_PASSWORD_FILE = { path: "/run/secrets/postgres_password", uid: "999", mode: "0400" } as const;

export class DevPostgres extends pulumi.ComponentResource {
  readonly adminPassword: pulumi.Output<string>;
  readonly hostPort: number;
  readonly alias = DEV_POSTGRES_ALIAS;
  readonly container: docker.Container;
  /** How the Pulumi engine's host reaches it as admin: loopback, the published port. */
  readonly admin: { host: string; port: number; database: string; user: string; password: pulumi.Output<string>; sslmode: string };
  /** How containers on the private network reach it. */
  readonly endpoint = { host: DEV_POSTGRES_ALIAS, port: DEV_POSTGRES_PORT };

  constructor(name: string, args: DevPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("valuecanvas:database:DevPostgres", name, {}, opts);
    const password = new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, { parent: this });
    this.adminPassword = pulumi.secret(password.result);
    this.hostPort = args.hostPort;
    this.admin = { host: "127.0.0.1", port: args.hostPort, database: DEV_POSTGRES_DB, user: DEV_POSTGRES_USER, password: this.adminPassword, sslmode: "disable" };
    const volume = new docker.Volume(`${name}-data`, {}, { parent: this });
    const image = new docker.RemoteImage(`${name}-image`, { name: args.image, keepLocally: true }, { parent: this });
    this.container = new docker.Container(
      name,
      {
        image: image.imageId,
        envs: [`POSTGRES_PASSWORD_FILE=${DEV_POSTGRES_PASSWORD_FILE.path}`, `POSTGRES_USER=${DEV_POSTGRES_USER}`, `POSTGRES_DB=${DEV_POSTGRES_DB}`],
        uploads: pulumi.secret(
          this.adminPassword.apply((pw) => [
            { file: DEV_POSTGRES_PASSWORD_FILE.path, content: pw, owner: DEV_POSTGRES_PASSWORD_FILE.uid, group: DEV_POSTGRES_PASSWORD_FILE.uid, permissions: DEV_POSTGRES_PASSWORD_FILE.mode },
          ]),
        ),
        volumes: [{ volumeName: volume.name, containerPath: "/var/lib/postgresql/data" }],
        ports: [{ internal: DEV_POSTGRES_PORT, external: args.hostPort, ip: this.admin.host }],
        networksAdvanced: [{ name: args.networkName, aliases: [DEV_POSTGRES_ALIAS] }],
        labels: containerLabels("dev-postgres"),
        healthcheck: { tests: execHealthCheckTest(["pg_isready", "-U", DEV_POSTGRES_USER]), interval: "5s", timeout: "3s", retries: 10 },
        wait: true,
        waitTimeout: 120,
        restart: "unless-stopped",
      },
      { parent: this, deleteBeforeReplace: true },
    );
    this.registerOutputs({ hostPort: this.hostPort });
  }
}
