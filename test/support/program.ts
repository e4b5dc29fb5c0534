/** Evaluate the program for a stack file, optionally with config changes, under the SDK mock runtime. */
import * as path from "node:path";
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

/** The declared `docker.Service` inputs the tests read (program/app.ts). */
export interface ServiceInputs {
  labels?: Array<{ label: string; value: string }>;
  taskSpec: {
    containerSpec: {
      image: string;
      env?: Record<string, string>;
      labels?: Array<{ label: string; value: string }>;
      healthcheck?: { tests: string[]; interval?: string; timeout?: string; retries?: number; startPeriod?: string };
      stopSignal?: string;
      stopGracePeriod?: string;
    };
    networksAdvanceds?: Array<{ id?: string; name?: string; aliases?: string[] }>;
    restartPolicy?: Record<string, unknown>;
  };
  mode?: { replicated?: { replicas?: number } };
  endpointSpec?: { mode?: string };
  updateConfig?: { order?: string; parallelism?: number; failureAction?: string; monitor?: string; delay?: string };
  rollbackConfig?: { order?: string; parallelism?: number };
  convergeConfig?: { delay?: string; timeout?: string };
  name?: string;
}

/** The app's one Swarm service (program/app.ts). */
export function appService(ev: Evaluation): EvaluatedResource {
  const found = byType(ev, SERVICE).filter((r) => r.parent?.startsWith("valuecanvas:app:App::"));
  if (found.length !== 1) throw new Error(`expected one app service, found ${found.length}`);
  return found[0];
}

export function serviceInputs(r: EvaluatedResource): ServiceInputs {
  if (r.type !== SERVICE) throw new Error(`${r.name} is a ${r.type}, not a ${SERVICE}`);
  return r.inputs as unknown as ServiceInputs;
}

/** A container's env ("K=V" strings) or a service's task env (a map), as a map. */
export function envOf(r: EvaluatedResource): Record<string, string> {
  if (r.type === SERVICE) return { ...(serviceInputs(r).taskSpec.containerSpec.env ?? {}) };
  const envs = (r.inputs.envs as string[] | undefined) ?? [];
  return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

/** A container's labels, or a service's own (top-level) labels. */
export function labelsOf(r: EvaluatedResource): Record<string, string> {
  const labels = (r.inputs.labels as Array<{ label: string; value: string }> | undefined) ?? [];
  return Object.fromEntries(labels.map((l) => [l.label, l.value]));
}
