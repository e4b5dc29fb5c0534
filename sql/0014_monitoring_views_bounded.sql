-- The monitoring views' lock waits bounded too (see 0013): a view's tables
-- are locked by the caller's query, under the caller's own lock_timeout,
-- which the monitoring role can lift. Each view below becomes
-- SELECT * FROM monitoring.<view>_rows(), a SECURITY DEFINER function with
-- the view's own query as its body and SET lock_timeout = '5s', so its
-- tables are locked inside the function, under that bound. Same columns,
-- same rows, same order. The body is the view's definition as PostgreSQL
-- prints it with every name schema-qualified; column types are the view's.
-- A view already wrapped is left alone; one a rerun of an older file
-- unwrapped is wrapped again (the file can be run again).

DO $do$
DECLARE
  v record;
  cols text;
  body text;
BEGIN
  PERFORM pg_catalog.set_config('search_path', 'pg_catalog', true);
  FOR v IN
    SELECT c.oid, c.relname
      FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
     WHERE n.nspname = 'monitoring' AND c.relkind = 'v'
       AND c.relname IN ('error_rate_by_version', 'latency_by_version', 'error_patterns', 'slow_sessions', 'contaminated_sessions')
       -- not already reading its wrapper function
       AND NOT EXISTS (SELECT 1
                         FROM pg_catalog.pg_rewrite AS r
                         JOIN pg_catalog.pg_depend AS d ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND d.objid = r.oid
                         JOIN pg_catalog.pg_proc AS p ON d.refclassid = 'pg_catalog.pg_proc'::regclass AND p.oid = d.refobjid
                        WHERE r.ev_class = c.oid AND p.pronamespace = n.oid AND p.proname = c.relname || '_rows')
     ORDER BY c.relname
  LOOP
    SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
      INTO cols
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = v.oid AND a.attnum > 0 AND NOT a.attisdropped;
    body := pg_catalog.pg_get_viewdef(v.oid);
    EXECUTE format(
      'CREATE OR REPLACE FUNCTION monitoring.%I() RETURNS TABLE (%s) LANGUAGE sql STABLE SECURITY DEFINER '
      'SET search_path = pg_catalog, pg_temp SET lock_timeout = %L AS %L',
      v.relname || '_rows', cols, '5s', body);
    EXECUTE format('CREATE OR REPLACE VIEW monitoring.%I AS SELECT * FROM monitoring.%I()', v.relname, v.relname || '_rows');
  END LOOP;
END
$do$;
