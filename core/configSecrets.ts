/**
 * Which config keys may hold a secret, and config values as shown to people:
 * secret keys, their typos and credential-looking names or values masked.
 * The one masking home for config values (the text masking itself:
 * core/redact.ts). Pure.
 */
import { keysAt, configValueAt } from "./configIntrospect";
import { RawConfig, SECRET_KEYS, SecretKey, objectInput } from "./configSchema";
import { CREDENTIAL_NAME, SECRET_MASK, looksLikeCredential, redact } from "./redact";
import { closestKey } from "./suggest";

const MISSING = "(missing)";

function isSecretPath(path: string): boolean {
  return (SECRET_KEYS as readonly string[]).includes(path);
}

/** Key names that may carry a secret even when they are not a known secret key (typos included), e.g. appExtraEnv's DATABASE_URL or API_TOKEN. */
const SECRET_LOOKING = CREDENTIAL_NAME;

/** True when `path` (dot path, no namespace) may hold a secret: a secret key, a typo of one, or a secret-looking name. */
export function mayHoldSecret(path: string): boolean {
  if (isSecretPath(path)) return true;
  const last = path.split(".").pop() ?? path;
  const parent = path.split(".").slice(0, -1);
  const siblings = keysAt(parent);
  if (siblings.includes(last)) return false; // a known, non-secret key
  const near = closestKey(last, siblings);
  return (near !== undefined && isSecretPath([...parent, near].join("."))) || SECRET_LOOKING.test(last);
}

/** A copy of a group's value with every secret (or secret-looking) member masked. */
function maskGroup(path: string, v: unknown): unknown {
  if (typeof v === "string") return looksLikeCredential(v) ? SECRET_MASK : v;
  if (Array.isArray(v)) return v.map((x) => maskGroup(path, x));
  if (typeof v !== "object" || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const p = path ? `${path}.${k}` : k;
    out[k] = mayHoldSecret(p) ? SECRET_MASK : maskGroup(p, x);
  }
  return out;
}

/** True when a secret key lives under `path` (e.g. `database`). */
function groupHoldsSecret(path: string): boolean {
  return (SECRET_KEYS as readonly string[]).some((k) => k.startsWith(`${path}.`));
}

/**
 * A value as shown in messages: JSON for structure, secrets masked — by key,
 * by a secret key's typo, by a credential-looking name (`*PASSWORD*`,
 * `*TOKEN*`, `DATABASE_URL`...), by a credential-looking value (a URL with a
 * password, a `password=` parameter: core/redact.ts), and inside groups. A
 * group that holds a secret and cannot be read as an object is not shown at
 * all. The one masking home for config values: the plan, render and rollout
 * errors all show values through here (ConfigError).
 */
export function showValue(path: string, input: unknown): string {
  const v = objectInput(input);
  if (v === undefined) return MISSING;
  if (mayHoldSecret(path)) return SECRET_MASK;
  if (groupHoldsSecret(path) && (typeof v !== "object" || v === null)) return "[not shown: this group holds a secret]";
  let text: string;
  try {
    text = JSON.stringify(maskGroup(path, v)) ?? String(v);
  } catch {
    text = String(v);
  }
  // Whatever still reads as a credential (e.g. inside a string that is not valid JSON).
  return redact(text);
}

/** A `key=value` setting as shown to people (plan --set): the value masked as showValue masks it. */
export function showSetting(path: string, value: string): string {
  if (mayHoldSecret(path)) return SECRET_MASK;
  return looksLikeCredential(value) ? SECRET_MASK : redact(value);
}

/**
 * Whether a stack's config uses a secret: one inside an optional group (`database.adminPassword`) only
 * when the stack sets that group (dev sets no `database`: it runs its own PostgreSQL); a top-level one always.
 */
export function secretUsed(raw: RawConfig, key: SecretKey): boolean {
  const dot = key.lastIndexOf(".");
  return dot < 0 || configValueAt(raw, key.slice(0, dot)) !== undefined;
}
