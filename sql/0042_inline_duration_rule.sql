-- monitoring.session_duration_seconds (sql/0012), the one home of the
-- bounded-duration rule, loses its SET search_path clause: a function with a
-- SET clause is never inlined, and every call saves and restores the
-- configuration. The rollup trigger calls it twice per write and the gate's
-- monitoring.stage_metrics twice per row of its window: 0.3 s of a 20 k-row
-- window went to those calls alone (issue 23). Without the clause PostgreSQL
-- inlines the body (IMMUTABLE, built-in functions and operators only, which
-- resolve in pg_catalog first whatever the caller's search_path), and every
-- caller that is SECURITY DEFINER sets its own search_path anyway.
ALTER FUNCTION monitoring.session_duration_seconds(timestamptz, timestamptz) RESET search_path;
