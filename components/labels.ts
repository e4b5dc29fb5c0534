/** Docker labels shared by every container the program declares. Never carries a secret. */
import * as docker from "@pulumi/docker";

export const LABEL_PREFIX = "valuecanvas.rollout";

export function containerLabels(role: string, extra: Record<string, string> = {}): docker.types.input.ContainerLabel[] {
  return Object.entries({ [`${LABEL_PREFIX}/role`]: role, ...extra }).map(([label, value]) => ({ label, value }));
}
