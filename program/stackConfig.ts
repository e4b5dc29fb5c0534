/**
 * The program's view of stack config: every `valuecanvas:` key validated by
 * the one schema (core/configSchema.ts) before any resource is registered, and the
 * secrets wrapped as Pulumi secrets the moment they are read.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, configWarnings, namespaced, parseConfig } from "../core/config";
import { RolloutConfig } from "../core/configSchema";

export interface StackSecrets {
  databaseAdminPassword?: pulumi.Output<string>;
  pagerdutyRoutingKey?: pulumi.Output<string>;
  slackWebhookUrl?: pulumi.Output<string>;
  responderGithubToken?: pulumi.Output<string>;
}

export interface StackSettings {
  stack: string;
  /** The validated config, with its secret fields emptied: their values are only in `secrets`. */
  config: RolloutConfig;
  secrets: StackSecrets;
}

/** What a secret field of `config` holds once its value has moved to `secrets`. */
export const SECRET_MOVED = "[secret: see StackSettings.secrets]";

const secretOf = (v: string | undefined) => (v === undefined ? undefined : pulumi.secret(v));

/**
 * Validate the stack's config. Throws a RunError that lists every problem
 * (key, value, what is allowed), so the program fails before it registers
 * anything; logs a warning for each valid-but-noteworthy state.
 */
export function loadStackConfig(): StackSettings {
  const stack = pulumi.getStack();
  let config: RolloutConfig;
  try {
    config = parseConfig(namespaced(pulumi.runtime.allConfig()), { stack });
  } catch (err) {
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
  for (const w of configWarnings(config)) void pulumi.log.warn(w);
  const secrets: StackSecrets = {
    databaseAdminPassword: secretOf(config.database?.adminPassword),
    pagerdutyRoutingKey: secretOf(config.pagerdutyRoutingKey),
    slackWebhookUrl: secretOf(config.slackWebhookUrl),
    responderGithubToken: secretOf(config.responder.githubToken),
  };
  // No component gets a secret's plain value by accident: only `secrets` carries them.
  const scrubbed: RolloutConfig = {
    ...config,
    pagerdutyRoutingKey: undefined,
    slackWebhookUrl: undefined,
    database: config.database && { ...config.database, adminPassword: SECRET_MOVED },
    responder: { ...config.responder, githubToken: config.responder.githubToken === undefined ? undefined : SECRET_MOVED },
  };
  return { stack, config: scrubbed, secrets };
}
