/**
 * The stack's extra settings (config appExtraEnv) that may hold a secret, and
 * where the app finds them (issue 21 finding 5 with issue 22 fact 2: the
 * settings are the task's command line, core/appCommand.ts, so no secret may
 * be among them). Pure: no I/O.
 */
import { mayHoldSecret } from "./configSecrets";
import { looksLikeCredential } from "./redact";

/** Where a secret extra setting's file is mounted in the app's tasks (env names are case-sensitive, so is the file). */
export function secretSettingFile(name: string): string {
  return `/run/secrets/env_${name}`;
}

/**
 * The stack's extra env (config appExtraEnv) split into what may go on the
 * task's command line and what may not: a value whose name may hold a secret
 * (`*TOKEN*`, `*PASSWORD*`, a secret key's typo: core/configSecrets.ts) or
 * that looks like a credential (a URL with a password: core/redact.ts) is a
 * secret. A secret reaches the app as `<NAME>_FILE`, the path of a 0400 file
 * holding it (a Docker secret), never as `<NAME>=value`: the `_FILE`
 * convention the app already follows for DATABASE_URL. Throws when a
 * `<NAME>_FILE` would collide with a setting of that name.
 */
export function splitExtraEnv(extra: Readonly<Record<string, string>>, taken: readonly string[] = []): { plain: Record<string, string>; secret: Record<string, string> } {
  const plain: Record<string, string> = {};
  const secret: Record<string, string> = {};
  for (const [k, v] of Object.entries(extra)) {
    if (mayHoldSecret(`appExtraEnv.${k}`) || looksLikeCredential(v)) secret[k] = v;
    else plain[k] = v;
  }
  for (const k of Object.keys(secret)) {
    const fileName = `${k}_FILE`;
    if (fileName in extra || taken.includes(fileName)) {
      throw new Error(`valuecanvas:appExtraEnv.${k} may hold a secret, so the app gets it as ${fileName} (a file's path), but ${fileName} is set too: remove one of them`);
    }
  }
  return { plain, secret };
}
