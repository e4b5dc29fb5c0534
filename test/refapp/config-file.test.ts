/**
 * The reference app reads its database URL from the file DATABASE_URL_FILE
 * names (a Docker secret, what the deploy gives: issue 21 finding 5), or from
 * DATABASE_URL for a local run. Pure: parseConfig takes the env and a reader.
 */
import { strict as assert } from "node:assert";
import { APP_ENV_NAMES, ENV_NAMES } from "../../core/stages";
import { ConfigError, ReadFile, parseConfig } from "../../reference-app/src/config";

const URL_TEXT = "postgres://app:s3cret-pw@db:5432/valuecanvas";
const BASE = {
  [ENV_NAMES.statelessOrchestration]: "true",
  [ENV_NAMES.safeJsonParser]: "true",
  [ENV_NAMES.canaryPercentage]: "10",
  [APP_ENV_NAMES.port]: "3000",
  [APP_ENV_NAMES.healthCheckPath]: "/health",
};
const files =
  (m: Record<string, string>): ReadFile =>
  (p) => {
    if (!(p in m)) throw Object.assign(new Error(`ENOENT: ${p}`), { code: p.startsWith("/denied") ? "EACCES" : "ENOENT" });
    return m[p];
  };

function problemsOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  assert.fail("expected a ConfigError");
}

describe("reference app: DATABASE_URL_FILE", () => {
  it("reads the URL from the file (a trailing newline dropped), with no DATABASE_URL in the env", () => {
    for (const content of [URL_TEXT, `${URL_TEXT}\n`, `${URL_TEXT}\r\n`]) {
      const c = parseConfig({ ...BASE, [APP_ENV_NAMES.databaseUrlFile]: "/run/secrets/database_url" }, files({ "/run/secrets/database_url": content }));
      assert.equal(c.databaseUrl, URL_TEXT);
    }
  });

  it("still accepts DATABASE_URL for a local run (no file)", () => {
    assert.equal(parseConfig({ ...BASE, [ENV_NAMES.databaseUrl]: URL_TEXT }).databaseUrl, URL_TEXT);
  });

  it("refuses both at once, an unreadable file, and a file that holds no postgres URL, naming the variable and the path, never the content", () => {
    const both = problemsOf(() => parseConfig({ ...BASE, [ENV_NAMES.databaseUrl]: URL_TEXT, [APP_ENV_NAMES.databaseUrlFile]: "/f" }, files({ "/f": URL_TEXT })));
    assert.match(both, /DATABASE_URL_FILE="\/f" and DATABASE_URL are both set: set only one/);
    for (const [p, code] of [["/missing", "ENOENT"], ["/denied/x", "EACCES"]]) {
      const m = problemsOf(() => parseConfig({ ...BASE, [APP_ENV_NAMES.databaseUrlFile]: p }, files({})));
      assert.match(m, new RegExp(`DATABASE_URL_FILE="${p.replace(/\//g, "\\/")}": cannot read the file \\(${code}\\)`));
      assert.doesNotMatch(m, /unset or empty/, "one problem, not two");
    }
    const notUrl = problemsOf(() => parseConfig({ ...BASE, [APP_ENV_NAMES.databaseUrlFile]: "/f" }, files({ "/f": "mysql://u:s3cret-pw@h/db" })));
    assert.match(notUrl, /DATABASE_URL \(from DATABASE_URL_FILE\): not a postgres:\/\/ or postgresql:\/\/ URL \(value not shown/);
    for (const m of [both, notUrl]) assert.doesNotMatch(m, /s3cret-pw/);
  });
});
