/**
 * The stack config schema (namespace `valuecanvas`): the one definition of
 * every key, its default, and what is allowed; the config types. Pure: no
 * Pulumi import. Validation with whole-config messages: core/config.ts.
 *
 * Values arrive as Pulumi hands them to a program (strings; structured values
 * JSON-encoded) or as YAML values read from a stack file; both are accepted.
 */
import { z } from "zod";
import {
  GUIDE_SOAK_HOURS,
  GUIDE_THRESHOLDS,
  MANAGED_ENV_NAMES,
  STAGES,
  Stage,
  isStage,
} from "./stages";
import { firstBadCharacter } from "./yamlSubset";
import { MAX_APP_CREDENTIAL_ROTATION } from "./appCredentials";

export const CONFIG_NAMESPACE = "valuecanvas";

/** Keys (dot paths) whose values are secrets: never printed, always Pulumi secrets. */
export const SECRET_KEYS = ["database.adminPassword", "pagerdutyRoutingKey", "slackWebhookUrl", "responder.githubToken"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/** Stacks whose app image must be pinned by digest. */
export const PINNED_STACKS: readonly string[] = ["prod"];

export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;

// ---------------------------------------------------------------------------
// Field parsers. Each carries one sentence saying what is allowed; that
// sentence is the error message and the config reference's "allowed" column.

/** A field: `parse` returns the typed value, or undefined when the input is not allowed. */
function field<T>(allowed: string, parse: (v: unknown) => T | undefined) {
  return z
    .unknown()
    .transform((v, ctx): T => {
      const out = parse(v);
      if (out === undefined) {
        ctx.addIssue({ code: "custom", message: allowed, input: v });
        return z.NEVER;
      }
      return out;
    })
    .describe(allowed);
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v.trim());
  return undefined;
}

function intField(min: number, max: number, what = "an integer") {
  // A range of one value reads "must be N", never "from 0 to 0".
  return field(min === max ? `${what} that must be ${min}` : `${what} from ${min} to ${max}`, (v) => {
    const n = toNumber(v);
    return n !== undefined && Number.isInteger(n) && n >= min && n <= max ? n : undefined;
  });
}

function numberField(min: number, max: number, unit: string, exclusiveMin = false) {
  const lower = exclusiveMin ? `greater than ${min}` : `at least ${min}`;
  return field(`a number ${lower} and at most ${max} (${unit})`, (v) => {
    const n = toNumber(v);
    if (n === undefined || n > max) return undefined;
    return exclusiveMin ? (n > min ? n : undefined) : n >= min ? n : undefined;
  });
}

const boolField = field(`true or false`, (v) => {
  if (typeof v === "boolean") return v;
  if (v === "true") return true;
  if (v === "false") return false;
  return undefined;
});

const stageField = field(
  `one of the stages ${STAGES.join(", ")} (a bare number, no "%")`,
  (v): Stage | undefined => {
    const n = toNumber(v);
    return n !== undefined && isStage(n) ? n : undefined;
  },
);

function stringField(allowed: string, re: RegExp) {
  return field(allowed, (v) => (typeof v === "string" && re.test(v) ? v : undefined));
}

function enumField<const T extends readonly string[]>(values: T) {
  return field(`one of ${values.join(", ")}`, (v) =>
    typeof v === "string" && (values as readonly string[]).includes(v) ? (v as T[number]) : undefined,
  );
}

/** A secret: any non-empty string. Its value is never shown. */
function secretField(what: string) {
  return field(`${what}, a non-empty string stored as a secret (pulumi config set --secret)`, (v) =>
    typeof v === "string" && v.length > 0 ? v : undefined,
  );
}

export const IMAGE_RE =
  /^(?:[a-z0-9.-]+(?::[0-9]+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;
export const DIGEST_RE = /@sha256:[a-f0-9]{64}$/;

const imageField = stringField(
  "a container image reference such as registry/name:tag or registry/name@sha256:<64 hex digits>",
  IMAGE_RE,
);
const hostField = stringField("a host name or IP address", /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[?[0-9a-fA-F:]+\]?$/);
const identifierField = stringField("a PostgreSQL identifier: letters, digits and _, starting with a letter or _", /^[A-Za-z_][A-Za-z0-9_]{0,62}$/);
const bindAddressField = stringField("an IPv4 address to bind published ports to, e.g. 127.0.0.1", /^(\d{1,3}\.){3}\d{1,3}$/);
const portField = intField(1, 65535, "a TCP port");
// Prometheus's own duration grammar (prometheus/common model.ParseDuration, what
// promtool and Prometheus read `for:` and intervals with): units y w d h m s ms,
// each at most once, largest first, integer counts; "0" alone; and at most
// 2^63-1 nanoseconds in all (Go's time.Duration), else "duration out of range".
// test/alerts/duration.test.ts checks this against promtool itself.
const PROM_DURATION_RE = /^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$/;
const PROM_UNIT_MS = [31_536_000_000n, 604_800_000n, 86_400_000n, 3_600_000n, 60_000n, 1000n, 1n] as const;
const GO_MAX_DURATION_NS = (1n << 63n) - 1n;

/** Milliseconds of a Prometheus duration, or undefined when Prometheus would refuse it. */
export function parsePromDuration(s: string): number | undefined {
  if (s === "0") return 0;
  const m = s === "" ? null : PROM_DURATION_RE.exec(s);
  if (!m) return undefined;
  let ms = 0n;
  PROM_UNIT_MS.forEach((unit, i) => {
    if (m[i + 1] !== undefined) ms += BigInt(m[i + 1]) * unit;
  });
  return ms * 1_000_000n > GO_MAX_DURATION_NS ? undefined : Number(ms);
}

const PROM_DURATION_ALLOWED =
  "a Prometheus duration such as 30s, 5m or 1h30m (units y, w, d, h, m, s, ms, each at most once, largest first; at most about 292y)";
const durationField = field(PROM_DURATION_ALLOWED, (v) => (typeof v === "string" && parsePromDuration(v) !== undefined ? v : undefined));
/** An interval: a Prometheus duration above zero (Prometheus reads 0 as "use the default"). */
const intervalField = field(`${PROM_DURATION_ALLOWED}, above zero`, (v) =>
  typeof v === "string" && (parsePromDuration(v) ?? 0) > 0 ? v : undefined,
);

// The health check's URL path: only characters that no shell, URL parser or
// HTTP client reads as syntax. RFC 3986 allows ; & $ ' ( ) * in a path, so
// "URL-safe" is not enough. %XX escapes carry anything else.
export const HEALTH_CHECK_PATH_RE = /^\/(?:[A-Za-z0-9._~/-]|%[0-9A-Fa-f]{2}){0,1023}$/;
/** The HTTP client the app image has; the health check runs it with the URL as one argument (no shell). */
export const HEALTH_CHECK_PROBES = ["wget", "curl"] as const;

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const extraEnvField = field(
  `a map of environment variable names to string values, not overriding ${MANAGED_ENV_NAMES.join(", ")}`,
  (v) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      if (!ENV_NAME_RE.test(k) || MANAGED_ENV_NAMES.includes(k)) return undefined;
      if (typeof val === "string") out[k] = val;
      else if (typeof val === "number" || typeof val === "boolean") out[k] = String(val);
      else return undefined;
    }
    return out;
  },
);

/** A list input: an array, or the JSON text of one (how Pulumi passes a list set with `--path`); undefined otherwise. */
function listInput(v: unknown): unknown[] | undefined {
  if (typeof v === "string" && v.trim().startsWith("[")) {
    try {
      const x: unknown = JSON.parse(v);
      return Array.isArray(x) ? x : undefined;
    } catch {
      return undefined;
    }
  }
  return Array.isArray(v) ? v : undefined;
}

/** A list of at most `max` strings, each matching `re`. */
function stringListField(allowed: string, re: RegExp, max: number) {
  return field(allowed, (v) => {
    const x = listInput(v);
    if (x === undefined || x.length > max) return undefined;
    return x.every((w): w is string => typeof w === "string" && re.test(w)) ? [...x] : undefined;
  });
}

/**
 * The reference app image's command (reference-app/Dockerfile's CMD): appCommand's default. The program runs
 * the app as `/usr/bin/env NAME=VALUE … <appCommand>` (components/app.ts, docs/swarm.md), so it must know the
 * command the image would run.
 */
export const REFERENCE_APP_COMMAND: readonly string[] = ["/usr/bin/node", "/opt/reference-app/reference-app/src/main.js"];
const appCommandField = field(
  "the app image's command as a list of strings (its ENTRYPOINT then its CMD), the first an absolute path, e.g. [\"/usr/bin/node\", \"/app/main.js\"]; at most 64 words, none empty or holding a NUL",
  (v) => {
    const x = listInput(v);
    if (x === undefined || x.length === 0 || x.length > 64) return undefined;
    if (!x.every((w): w is string => typeof w === "string" && w !== "" && !w.includes("\0"))) return undefined;
    return x[0].startsWith("/") ? [...x] : undefined;
  },
);

// The alert receivers' URLs (Alertmanager's pagerduty_configs.url and slack_configs.api_url).
// A receiver URL carries alerts (and, for PagerDuty, the routing key in the body): https, a host,
// no user:password part, no #fragment. Plain http only to a host the stack names in
// alerting.httpReceiverHosts (a test stack's webhook sink on the stack's own network): checked
// across keys in parseConfig, which knows that list.

/** PagerDuty's Events API v2 endpoint: the default of alerting.pagerdutyUrl (and Alertmanager's own). */
export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";

const RECEIVER_URL_ALLOWED = "an absolute https URL with a host, no user:password@ and no #fragment (plain http only to a host listed in alerting.httpReceiverHosts)";

/** The URL when it is an absolute http(s) URL with a host, no credentials and no fragment; else undefined. */
export function receiverUrl(v: unknown): URL | undefined {
  if (typeof v !== "string" || v.trim() !== v || v === "") return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return undefined;
  }
  if ((u.protocol !== "https:" && u.protocol !== "http:") || u.hostname === "" || u.username !== "" || u.password !== "" || u.hash !== "" || v.includes("#")) return undefined;
  return u;
}

const receiverUrlField = field(RECEIVER_URL_ALLOWED, (v) => (receiverUrl(v) ? (v as string) : undefined));

const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const httpHostsField = field(
  "a list of host names (letters, digits, . and -) that alert receivers may reach over plain http, e.g. [\"webhook-sink\"] in a test stack; default none: every receiver URL must be https",
  (v) => {
    const list = listInput(v);
    if (list === undefined || !list.every((h): h is string => typeof h === "string" && HOST_RE.test(h))) return undefined;
    return [...new Set(list.map((h) => h.toLowerCase()))];
  },
);

// ---------------------------------------------------------------------------
// A hold (issue 25): the guide's pause on "critical bugs reported", which no metric sees. `rollout hold`
// writes it into the stack file, `rollout release` removes it; the gate says PAUSE while it is there.
// It configures no resource: the program accepts it and declares nothing for it.

/** Who may be named as the author of a note or a hold: no ":" or "#" (a skip note's own separators), no line break or control character. */
export const ACTOR_RE = /^[\p{L}\p{M}\p{N} ._@+'()[\]<>-]{1,100}$/u;
export const ACTOR_ALLOWED = "letters, digits, spaces and . _ @ + ' ( ) [ ] < > - (at most 100)";

/** The longest hold reason, in characters: a sentence or two and a link to the bug, not the bug report. */
export const HOLD_REASON_MAX = 500;

/** A hold's time: ISO 8601 UTC to the second, as `rollout hold` writes it (2026-12-07T19:21:18Z); milliseconds allowed. */
export const HOLD_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,3})?Z$/;

/** The time when `v` is a real UTC time in HOLD_TIME_RE's form (no 30 February, no hour 24), else undefined. */
export function holdTime(v: unknown): Date | undefined {
  if (typeof v !== "string") return undefined;
  const m = HOLD_TIME_RE.exec(v);
  if (!m) return undefined;
  const d = new Date(v);
  if (!Number.isFinite(d.getTime())) return undefined;
  const back = d.toISOString();
  return back.slice(0, 19) === `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}` ? d : undefined;
}

/**
 * A hold reason as stored: one line of printable text (what a stack file may hold: core/yamlSubset.ts), no
 * leading or trailing space, at most HOLD_REASON_MAX characters. `rollout hold` turns every run of
 * whitespace (a multi-line --reason) into one space before it checks this.
 */
export function holdReasonOk(v: unknown): v is string {
  return typeof v === "string" && v.trim() === v && v !== "" && [...v].length <= HOLD_REASON_MAX && firstBadCharacter(v) === undefined;
}

const holdSchema = z.strictObject({
  reason: field(
    `why the rollout is held, one line of printable text (no line break, tab or control character; no leading or trailing space), 1 to ${HOLD_REASON_MAX} characters; written by rollout hold --reason`,
    (v) => (holdReasonOk(v) ? v : undefined),
  ),
  by: field(`who set the hold: ${ACTOR_ALLOWED}; written by rollout hold (--by, else $GIT_AUTHOR_NAME, git's user.name or $USER)`, (v) =>
    typeof v === "string" && ACTOR_RE.test(v) ? v : undefined,
  ),
  at: field("when the hold was set, an ISO 8601 UTC time such as 2026-12-07T19:21:18Z; written by rollout hold", (v) =>
    holdTime(v) !== undefined ? (v as string) : undefined,
  ),
});

// ---------------------------------------------------------------------------
// Groups

const thresholdsSchema = z
  .strictObject({
    errorRateWarningPct: numberField(0, 100, "percent", true).default(GUIDE_THRESHOLDS.errorRateWarningPct),
    errorRateCriticalPct: numberField(0, 100, "percent", true).default(GUIDE_THRESHOLDS.errorRateCriticalPct),
    p95WarningSeconds: numberField(0, 3600, "seconds", true).default(GUIDE_THRESHOLDS.p95WarningSeconds),
    p95CriticalSeconds: numberField(0, 3600, "seconds", true).default(GUIDE_THRESHOLDS.p95CriticalSeconds),
    contaminationMax: intField(0, 0, "an integer").default(GUIDE_THRESHOLDS.contaminationMax),
    targetErrorRatePct: numberField(0, 100, "percent", true).default(GUIDE_THRESHOLDS.targetErrorRatePct),
    targetP95Seconds: numberField(0, 3600, "seconds", true).default(GUIDE_THRESHOLDS.targetP95Seconds),
  })
  .superRefine((t, ctx) => {
    const order = (lo: keyof typeof t, hi: keyof typeof t, rel: string) => {
      if (!(t[lo] < t[hi])) {
        ctx.addIssue({
          code: "custom",
          path: [lo],
          input: t[lo],
          message: `less than thresholds.${hi} (${t[hi]}): ${rel}`,
        });
      }
    };
    order("errorRateWarningPct", "errorRateCriticalPct", "the warning level must sit below the critical level");
    order("p95WarningSeconds", "p95CriticalSeconds", "the warning level must sit below the critical level");
    if (!(t.targetErrorRatePct <= t.errorRateWarningPct)) {
      ctx.addIssue({ code: "custom", path: ["targetErrorRatePct"], input: t.targetErrorRatePct, message: `at most thresholds.errorRateWarningPct (${t.errorRateWarningPct}): the target must not be looser than the warning` });
    }
    if (!(t.targetP95Seconds <= t.p95WarningSeconds)) {
      ctx.addIssue({ code: "custom", path: ["targetP95Seconds"], input: t.targetP95Seconds, message: `at most thresholds.p95WarningSeconds (${t.p95WarningSeconds}): the target must not be looser than the warning` });
    }
  });

const databaseSchema = z.strictObject({
  host: hostField,
  port: portField.default(5432),
  database: identifierField.default("postgres"),
  adminUser: identifierField.default("postgres"),
  adminPassword: secretField("the admin user's password"),
  sslmode: enumField(SSL_MODES).default("require"),
});

const monitoringDatabaseSchema = z.strictObject({
  host: hostField,
  port: portField.default(5432),
  database: identifierField.optional(),
  sslmode: enumField(SSL_MODES).default("require"),
});

// Alert rules (core/alerts): minimum sessions per version before a rate or
// latency alert may fire; `for:` durations; scrape and rule intervals.
const alertingSchema = z.strictObject({
  minRequests: intField(1, 1_000_000).default(50),
  warningFor: durationField.default("10m"),
  criticalFor: durationField.default("5m"),
  scrapeInterval: intervalField.default("30s"),
  evaluationInterval: intervalField.default("30s"),
  // How often (seconds) the exporter re-runs the raw contamination count over
  // agent_sessions (its per-query cache_seconds; 0: every scrape). The raw scan
  // sees contamination that bypassed the isolation trigger; it is too costly for
  // every scrape, and SessionIsolationFailure fires at most this much later.
  rawContaminationCheckSeconds: intField(0, 3600).default(300),
  // Where critical alerts page: PagerDuty's Events API v2 (the real service by default). Warnings
  // go to the secret valuecanvas:slackWebhookUrl, which has no default (each workspace has its own).
  pagerdutyUrl: receiverUrlField.default(PAGERDUTY_EVENTS_URL),
  httpReceiverHosts: httpHostsField.default([]),
});

// The rollout gate (core/gate.ts, docs/gate.md). `confidence` is 1 − α for the
// whole rollout, for each kind of error (a false PAUSE/ROLLBACK, a false
// PROCEED): core/gate.ts alphaPlan spends it over the stages and criteria. The minimum volumes apply per path before anything
// but contamination is judged; the legacy minimums gate every comparison with
// legacy (and the baseline at stage 0). An observed exposure off by more than
// `exposureTolerancePct` points makes the verdict WAIT.
const gateSchema = z.strictObject({
  soakHours: numberField(0, 24 * 30, "hours", true).default(GUIDE_SOAK_HOURS),
  minNewRequests: intField(1, 100_000_000).default(500),
  minNewUsers: intField(1, 10_000_000).default(30),
  minLegacyRequests: intField(1, 100_000_000).default(500),
  minLegacyUsers: intField(1, 10_000_000).default(30),
  confidence: numberField(0.5, 0.9999, "a probability", false).default(0.95),
  errorRateMarginPct: numberField(0, 10, "percentage points", true).default(0.5),
  exposureTolerancePct: numberField(0, 100, "percentage points", true).default(10),
});

const monitoringSchema = z.strictObject({
  enabled: boolField.default(true),
  prometheusImage: imageField.default("prom/prometheus:v2.53.3"),
  alertmanagerImage: imageField.default("prom/alertmanager:v0.27.0"),
  exporterImage: imageField.default("quay.io/prometheuscommunity/postgres-exporter:v0.16.0"),
  publishUis: boolField.default(false),
  bindAddress: bindAddressField.default("127.0.0.1"),
  prometheusPort: portField.default(9090),
  alertmanagerPort: portField.default(9093),
});

// What the responder relay (`rollout responder`, issue 25) may do on its own. Off by default: a
// rollback pull request waits for a person's review and merge.
const rollbackSchema = z.strictObject({
  // Merge the immediate-rollback pull request a SessionIsolationFailure opens at once (the merge runs
  // pulumi up). Read by the relay from the base branch's stack file, so turning it on is itself reviewed.
  autoMergeOnContamination: boolField
    .describe("true or false: the responder relay merges the immediate-rollback pull request a SessionIsolationFailure alert opens at once (the merge runs pulumi up; read from the base branch's stack file). Default false: a person merges it")
    .default(false),
});

/** owner/name of a GitHub repository (ci/github.ts splitRepository reads it the same way). */
export const GITHUB_REPOSITORY_RE = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;

// The responder relay (`rollout responder`, components/responder.ts): off unless enabled. Its GitHub
// token is the secret responder.githubToken; its bearer token the program generates.
const responderSchema = z
  .strictObject({
    enabled: boolField.default(false),
    image: imageField.optional(),
    repository: stringField("owner/name of the GitHub repository the stack files live in", GITHUB_REPOSITORY_RE).optional(),
    base: stringField(
      'the branch the stack files are deployed from: letters, digits, ".", "_", "-" and "/", starting with a letter or digit, no ".."',
      /^(?!.*\.\.)(?!.*\/$)(?!.*\.lock$)[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/,
    ).default("main"),
    githubApiUrl: receiverUrlField.default("https://api.github.com"),
    port: portField.default(9095),
    githubToken: secretField("the relay's GitHub token (contents: write and pull requests: write on the repository)").optional(),
  })
  .superRefine((r, ctx) => {
    if (!r.enabled) return;
    if (r.image === undefined) ctx.addIssue({ code: "custom", path: ["image"], input: r.image, message: "required when responder.enabled is true: an image whose entrypoint is this project's rollout CLI" });
    if (r.repository === undefined) ctx.addIssue({ code: "custom", path: ["repository"], input: r.repository, message: "required when responder.enabled is true: owner/name" });
  });

/**
 * Swarm placement constraints the program accepts: `node.<attribute> == value` or `!=`, on the node's id,
 * host name, role, platform or a node label (docs/swarm.md "More than one host"). Engine labels and
 * free text are refused: a constraint no node can meet leaves every task pending.
 */
export const PLACEMENT_CONSTRAINT_RE = /^node\.(id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9][A-Za-z0-9._-]{0,62}) ?(==|!=) ?[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** A spread preference: a node label the scheduler spreads the tasks over, e.g. node.labels.zone. */
export const PLACEMENT_SPREAD_RE = /^node\.labels\.[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const placementSchema = z.strictObject({
  constraints: stringListField(
    "a list of at most 10 Swarm constraints, each node.<id|hostname|role|platform.os|platform.arch|labels.KEY> == or != a value of letters, digits and . _ -, e.g. [\"node.role==worker\"]",
    PLACEMENT_CONSTRAINT_RE,
    10,
  ).default([]),
  spreadOver: stringListField("a list of at most 3 node labels to spread the tasks over, each node.labels.KEY, e.g. [\"node.labels.zone\"]", PLACEMENT_SPREAD_RE, 3).default([]),
  maxReplicasPerNode: intField(1, 50).optional(),
});

/** Parse a JSON-encoded object (how Pulumi passes structured config to a program). */
export function objectInput(v: unknown): unknown {
  if (typeof v === "string" && v.trim().startsWith("{")) {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

const group = <T extends z.ZodType>(s: T) => z.preprocess(objectInput, s);

export const configSchema = z.strictObject({
  canaryPercentage: stageField.default(0),
  enableStatelessOrchestration: boolField.default(false),
  enableSafeJsonParser: boolField.default(false),
  appImage: imageField,
  appReplicas: intField(1, 50).default(2),
  appPlacement: group(placementSchema).default(placementSchema.parse({})),
  appPort: portField.default(3000),
  appHealthCheckPath: stringField(
    "an absolute URL path such as /health: \"/\" then letters, digits, . _ ~ / - or %XX escapes (no query, no shell or URL syntax), at most 1024 characters",
    HEALTH_CHECK_PATH_RE,
  ).default("/health"),
  appHealthCheckProbe: enumField(HEALTH_CHECK_PROBES)
    .describe("one of wget, curl: the HTTP client the app image has; the health check runs it without a shell, the URL one argument (core/healthCheck.ts)")
    .default("wget"),
  appExtraEnv: group(extraEnvField).default({}),
  appCommand: appCommandField.default([...REFERENCE_APP_COMMAND]),
  proxyImage: imageField.default("nginx:1.27.3-alpine"),
  proxyPort: portField.default(8080),
  proxyBindAddress: bindAddressField.default("0.0.0.0"),
  devPostgresImage: imageField.default("postgres:15.10-alpine"),
  devPostgresPort: portField.default(55432),
  // How many times the app's database password was rotated: its parity names the login role the app uses
  // (core/appCredentials.ts). Raise it by exactly 1 per up to rotate (docs/database.md).
  appCredentialRotation: intField(
    0,
    MAX_APP_CREDENTIAL_ROTATION,
    "the count of the app's database password rotations (raise it by exactly 1 per pulumi up to rotate: docs/database.md), an integer",
  ).default(0),
  database: group(databaseSchema).optional(),
  monitoringDatabase: group(monitoringDatabaseSchema).optional(),
  thresholds: group(thresholdsSchema).default(thresholdsSchema.parse({})),
  alerting: group(alertingSchema).default(alertingSchema.parse({})),
  gate: group(gateSchema).default(gateSchema.parse({})),
  monitoring: group(monitoringSchema).default(monitoringSchema.parse({})),
  pagerdutyRoutingKey: secretField("the PagerDuty Events v2 routing key").optional(),
  slackWebhookUrl: field(`the Slack incoming-webhook URL, a secret (pulumi config set --secret): ${RECEIVER_URL_ALLOWED}`, (v) =>
    receiverUrl(v) ? (v as string) : undefined,
  ).optional(),
  hold: group(holdSchema).optional(),
  rollback: group(rollbackSchema).default(rollbackSchema.parse({})),
  responder: group(responderSchema).default(responderSchema.parse({})),
});

export type RolloutConfig = z.output<typeof configSchema>;
export type DatabaseConfig = NonNullable<RolloutConfig["database"]>;
export type MonitoringDatabaseConfig = NonNullable<RolloutConfig["monitoringDatabase"]>;
export type ThresholdsConfig = RolloutConfig["thresholds"];
export type AlertingConfig = RolloutConfig["alerting"];
export type GateConfig = RolloutConfig["gate"];
export type MonitoringConfig = RolloutConfig["monitoring"];
export type ResponderConfig = RolloutConfig["responder"];
export type PlacementConfig = RolloutConfig["appPlacement"];
/** A hold as the stack file records it (`rollout hold`): why, who, when (ISO 8601 UTC). */
export type HoldConfig = NonNullable<RolloutConfig["hold"]>;

/** Config as read: key (without namespace) to value. */
export type RawConfig = Record<string, unknown>;
