/** Evaluate the program for a stack file, optionally with config changes, under the SDK mock runtime. */
import * as path from "node:path";
import type * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { parseEnvCommand } from "../../core/appCommand";
import { RawConfig } from "../../core/configSchema";
import { Evaluation, EvaluatedResource, evaluateProgram } from "../../offline/evaluate";
import { ConfigSet, applySets } from "../../offline/plan";
import { StackConfig, programConfig, readStackFile } from "../../stack/stackFile";

export const PROJECT_DIR = path.join(__dirname, "..", "..");

export function stackFile(stack: string): StackConfig {
  return readStackFile(PROJECT_DIR, stack);
}

/** Evaluate `stack`'s file with `sets` applied (or with `raw` replacing its valuecanvas config). */
export async function evaluateStack(stack: string, opts: { sets?: Record<string, string>; raw?: RawConfig; name?: string } = {}): Promise<Evaluation> {
  const sc = stackFile(stack);
  const sets: ConfigSet[] = Object.entries(opts.sets ?? {}).map(([p, value]) => ({ path: p, value }));
  const raw = applySets(opts.raw ?? sc.raw, sets);
  const { config, secretKeys } = programConfig({ ...sc, raw });
  return evaluateProgram({ stack: opts.name ?? stack, config, secretKeys });
}

export function byType(ev: Evaluation, type: string): EvaluatedResource[] {
  return ev.resources.filter((r) => r.type === type);
}

export const CONTAINER = "docker:index/container:Container";
export const SERVICE = "docker:index/service:Service";

/**
 * A Service's inputs as the mock runtime records them (plain values), derived from the docker
 * provider's own types so that it cannot drift from what components/app.ts may declare.
 * test/support/serviceSpec.ts re-exports it.
 */
export type ServiceInputs = pulumi.Unwrap<docker.ServiceArgs>;

/** The app's one Swarm service (components/app.ts). */
export function appService(ev: Evaluation): EvaluatedResource {
  const found = byType(ev, SERVICE).filter((r) => r.parent?.startsWith("valuecanvas:app:App::"));
  if (found.length !== 1) throw new Error(`expected one app service, found ${found.length}`);
  return found[0];
}

export function serviceInputs(r: EvaluatedResource): ServiceInputs {
  if (r.type !== SERVICE) throw new Error(`${r.name} is a ${r.type}, not a ${SERVICE}`);
  return r.inputs as unknown as ServiceInputs;
}

/**
 * A container's env ("K=V" strings), or what a service's task runs with: its env map and the settings its
 * `/usr/bin/env NAME=VALUE … <command>` args set (core/appCommand.ts), as a map.
 */
export function envOf(r: EvaluatedResource): Record<string, string> {
  if (r.type === SERVICE) {
    const c = serviceInputs(r).taskSpec.containerSpec;
    return { ...(c.env ?? {}), ...(parseEnvCommand(c.args)?.settings ?? {}) };
  }
  const envs = (r.inputs.envs as string[] | undefined) ?? [];
  return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

/** A container's labels, or a service's own (top-level) labels. */
export function labelsOf(r: EvaluatedResource): Record<string, string> {
  const labels = (r.inputs.labels as Array<{ label: string; value: string }> | undefined) ?? [];
  return Object.fromEntries(labels.map((l) => [l.label, l.value]));
}

/** The app's database URL as the program declares it: the data of the service's Docker secret (components/app.ts). */
export function declaredAppDatabaseUrl(ev: Evaluation): URL {
  const found = byType(ev, "docker:index/secret:Secret").filter((r) => r.name === "app-database-url");
  if (found.length !== 1) throw new Error(`expected one app-database-url secret, found ${found.length}`);
  return new URL(Buffer.from(String(found[0].inputs.data), "base64").toString("utf8"));
}
