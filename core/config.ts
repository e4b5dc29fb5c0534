/**
 * Validating stack config (namespace `valuecanvas`) against the schema
 * (core/configSchema.ts). Pure: no Pulumi import.
 *
 * `parseConfig` either returns a fully typed config or throws a `ConfigError`
 * that lists every problem at once, each naming the key, the bad value and what
 * is allowed. Also the namespace stripping and the warnings for valid but
 * noteworthy states.
 */
import { ENV_NAMES, RolloutState, flagsOn, isImmediateRollbackState } from "./stages";
import { SECRET_MASK } from "./redact";
import { closestKey } from "./suggest";
import { CONFIG_NAMESPACE, DIGEST_RE, IMAGE_RE, PINNED_STACKS, RawConfig, RolloutConfig, configSchema, receiverUrl } from "./configSchema";
import { keysAt, valueAt } from "./configIntrospect";
import { mayHoldSecret, showValue } from "./configSecrets";

export interface ConfigProblem {
  /** Full key, e.g. `valuecanvas:canaryPercentage` or `valuecanvas:thresholds.p95WarningSeconds`. */
  key: string;
  /** The offending value as shown to people (secrets masked), or `(missing)`. */
  value: string;
  /** What is allowed. */
  allowed: string;
  /** True when the key itself does not exist (a typo); `allowed` then suggests the closest key. */
  unknownKey?: boolean;
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[], context = "stack config") {
    const lines = problems.map((p) => `  - ${p.key} = ${p.value}: ${p.unknownKey ? "" : "expected "}${p.allowed}`);
    super(`Invalid ${context} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export interface ParseOptions {
  /** The stack name; `prod` requires a digest-pinned app image. */
  stack: string;
}

/**
 * Validate raw config. Returns the typed config, or throws one ConfigError
 * listing every problem.
 */
export function parseConfig(raw: RawConfig, opts: ParseOptions): RolloutConfig {
  const problems: ConfigProblem[] = [];
  const ns = (p: string) => `${CONFIG_NAMESPACE}:${p}`;
  const result = configSchema.safeParse(raw);

  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.map(String);
      if (issue.code === "unrecognized_keys") {
        const valid = keysAt(path);
        for (const k of issue.keys) {
          const full = [...path, k].join(".");
          const hint = closestKey(k, valid);
          problems.push({
            key: ns(full),
            unknownKey: true,
            value: showValue(full, valueAt(raw, [...path, k])),
            allowed: hint
              ? `no such key; did you mean ${ns([...path, hint].join("."))}?`
              : `no such key; valid keys here are ${valid.join(", ")}`,
          });
        }
        continue;
      }
      const dotted = path.join(".");
      const value = valueAt(raw, path);
      let allowed = issue.message;
      if (issue.code === "invalid_type" && issue.expected === "object") {
        allowed = `an object with keys ${keysAt(path).join(", ")}`;
      }
      problems.push({ key: ns(dotted), value: showValue(dotted, value), allowed });
    }
  }

  // Checks across keys, on the raw values, so that they are reported together with the rest.
  const image = valueAt(raw, ["appImage"]);
  if (PINNED_STACKS.includes(opts.stack) && typeof image === "string" && IMAGE_RE.test(image) && !DIGEST_RE.test(image)) {
    problems.push({
      key: ns("appImage"),
      value: showValue("appImage", image),
      allowed: `an image pinned by digest (name@sha256:<64 hex digits>) in stack "${opts.stack}", so the reviewed preview says exactly what runs`,
    });
  }
  if (valueAt(raw, ["monitoringDatabase"]) !== undefined && valueAt(raw, ["database"]) === undefined) {
    problems.push({
      key: ns("monitoringDatabase"),
      value: showValue("monitoringDatabase", valueAt(raw, ["monitoringDatabase"])),
      allowed: `a read replica of valuecanvas:database; set valuecanvas:database first (a stack without it runs its own PostgreSQL)`,
    });
  }
  if (result.success) {
    const cfg = result.data;
    if (cfg.monitoring.publishUis && cfg.monitoring.prometheusPort === cfg.monitoring.alertmanagerPort) {
      problems.push({
        key: ns("monitoring.alertmanagerPort"),
        value: String(cfg.monitoring.alertmanagerPort),
        allowed: `a port other than monitoring.prometheusPort (${cfg.monitoring.prometheusPort})`,
      });
    }
    problems.push(...receiverSchemeProblems(cfg).map((p) => ({ ...p, key: ns(p.key) })));
    if (problems.length === 0) return cfg;
  }
  throw new ConfigError(problems, `config for stack "${opts.stack}"`);
}

/**
 * Receiver URLs that use plain http to a host not in alerting.httpReceiverHosts. The Slack URL is
 * a secret: its value is never shown, only that its scheme is http.
 */
function receiverSchemeProblems(cfg: RolloutConfig): ConfigProblem[] {
  const allowed = cfg.alerting.httpReceiverHosts;
  const out: ConfigProblem[] = [];
  const check = (key: string, url: string | undefined) => {
    const u = url === undefined ? undefined : receiverUrl(url);
    if (!u || u.protocol === "https:" || allowed.includes(u.hostname.toLowerCase())) return;
    out.push({
      key,
      value: mayHoldSecret(key) ? `${SECRET_MASK} (an http URL)` : showValue(key, url),
      allowed: `an https URL: plain http only to a host listed in alerting.httpReceiverHosts (${allowed.length ? allowed.join(", ") : "none listed"})`,
    });
  };
  check("alerting.pagerdutyUrl", cfg.alerting.pagerdutyUrl);
  check("slackWebhookUrl", cfg.slackWebhookUrl);
  return out;
}

/**
 * Strip the namespace from a Pulumi config map (`valuecanvas:key` → `key`).
 * Keys of other namespaces (providers' own, e.g. `docker:host`) are left to
 * their owners.
 */
export function namespaced(all: Record<string, unknown>): RawConfig {
  const out: RawConfig = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [k, v] of Object.entries(all)) {
    if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  }
  return out;
}

/**
 * Valid but noteworthy states, reported by the program with pulumi.log.warn
 * (and by the plan command). Each is worded for the state it sees. Both flags off
 * with a percentage above 0 is the guide's immediate rollback only when the flags
 * were on before; `previous` (the state the change starts from, when the caller
 * knows it: plan --set) says which; without it the warning gives both readings.
 * Both flags off at 0 % (the guide's week 1) warns nothing.
 */
export function configWarnings(cfg: RolloutConfig, previous?: RolloutState): string[] {
  const out: string[] = [];
  if (isImmediateRollbackState(cfg)) {
    const noEffect = `${CONFIG_NAMESPACE}:canaryPercentage is ${cfg.canaryPercentage} but both flags are off: the percentage has no effect and every user is on the legacy path`;
    const beforeFlags = `a percentage set before the flags were turned on (to start the canary, npx rollout advance turns both flags on with the next stage)`;
    if (previous === undefined || isImmediateRollbackState(previous)) {
      out.push(`${noEffect}. That is either the guide's immediate rollback (flags turned off, percentage left as it was) or ${beforeFlags}`);
    } else if (flagsOn(previous)) {
      out.push(`${noEffect} (the guide's immediate rollback: flags turned off, percentage left as it was)`);
    } else {
      out.push(`${noEffect}: ${beforeFlags}`);
    }
  } else if (!flagsOn(cfg) && (cfg.enableStatelessOrchestration || cfg.enableSafeJsonParser)) {
    const on = cfg.enableStatelessOrchestration ? ENV_NAMES.statelessOrchestration : ENV_NAMES.safeJsonParser;
    out.push(
      `only ${on} is on: the guide moves both flags together; ` +
        (cfg.canaryPercentage > 0 ? `${CONFIG_NAMESPACE}:canaryPercentage ${cfg.canaryPercentage} has no effect until both are on` : `no user is on the new path`),
    );
  }
  return out;
}
