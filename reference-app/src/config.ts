/**
 * The reference app's configuration, read from its environment. Pure: the
 * caller passes the environment (and the file reader for DATABASE_URL_FILE). Every bad value is reported at once, naming
 * the variable, its value (never DATABASE_URL's: it carries the password) and
 * what is allowed.
 */
import { APP_ENV_NAMES, ENV_NAMES, Flags, STAGES, Stage, isStage } from "../../core/stages";
import { Fault, NO_FAULT, parseFault } from "./contract";

/** Variables only the reference app reads (the program never sets them). */
export const REFAPP_ENV_NAMES = {
  /** Address both ports bind to. Default 0.0.0.0 (in a container); tests use 127.0.0.1. */
  listenHost: "REFAPP_LISTEN_HOST",
  /** The admin port (fault knob, metrics). Unset: no admin port. Never published. */
  adminPort: "REFAPP_ADMIN_PORT",
  /** The fault in force at start, as JSON (see Fault in contract.ts). */
  fault: "REFAPP_FAULT",
} as const;

export interface AppConfig extends Flags {
  canaryPercentage: Stage;
  databaseUrl: string;
  port: number;
  healthCheckPath: string;
  listenHost: string;
  adminPort: number | undefined;
  fault: Fault;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const HOST_RE = /^(?:\d{1,3}(?:\.\d{1,3}){3}|::|::1|localhost)$/;

/** Reads a file's text (main.ts passes fs.readFileSync; tests pass a map). Throws when it cannot. */
export type ReadFile = (path: string) => string;

const noFiles: ReadFile = (p) => {
  throw new Error(`no file reader given (reading ${p})`);
};

/**
 * The database URL: from the file DATABASE_URL_FILE names (a Docker secret: what the deploy gives, so the
 * password is in no env, no `docker inspect` and no /proc/<pid>/environ), or from DATABASE_URL for a local
 * run (the drill, the tests, a developer's shell), where there is no Docker secret. Both set is refused:
 * which one wins would be a guess. A trailing newline in the file (an editor's, `echo`'s) is dropped.
 */
function databaseUrlOf(env: Env, readFile: ReadFile, problems: string[]): string {
  const file = env[APP_ENV_NAMES.databaseUrlFile];
  if (file === undefined) return env[ENV_NAMES.databaseUrl] ?? "";
  if (env[ENV_NAMES.databaseUrl] !== undefined) {
    problems.push(`${APP_ENV_NAMES.databaseUrlFile}=${JSON.stringify(file)} and ${ENV_NAMES.databaseUrl} are both set: set only one (the file, in a deploy)`);
    return "";
  }
  try {
    return readFile(file).replace(/\r?\n$/, "");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push(`${APP_ENV_NAMES.databaseUrlFile}=${JSON.stringify(file)}: cannot read the file (${code ?? (err as Error).message}); expected a readable file holding postgres://user:password@host:port/database`);
    return "";
  }
}

export function parseConfig(env: Env, readFile: ReadFile = noFiles): AppConfig {
  const problems: string[] = [];
  const show = (name: string) => (env[name] === undefined ? `${name} (unset)` : `${name}=${JSON.stringify(env[name])}`);

  const bool = (name: string): boolean => {
    const v = env[name];
    if (v === "true" || v === "false") return v === "true";
    problems.push(`${show(name)}: expected true or false`);
    return false;
  };
  const port = (name: string, optional: boolean): number | undefined => {
    const v = env[name];
    if (v === undefined && optional) return undefined;
    if (v !== undefined && /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535) return Number(v);
    problems.push(`${show(name)}: expected a TCP port from 1 to 65535${optional ? ", or unset" : ""}`);
    return undefined;
  };

  const enableStatelessOrchestration = bool(ENV_NAMES.statelessOrchestration);
  const enableSafeJsonParser = bool(ENV_NAMES.safeJsonParser);

  const pctText = env[ENV_NAMES.canaryPercentage];
  let canaryPercentage: Stage = 0;
  if (pctText !== undefined && /^\d{1,3}$/.test(pctText) && isStage(Number(pctText))) canaryPercentage = Number(pctText) as Stage;
  else problems.push(`${show(ENV_NAMES.canaryPercentage)}: expected one of the stages ${STAGES.join(", ")}`);

  const problemsBeforeUrl = problems.length;
  const databaseUrl = databaseUrlOf(env, readFile, problems);
  const urlFrom = env[APP_ENV_NAMES.databaseUrlFile] !== undefined ? `${ENV_NAMES.databaseUrl} (from ${APP_ENV_NAMES.databaseUrlFile})` : ENV_NAMES.databaseUrl;
  // A file that could not be read is reported once, by databaseUrlOf.
  const fileProblem = problems.length > problemsBeforeUrl;
  let urlOk = false;
  try {
    urlOk = ["postgres:", "postgresql:"].includes(new URL(databaseUrl).protocol);
  } catch {
    urlOk = false;
  }
  if (!urlOk && !fileProblem) {
    problems.push(
      `${urlFrom}: ${databaseUrl === "" ? "unset or empty" : "not a postgres:// or postgresql:// URL"} (value not shown: it carries a password); expected postgres://user:password@host:port/database`,
    );
  }

  const appPort = port(APP_ENV_NAMES.port, false);
  const healthCheckPath = env[APP_ENV_NAMES.healthCheckPath] ?? "";
  // The program validated it (config appHealthCheckPath); the app only needs it absolute. A query part is ignored.
  if (!healthCheckPath.startsWith("/")) problems.push(`${show(APP_ENV_NAMES.healthCheckPath)}: expected an absolute URL path such as /health`);

  const listenHost = env[REFAPP_ENV_NAMES.listenHost] ?? "0.0.0.0";
  if (!HOST_RE.test(listenHost)) problems.push(`${show(REFAPP_ENV_NAMES.listenHost)}: expected an IP address such as 0.0.0.0 or 127.0.0.1, or unset`);
  const adminPort = port(REFAPP_ENV_NAMES.adminPort, true);
  if (adminPort !== undefined && adminPort === appPort) {
    problems.push(`${show(REFAPP_ENV_NAMES.adminPort)}: must differ from ${APP_ENV_NAMES.port}`);
  }

  let fault: Fault = { ...NO_FAULT };
  const faultText = env[REFAPP_ENV_NAMES.fault];
  if (faultText !== undefined) {
    try {
      fault = parseFault(JSON.parse(faultText), REFAPP_ENV_NAMES.fault);
    } catch (err) {
      problems.push(err instanceof SyntaxError ? `${show(REFAPP_ENV_NAMES.fault)}: not JSON (${err.message})` : (err as Error).message);
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    enableStatelessOrchestration,
    enableSafeJsonParser,
    canaryPercentage,
    databaseUrl,
    port: appPort as number,
    healthCheckPath,
    listenHost,
    adminPort,
    fault,
  };
}
