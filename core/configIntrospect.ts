/**
 * Key introspection of the config schema (core/configSchema.ts): the leaf
 * keys with what they allow (the config reference, the README's test), the
 * keys of a group (the "unknown key" hints), and the value at a dot path as
 * the schema reads it. Pure. The walk itself: core/configKeys.ts.
 */
import { z } from "zod";
import { KeyDoc, Shape, keyDocs, shapeOf } from "./configKeys";
import { RawConfig, SECRET_KEYS, configSchema, objectInput } from "./configSchema";

/** Every leaf key of the schema, with what it allows and its default (the walk: core/configKeys.ts). */
export function configKeyDocs(): KeyDoc[] {
  return keyDocs(configSchema.shape as unknown as Shape, SECRET_KEYS);
}

export function keysAt(path: (string | number)[]): string[] {
  let shape: Shape | undefined = configSchema.shape as unknown as Shape;
  for (const seg of path) {
    if (!shape) return [];
    const next: z.ZodType | undefined = shape[String(seg)];
    shape = next ? shapeOf(next) : undefined;
  }
  return shape ? Object.keys(shape) : [];
}

/**
 * The value at a dot path as the schema reads it: a group may be an object or
 * a JSON-encoded string (how Pulumi passes structured config), at any level.
 * What the plain-secret check of a stack file (stack/stackFile.ts) looks up.
 */
export function configValueAt(raw: RawConfig, dotted: string): unknown {
  return valueAt(raw, dotted.split("."));
}

export function valueAt(input: unknown, path: (string | number)[]): unknown {
  let cur: unknown = input;
  for (const seg of path) {
    cur = objectInput(cur);
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}
