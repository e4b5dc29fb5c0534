/**
 * The one redaction home: everything that shows text to people (the PR
 * comment, database errors, config errors, the plan) masks credentials here.
 * Pure: text in, text out.
 *
 * `redact(text, secrets)` masks, with `[secret]`:
 *   - every given secret value, whatever way it was written: as is, trimmed
 *     (a trailing newline from a secret store), percent-encoded (any mix of
 *     encoded and plain characters, either hex case, `+` for a space),
 *     JSON-escaped; and for a secret that is a URL, its password and
 *     password-like query parameters on their own (decoded and encoded);
 *   - every credential form node-postgres (pg-connection-string) and libpq accept:
 *     the password of `scheme://user:password@host`, as written or decoded (see
 *     URL_USERINFO: up to the last `@` before the host, so a decoded password
 *     with spaces, `@` or `:` is masked whole), query parameters such as `?password=` or
 *     `&sslpassword=` (also with a percent-encoded name), and `key=value`
 *     conninfo strings (`password=x`, `password='quoted \' x'`);
 *   - credential-named assignments in any text: `PGPASSWORD=…`,
 *     `export API_TOKEN="…"`, `"adminPassword": "…"`, `routingKey: …`.
 */

import { stripVTControlCharacters } from "node:util";

/** What a masked value is replaced with, everywhere. */
export const SECRET_MASK = "[secret]";

/** Secrets shorter than this are not searched for as values (too many false hits); credential forms still are. */
export const MIN_SECRET_LENGTH = 4;

/** Names (env vars, config keys, query parameters, conninfo keys) whose value is a credential. */
const CREDENTIAL_WORD = "pass|secret|token|key|credential|webhook|database_?url|dsn";
export const CREDENTIAL_NAME = new RegExp(CREDENTIAL_WORD, "i");
/** A name containing a credential word (so that a match never swallows the name after it, e.g. `valuecanvas:adminPassword`). */
const CREDENTIAL_NAME_SRC = `[A-Za-z0-9_.-]*(?:${CREDENTIAL_WORD})[A-Za-z0-9_.-]*`;
const ASSIGNMENT = new RegExp(
  `(?<![A-Za-z0-9_.%-])(["']?)(${CREDENTIAL_NAME_SRC})\\1(\\s*[=:]\\s*)("(?:[^"\\\\]|\\\\.)*"|'(?:[^'\\\\]|\\\\.)*'|(?![[{])[^\\s"']+)`,
  "gi",
);

/**
 * `scheme://user:password@` in text, as written or decoded. The user runs to
 * the first `:` (no space, `/`, `?` or `#` in it); the password from there to
 * the last `@` before the next `/` or line end, so it may hold spaces, `@` and
 * `:` (a decoded URL, e.g. `postgres://mon:pa ss@Word7@host/db` in an error
 * message; WHATWG's parser also reads the userinfo to the last `@`), and two
 * URLs on one line are split at the second's `//`. When the line goes on
 * after a URL without a path and holds another `@` (`…@host, mail a@b`), more
 * than the password is masked: that errs on the side of the secret.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#:]*):([^\n\r/]*)@/gi;

/** Strip ANSI colour and cursor escapes (Pulumi colours its output on a terminal): Node's own parser of them. */
export function stripAnsi(text: string): string {
  return stripVTControlCharacters(text);
}

const reEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");

/** A regex source matching `ch` as written plainly, percent-encoded (either hex case), form-encoded or JSON-escaped. */
function charForms(ch: string): string {
  const forms = new Set<string>([reEscape(ch)]);
  const bytes = Buffer.from(ch, "utf8");
  forms.add([...bytes].map((b) => `%${b.toString(16).padStart(2, "0").replace(/[a-f]/g, (h) => `[${h}${h.toUpperCase()}]`)}`).join(""));
  if (ch === " ") forms.add("\\+");
  const json = JSON.stringify(ch).slice(1, -1);
  if (json !== ch) forms.add(reEscape(json));
  if (ch.length === 1 && ch.charCodeAt(0) < 0x20) forms.add(reEscape(`\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`));
  return forms.size === 1 ? [...forms][0] : `(?:${[...forms].join("|")})`;
}

/** A regex matching `secret` in any of its written forms. */
function secretPattern(secret: string): RegExp {
  return new RegExp([...secret].map(charForms).join(""), "g");
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** The credential parts of a secret that is a URL (its password, password-like query values), decoded and as written. */
function derivedSecrets(secret: string): string[] {
  const out: string[] = [];
  const m = new RegExp(`^${URL_USERINFO.source}`, "i").exec(secret);
  if (m) out.push(m[3], safeDecode(m[3]));
  for (const q of secret.matchAll(/[?&]([^=&#\s]+)=([^&#\s]*)/g)) {
    if (CREDENTIAL_NAME.test(safeDecode(q[1]))) out.push(q[2], safeDecode(q[2]));
  }
  return out;
}

/** Every form of the given secrets to search for, longest first. */
function secretValues(secrets: readonly string[]): string[] {
  const all = new Set<string>();
  for (const s of secrets) {
    for (const v of [s, s.trim(), ...derivedSecrets(s.trim())]) {
      const t = v.trim();
      if (t.length >= MIN_SECRET_LENGTH) all.add(t);
    }
  }
  return [...all].sort((a, b) => b.length - a.length);
}

/** Mask the credential forms (URL userinfo, query parameters, conninfo and named assignments) in `text`. */
function redactCredentialForms(text: string): string {
  let out = text;
  // scheme://user:password@host — the password runs to the last "@" before the host (URL_USERINFO).
  out = out.replace(URL_USERINFO, (all, scheme: string, user: string, password: string) =>
    password === "" ? all : `${scheme}${user}:${SECRET_MASK}@`,
  );
  // ?password=… &sslpassword=… (the name may be percent-encoded: URLSearchParams decodes it).
  out = out.replace(/([?&])([^=&#\s]+)=([^&#\s]*)/g, (all, sep: string, name: string, value: string) =>
    value !== "" && value !== SECRET_MASK && CREDENTIAL_NAME.test(safeDecode(name)) ? `${sep}${name}=${SECRET_MASK}` : all,
  );
  // NAME=value, NAME: value, "name": "value", password='quoted' (conninfo, env, JSON, YAML).
  out = out.replace(
    ASSIGNMENT,
    (all, q: string, name: string, sep: string, value: string) => {
      if (value.startsWith("//")) return all; // a URL scheme (postgres://): handled above
      const quote = value[0] === '"' || value[0] === "'" ? value[0] : "";
      const inner = quote ? value.slice(1, -1) : value;
      if (inner === "" || inner === SECRET_MASK) return all;
      // A URL whose password is already masked keeps its shape (user, host, database stay readable).
      if (/^[a-z][a-z0-9+.-]*:\/\/[^\s/?#]*:\[secret\]@/i.test(inner)) return all;
      return `${q}${name}${q}${sep}${quote}${SECRET_MASK}${quote}`;
    },
  );
  return out;
}

/** Remove secrets from text: the given values in every written form, and every credential form (see the module comment). */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = stripAnsi(text);
  for (const v of secretValues(secrets)) out = out.replace(secretPattern(v), SECRET_MASK);
  return redactCredentialForms(out);
}

/** True when `value` carries a credential form (a URL password, a password parameter, a credential-named assignment). */
export function looksLikeCredential(value: string): boolean {
  return redactCredentialForms(value) !== value;
}
