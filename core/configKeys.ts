/**
 * Key introspection of a zod schema: the shape of a group through its
 * default/optional/preprocess wrappers, and each leaf's description, default
 * and optionality. What the config reference (tools/configDocs.ts) and the
 * "unknown key" checks (core/configIntrospect.ts) read. Pure: imports only zod.
 */
import { z } from "zod";

export type Shape = Record<string, z.ZodType>;

/** The wrappers a key's schema may sit in: `.default()`, `.optional()`, `.prefault()`. */
function isWrapper(s: z.ZodType): s is z.ZodDefault | z.ZodOptional | z.ZodPrefault {
  return s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodPrefault;
}

export function unwrap(s: z.ZodType): z.ZodType {
  let cur: z.ZodType = s;
  // default/optional/pipe(preprocess) wrappers
  for (;;) {
    if (isWrapper(cur)) cur = cur.unwrap() as z.ZodType;
    else if (cur instanceof z.ZodPipe && cur.out instanceof z.ZodObject) cur = cur.out;
    else return cur;
  }
}

export function shapeOf(s: z.ZodType): Shape | undefined {
  const inner = unwrap(s);
  return inner instanceof z.ZodObject ? inner.shape : undefined;
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
    // any wrapper with an inner type (default, optional, nullable, readonly...), else a pipe's output
    const def: z.core.$ZodTypeDef = cur.def;
    cur = "innerType" in def ? (def.innerType as z.ZodType) : cur instanceof z.ZodPipe ? (cur.out as z.ZodType) : undefined;
  }
  return undefined;
}

export function defaultOf(s: z.ZodType): unknown {
  return s instanceof z.ZodDefault ? s.def.defaultValue : undefined;
}

export function isOptional(s: z.ZodType): boolean {
  return s instanceof z.ZodDefault || s instanceof z.ZodOptional;
}

/** Every leaf key under `root`, with what it allows and its default; `secretKeys` are dot paths of the secret ones. */
export function keyDocs(root: Shape, secretKeys: readonly string[]): KeyDoc[] {
  const out: KeyDoc[] = [];
  const walk = (shape: Shape, prefix: string, parentRequired: boolean) => {
    for (const [k, s] of Object.entries(shape)) {
      const path = prefix + k;
      const nested = shapeOf(s);
      if (nested) {
        walk(nested, path + ".", !isOptional(s));
        continue;
      }
      out.push({
        path,
        allowed: describeOf(s) ?? "",
        required: parentRequired && !isOptional(s),
        requiredInGroup: !isOptional(s),
        secret: secretKeys.includes(path),
        defaultValue: defaultOf(s),
      });
    }
  };
  walk(root, "", true);
  return out;
}
