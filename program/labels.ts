/** Docker labels shared by every container the program declares. Never carries a secret. */
import * as docker from "@pulumi/docker";

export const LABEL_PREFIX = "valuecanvas.rollout";

export function containerLabels(role: string, extra: Record<string, string> = {}): docker.types.input.ContainerLabel[] {
  return Object.entries({ [`${LABEL_PREFIX}/role`]: role, ...extra }).map(([label, value]) => ({ label, value }));
}

/** The plain label that shows one rollout env var's value, e.g. `valuecanvas.rollout/canary_percentage`. */
export function rolloutLabelName(envName: string): string {
  return `${LABEL_PREFIX}/${envName.toLowerCase()}`;
}

/** The rollout env (flags and percentage) as plain labels: a reviewed preview shows them although `envs` is secret. */
export function rolloutLabels(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [rolloutLabelName(k), v]));
}
