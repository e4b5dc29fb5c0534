/**
 * Evaluate the Pulumi program offline, under the Pulumi SDK's own mock
 * runtime (`pulumi.runtime.setMocks`): no engine, no CLI, no provider plugins,
 * no cloud credentials. Records every resource the program declares, with its
 * inputs, which inputs are secrets, and its resource options.
 *
 * The `plan` command and the tests both use this, so what a reviewer sees in
 * `npm run plan` is exactly what the stage-change tests assert on.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Evaluation, EvaluatedResource, resourceKey } from "./evaluation";
import { PROJECT_DIR } from "../program/projectDir";

/** bin/load.cjs, by its path from the project's folder: the same file from the sources and from dist/. */
const binLoad = (): typeof import("../bin/load.cjs") => require(path.join(PROJECT_DIR, "bin", "load.cjs")) as typeof import("../bin/load.cjs");

export type { Evaluation, EvaluatedResource } from "./evaluation";

export interface EvaluateInput {
  stack: string;
  /** Namespaced config (`valuecanvas:canaryPercentage` → "25"), structured values JSON-encoded. */
  config: Record<string, string>;
  secretKeys?: string[];
  /** Keep the machinery's inputs (a dynamic provider's serialized code, `__provider`) instead of hiding them. */
  keepMachinery?: boolean;
  /** The program's entry module; default: what Pulumi runs (bin/program.cjs): dist/index.js when built, else index.ts. */
  program?: string;
}

export const PROJECT_NAME = "valuecanvas";
/** Inputs that are machinery, not configuration (a dynamic provider's serialized code). */
const HIDDEN_INPUTS = new Set(["__provider"]);

/** How the SDK marks a secret value on the wire (the mock runtime hands these to `newResource`). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

function isSecretEnvelope(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG_VALUE;
}

/**
 * Strip secret envelopes; report the dot path of each (array elements by index).
 * The mock monitor lifts a nested secret to the top-level input (its
 * deserializer marks a whole object secret when any part is), so these paths
 * are top-level; secretLeaves finds the leaves.
 */
export function unwrapSecrets(v: unknown, at: string, paths: string[] = []): { value: unknown; paths: string[] } {
  if (isSecretEnvelope(v)) {
    paths.push(at);
    return { value: unwrapSecrets(v.value, at, []).value, paths };
  }
  if (Array.isArray(v)) return { value: v.map((x, i) => unwrapSecrets(x, `${at}.${i}`, paths).value), paths };
  if (typeof v === "object" && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = unwrapSecrets(x, `${at}.${k}`, paths).value;
    return { value: out, paths };
  }
  return { value: v, paths };
}

/** `-key-value` for each keeper, sorted by key ("" for none): a mock random value per keepers value. */
function keepersSuffix(keepers: unknown): string {
  if (typeof keepers !== "object" || keepers === null) return "";
  return Object.entries(keepers as Record<string, unknown>)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `-${k}-${String(v)}`)
    .join("");
}

/** What a provider would compute, for the outputs the program reads back. */
function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case "docker:index/remoteImage:RemoteImage":
      return { ...inputs, imageId: inputs.name, repoDigest: inputs.name };
    case "random:index/randomPassword:RandomPassword":
    case "random:index/randomString:RandomString":
      // New keepers replace the resource and so give a new value (core/appCredentials.ts rotates passwords so).
      return { ...inputs, result: `mock-${name}${keepersSuffix(inputs.keepers)}` };
    case "docker:index/network:Network":
    case "docker:index/volume:Volume":
    case "docker:index/container:Container":
    case "docker:index/service:Service":
    case "docker:index/secret:Secret":
      return { ...inputs, name: inputs.name ?? `${name}-mock` };
    default:
      return inputs;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/**
 * The dot paths (array elements by index) of the secret values inside one input
 * as the program passed it, at the deepest level a secret Output sits: a secret
 * env map inside a plain `taskSpec` is `taskSpec.containerSpec.env`, so the plan
 * can show `taskSpec.containerSpec.image` beside it (offline/plan.ts).
 */
async function secretLeaves(v: unknown, at: string, out: string[]): Promise<string[]> {
  if (pulumi.Output.isInstance(v)) {
    if (await pulumi.isSecret(v)) out.push(at);
    else await secretLeaves(await resolve(v), at, out);
  } else if (v instanceof Promise) {
    await secretLeaves(await v, at, out);
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) await secretLeaves(v[i], `${at}.${i}`, out);
  } else if (isPlainObject(v)) {
    for (const [k, x] of Object.entries(v)) await secretLeaves(x, `${at}.${k}`, out);
  }
  return out;
}

function urnToKey(urn: string): string {
  // urn:pulumi:<stack>::<project>::<type chain>::<name>
  const parts = urn.split("::");
  const name = parts[parts.length - 1];
  const chain = parts[parts.length - 2] ?? "";
  const type = chain.split("$").pop() ?? chain;
  return `${type}::${name}`;
}

function resolve<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((res) => o.apply((v) => res(v)));
}

/** The program failed; `registered` lists what it had registered by then (besides the stack). */
export class ProgramError extends Error {
  readonly registered: string[];
  constructor(cause: unknown, registered: string[]) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "ProgramError";
    this.cause = cause;
    this.registered = registered;
  }
}

let queue: Promise<unknown> = Promise.resolve();

/** Evaluate the program for one stack config. Throws the program's error (e.g. invalid config). */
export function evaluateProgram(input: EvaluateInput): Promise<Evaluation> {
  const run = queue.then(() => evaluateOnce(input));
  queue = run.catch(() => undefined);
  return run;
}

async function evaluateOnce(input: EvaluateInput): Promise<Evaluation> {
  const registered = new Map<string, { type: string; name: string; custom: boolean; inputs: Record<string, unknown>; secretPaths: string[] }>();
  const captured: Array<Promise<Omit<EvaluatedResource, "inputs" | "custom">>> = [];
  const warnings: string[] = [];

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs: Record<string, unknown> = {};
        const secretPaths: string[] = [];
        for (const [k, v] of Object.entries(args.inputs as Record<string, unknown>)) {
          if (HIDDEN_INPUTS.has(k) && input.keepMachinery !== true) continue;
          inputs[k] = unwrapSecrets(v, k, secretPaths).value;
        }
        registered.set(resourceKey(args), { type: args.type, name: args.name, custom: args.custom ?? true, inputs, secretPaths });
        return { id: `${args.name}-id`, state: mockState(args.type, args.name, inputs) };
      },
      call(args) {
        return args.inputs as Record<string, unknown>;
      },
    },
    PROJECT_NAME,
    input.stack,
    false,
  );
  pulumi.runtime.setAllConfig(input.config, input.secretKeys ?? []);

  const program = input.program ?? binLoad().entryFile("index");
  const resolved = require.resolve(program);
  delete require.cache[resolved];

  // A program that throws (invalid config) also rejects promises the SDK holds; keep
  // them from crashing the process: the error is rethrown to the caller below.
  const swallowed: unknown[] = [];
  const onRejection = (reason: unknown) => swallowed.push(reason);
  process.on("unhandledRejection", onRejection);
  const origWarn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(String).join(" ").replace(/^warning: \[runtime\] /, ""));
  };
  let outputs: Record<string, unknown> = {};
  const secretOutputs: string[] = [];
  try {
    const stackOutputs = await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((a) => {
        const opts = a.opts as pulumi.CustomResourceOptions;
        captured.push(
          (async () => {
            const secretInputs: string[] = [];
            const secretPaths: string[] = [];
            for (const [k, v] of Object.entries(a.props ?? {})) {
              if (HIDDEN_INPUTS.has(k)) continue;
              if (await pulumi.isSecret(pulumi.output(v))) secretInputs.push(k);
              await secretLeaves(v, k, secretPaths);
            }
            const deps = opts.dependsOn ? await resolve(pulumi.output(opts.dependsOn)) : [];
            const depList = (Array.isArray(deps) ? deps : [deps]) as pulumi.Resource[];
            const dependsOn = await Promise.all(depList.map(async (r) => urnToKey(await resolve(r.urn))));
            const parent = opts.parent ? urnToKey(await resolve(opts.parent.urn)) : undefined;
            return {
              type: a.type,
              name: a.name,
              parent: parent && !parent.startsWith("pulumi:pulumi:Stack::") ? parent : undefined,
              secretInputs: secretInputs.sort(),
              secretPaths,
              options: {
                deleteBeforeReplace: opts.deleteBeforeReplace,
                protect: opts.protect,
                ignoreChanges: opts.ignoreChanges,
                replaceOnChanges: opts.replaceOnChanges,
                dependsOn: dependsOn.sort(),
              },
            };
          })(),
        );
        return undefined;
      });
      const mod = require(resolved) as Record<string, unknown>;
      return { ...mod };
    });
    await pulumi.runtime.disconnect();
    for (const [k, v] of Object.entries(stackOutputs ?? {})) {
      if (k === "__esModule" || typeof v === "function") continue;
      outputs[k] = v;
    }
    // Which outputs are secret: evaluate each exported value again as an Output.
    const mod = require.cache[resolved]?.exports as Record<string, unknown> | undefined;
    for (const k of Object.keys(outputs)) {
      const v = mod?.[k];
      if (v !== undefined && (await pulumi.isSecret(pulumi.output(v)))) secretOutputs.push(k);
    }
  } catch (err) {
    const others = [...registered.keys()].filter((k) => !k.startsWith("pulumi:pulumi:Stack::"));
    throw new ProgramError(err, others);
  } finally {
    console.warn = origWarn;
    delete require.cache[resolved];
    // Let pending rejections surface before the listener goes.
    await new Promise((r) => setImmediate(r));
    process.off("unhandledRejection", onRejection);
  }

  const meta = await Promise.all(captured);
  const resources: EvaluatedResource[] = [];
  for (const m of meta) {
    const reg = registered.get(resourceKey(m));
    const wire = reg?.secretPaths ?? [];
    const secretInputs = [...new Set([...m.secretInputs, ...wire])].sort();
    // A top-level input that is secret (to the SDK or on the wire) with no leaf found under it is secret as a whole.
    const hasLeaf = (k: string) => m.secretPaths.some((p) => p === k || p.startsWith(`${k}.`));
    const secretPaths = [...new Set([...m.secretPaths, ...secretInputs.filter((k) => !hasLeaf(k))])].sort();
    resources.push({ ...m, secretInputs, secretPaths, custom: reg?.custom ?? false, inputs: reg?.inputs ?? {} });
  }
  outputs = JSON.parse(JSON.stringify(outputs)) as Record<string, unknown>;
  return { stack: input.stack, resources, outputs, secretOutputs: secretOutputs.sort(), warnings };
}
