/**
 * The reference app's side of the rollout contract, as data and pure
 * functions: the response header that says which path served a request, the
 * timings of a graceful stop, and the fault knob's shape. Tests, benchmarks
 * and harnesses import these instead of restating them. Pure: no I/O, clock
 * or env. The contract in prose: docs/reference-app.md.
 */
import { PROXY_CONNECT_TIMEOUT_SECONDS, PROXY_RESOLVER_VALID_SECONDS } from "../../core/proxyConfig";
import { ENV_NAMES, Flags, Stage, isStage } from "../../core/stages";

// ---------------------------------------------------------------------------
// Which path served a request

/** The path that served a request; `none` for responses that are not an agent query (health, 401, 404). */
export type ServedPath = "new" | "legacy" | "none";

/** On every response of the app port. */
export const ROLLOUT_HEADER = "x-valuecanvas-rollout";
/** The replica (host name: the container id under Docker) that answered. */
export const REPLICA_HEADER = "x-valuecanvas-replica";

export interface RolloutHeader extends Flags {
  path: ServedPath;
  canaryPercentage: Stage;
}

/** `path=new; ENABLE_STATELESS_ORCHESTRATION=true; ENABLE_SAFE_JSON_PARSER=true; CANARY_PERCENTAGE=10` */
export function formatRolloutHeader(h: RolloutHeader): string {
  return [
    `path=${h.path}`,
    `${ENV_NAMES.statelessOrchestration}=${h.enableStatelessOrchestration}`,
    `${ENV_NAMES.safeJsonParser}=${h.enableSafeJsonParser}`,
    `${ENV_NAMES.canaryPercentage}=${h.canaryPercentage}`,
  ].join("; ");
}

/** The inverse of formatRolloutHeader; throws naming the header and its value when it is not one. */
export function parseRolloutHeader(value: string | undefined): RolloutHeader {
  const bad = (why: string) => new Error(`${ROLLOUT_HEADER}: ${JSON.stringify(value)}: ${why}`);
  if (value === undefined) throw bad("missing");
  const fields = new Map<string, string>();
  for (const part of value.split(";")) {
    const m = /^\s*([A-Za-z_]+)=([a-z0-9]+)\s*$/.exec(part);
    if (!m) throw bad(`expected "name=value" fields separated by "; ", got ${JSON.stringify(part)}`);
    fields.set(m[1], m[2]);
  }
  const bool = (name: string): boolean => {
    const v = fields.get(name);
    if (v !== "true" && v !== "false") throw bad(`${name} must be true or false`);
    return v === "true";
  };
  const path = fields.get("path");
  if (path !== "new" && path !== "legacy" && path !== "none") throw bad("path must be new, legacy or none");
  const pct = Number(fields.get(ENV_NAMES.canaryPercentage));
  if (!isStage(pct)) throw bad(`${ENV_NAMES.canaryPercentage} must be a stage`);
  return {
    path,
    enableStatelessOrchestration: bool(ENV_NAMES.statelessOrchestration),
    enableSafeJsonParser: bool(ENV_NAMES.safeJsonParser),
    canaryPercentage: pct,
  };
}

// ---------------------------------------------------------------------------
// A graceful stop (SIGTERM)

/**
 * After SIGTERM the health check fails at once and the app keeps serving for
 * this long: at least the proxy's resolver validity plus its connect timeout
 * (core/proxyConfig.ts), plus a second of margin, so that a request the proxy
 * sends by an address it resolved just before the stop is still served.
 */
export const SERVE_AFTER_SIGTERM_MS = (PROXY_RESOLVER_VALID_SECONDS + PROXY_CONNECT_TIMEOUT_SECONDS + 1) * 1000;
/** Then the listener closes, and requests in flight get this long to finish. */
export const DRAIN_TIMEOUT_MS = 12_000;
/**
 * Whatever happens, the process exits by this long after SIGTERM (exit code 1
 * if it had to cut something short). Below the stop grace period the program
 * gives app containers (components/app.ts destroyGraceSeconds: 30 s), so
 * Docker never has to SIGKILL it.
 */
export const EXIT_DEADLINE_MS = 25_000;

// ---------------------------------------------------------------------------
// The fault knob

/**
 * Faults a test injects (env REFAPP_FAULT as JSON at start, or PUT /fault on
 * the admin port at run time). A fault on the new path writes its rows as
 * errors (status 'error'), so monitoring sees it as it would see a real one.
 */
export interface Fault {
  /** Share of new-path requests that fail with 500 (and an error row), from 0 to 1. */
  newPathErrorRate: number;
  /** Extra latency of every new-path request, in milliseconds. */
  newPathLatencyMs: number;
  /** A bad release: every path of the app port returns 500 and the health check fails. */
  badRelease: boolean;
}

export const NO_FAULT: Readonly<Fault> = Object.freeze({ newPathErrorRate: 0, newPathLatencyMs: 0, badRelease: false });

export const MAX_FAULT_LATENCY_MS = 120_000;

const FAULT_ALLOWED: Record<keyof Fault, string> = {
  newPathErrorRate: "a number from 0 to 1",
  newPathLatencyMs: `an integer from 0 to ${MAX_FAULT_LATENCY_MS}`,
  badRelease: "true or false",
};

/**
 * A fault from JSON-decoded input: an object with any of Fault's keys (the
 * others keep NO_FAULT's values). Throws one message naming every bad key,
 * its value and what is allowed; `source` says where the input came from.
 */
export function parseFault(input: unknown, source: string): Fault {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new Error(`${source}: ${JSON.stringify(input)}: expected a JSON object with any of ${Object.keys(FAULT_ALLOWED).join(", ")}`);
  }
  const errors: string[] = [];
  const out: Fault = { ...NO_FAULT };
  for (const [key, value] of Object.entries(input)) {
    const show = `${source}.${key}=${JSON.stringify(value)}`;
    switch (key) {
      case "newPathErrorRate":
        if (typeof value === "number" && value >= 0 && value <= 1) out.newPathErrorRate = value;
        else errors.push(`${show}: expected ${FAULT_ALLOWED.newPathErrorRate}`);
        break;
      case "newPathLatencyMs":
        if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= MAX_FAULT_LATENCY_MS) out.newPathLatencyMs = value;
        else errors.push(`${show}: expected ${FAULT_ALLOWED.newPathLatencyMs}`);
        break;
      case "badRelease":
        if (typeof value === "boolean") out.badRelease = value;
        else errors.push(`${show}: expected ${FAULT_ALLOWED.badRelease}`);
        break;
      default:
        errors.push(`${show}: unknown key; allowed keys are ${Object.keys(FAULT_ALLOWED).join(", ")}`);
    }
  }
  if (errors.length > 0) throw new Error(errors.join("\n"));
  return out;
}

// ---------------------------------------------------------------------------
// The agent query

/** The guide's verification request: POST, JSON body `{"query": "..."}`, `Authorization: Bearer <token>`. */
export const AGENT_QUERY_PATH = "/api/agent/query";

/**
 * The user a bearer token names. A JWT (three dot-separated base64url parts)
 * names the user in its payload's `sub`; any other RFC 6750 token is the user
 * id itself. The reference app identifies, it does not authenticate: it
 * checks no signature. Undefined when there is no usable token.
 */
export function userFromAuthorization(header: string | undefined): string | undefined {
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header ?? "");
  if (!m) return undefined;
  const token = m[1];
  const parts = token.split(".");
  if (parts.length !== 3) return token;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    const sub = typeof payload === "object" && payload !== null ? (payload as { sub?: unknown }).sub : undefined;
    return typeof sub === "string" && sub.length > 0 ? sub : undefined;
  } catch {
    return undefined;
  }
}

/** A session id a client may send to continue its session: 1 to 200 printable ASCII characters. */
export const SESSION_ID_RE = /^[\x21-\x7e]{1,200}$/;
