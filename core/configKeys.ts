/**
 * Key introspection of a zod schema: the shape of a group through its
 * default/optional/preprocess wrappers, and each leaf's description, default
 * and optionality. What the config reference (tools/configDocs.ts) and the
 * "unknown key" checks of core/config.ts read. Pure: imports only zod.
 */
import { z } from "zod";

export type Shape = Record<string, z.ZodType>;

export function unwrap(s: z.ZodType): z.ZodType {
  let cur: z.ZodType = s;
  // default/optional/pipe(preprocess) wrappers
  for (;;) {
    const def = (cur as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; out?: z.ZodType; in?: z.ZodType } } })._zod.def;
    if ((def.type === "default" || def.type === "optional" || def.type === "prefault") && def.innerType) cur = def.innerType;
    else if (def.type === "pipe" && def.out && (def.out as unknown as { _zod: { def: { type: string } } })._zod.def.type === "object") cur = def.out;
    else return cur;
  }
}

export function shapeOf(s: z.ZodType): Shape | undefined {
  const inner = unwrap(s);
  const def = (inner as unknown as { _zod: { def: { type: string; shape?: Shape } } })._zod.def;
  return def.type === "object" ? def.shape : undefined;
}

export interface KeyDoc {
  /** Dot path without namespace, e.g. `thresholds.p95WarningSeconds`. */
  path: string;
  allowed: string;
  required: boolean;
  /** Required whenever its group is set (e.g. `database.host`). */
  requiredInGroup: boolean;
  secret: boolean;
  defaultValue?: unknown;
}

export function describeOf(s: z.ZodType): string | undefined {
  let cur: z.ZodType | undefined = s;
  while (cur) {
    if (cur.description) return cur.description;
    const def: { type: string; innerType?: z.ZodType; out?: z.ZodType } = (cur as unknown as { _zod: { def: { type: string; innerType?: z.ZodType; out?: z.ZodType } } })._zod.def;
    cur = def.innerType ?? (def.type === "pipe" ? def.out : undefined);
  }
  return undefined;
}

export function defaultOf(s: z.ZodType): unknown {
  const def = (s as unknown as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod.def;
  return def.type === "default" ? def.defaultValue : undefined;
}

export function isOptional(s: z.ZodType): boolean {
  const t = (s as unknown as { _zod: { def: { type: string } } })._zod.def.type;
  return t === "default" || t === "optional";
}
