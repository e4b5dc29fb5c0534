/** Evaluate the program for a stack file, optionally with config changes, under the SDK mock runtime. */
import * as path from "node:path";
import { RawConfig } from "../../lib/config";
import { Evaluation, EvaluatedResource, evaluateProgram } from "../../offline/evaluate";
import { ConfigSet, applySets } from "../../lib/plan";
import { StackConfig, programConfig, readStackFile } from "../../lib/stackFile";

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

export function appContainers(ev: Evaluation): EvaluatedResource[] {
  return byType(ev, CONTAINER).filter((r) => r.parent?.startsWith("valuecanvas:app:App::"));
}

/** A container's env as a map (envs are "K=V" strings). */
export function envOf(r: EvaluatedResource): Record<string, string> {
  const envs = (r.inputs.envs as string[] | undefined) ?? [];
  return Object.fromEntries(envs.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

export function labelsOf(r: EvaluatedResource): Record<string, string> {
  const labels = (r.inputs.labels as Array<{ label: string; value: string }> | undefined) ?? [];
  return Object.fromEntries(labels.map((l) => [l.label, l.value]));
}
