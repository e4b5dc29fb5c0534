-- Give every existing session its owner row, quarantine the sessions that
-- already have more than one user, and make monitoring.session_isolation see
-- every contaminated session of its window at each scrape.
--
-- Backfill: one read of agent_sessions (ACCESS SHARE: blocks no write). The
-- owner rows it inserts are row-locked until this transaction commits, so an
-- app write to a session given an owner here waits for the commit (bench:
-- 0011's time in bench/results-pg*.md). A session the app gave an owner
-- since 0010 is left as it is (ON CONFLICT DO NOTHING). The owner picked for
-- a contaminated session does not matter: a quarantined session takes no new
-- row. Never fails on old violations: they are recorded, not refused.

CREATE TEMPORARY TABLE session_users ON COMMIT DROP AS
SELECT a.session_id,
       (array_agg(a.user_id ORDER BY a.created_at, a.user_id))[1] AS first_user,
       count(DISTINCT a.user_id) AS users
  FROM public.agent_sessions AS a
 WHERE a.session_id IS NOT NULL
   AND a.user_id IS NOT NULL
 GROUP BY a.session_id;

INSERT INTO monitoring.quarantined_sessions (session_id)
SELECT s.session_id FROM session_users AS s WHERE s.users > 1
UNION
SELECT c.session_id FROM monitoring.contaminated_sessions_before_enforcement AS c WHERE c.session_id IS NOT NULL
ON CONFLICT (session_id) DO NOTHING;

INSERT INTO monitoring.session_owners (session_id, user_id)
SELECT s.session_id, s.first_user FROM session_users AS s
ON CONFLICT (session_id) DO NOTHING;

-- Is every part of the enforcement in place, as 0010 left it? The isolation
-- trigger ENABLE ALWAYS (a DISABLE / ENABLE cycle, as pg_restore
-- --disable-triggers does, leaves it origin-only), the owner foreign key
-- present, and none of its triggers disabled.
CREATE OR REPLACE FUNCTION monitoring.session_isolation_enforced()
RETURNS boolean
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT EXISTS (
           SELECT 1 FROM pg_trigger AS t
            WHERE t.tgrelid = 'public.agent_sessions'::regclass
              AND t.tgname = 'agent_sessions_session_isolation'
              AND t.tgenabled = 'A')
     AND EXISTS (
           SELECT 1 FROM pg_constraint AS c
            WHERE c.conrelid = 'public.agent_sessions'::regclass
              AND c.conname = 'agent_sessions_session_owner_fkey'
              AND c.contype = 'f')
     AND NOT EXISTS (
           SELECT 1 FROM pg_trigger AS t JOIN pg_constraint AS c ON c.oid = t.tgconstraint
            WHERE c.conrelid = 'public.agent_sessions'::regclass
              AND c.conname = 'agent_sessions_session_owner_fkey'
              AND t.tgenabled = 'D')
$fn$;

-- The guide's cross-contamination count over the last 24 hours.
-- With the enforcement in place, only quarantined sessions and sessions a
-- replica-role write contaminated (both recorded) can have two users: a few
-- index probes. Otherwise (a trigger or the foreign key disabled or
-- dropped, or a DISABLE/ENABLE cycle) the count reads the whole window, as
-- monitoring.stage_contamination does, until the enforcement is restored.
CREATE OR REPLACE FUNCTION monitoring.session_isolation_count()
RETURNS bigint
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT CASE
           WHEN monitoring.session_isolation_enforced() THEN (
             SELECT count(*)
               FROM (
                 SELECT a.session_id
                   FROM (SELECT q.session_id FROM monitoring.quarantined_sessions AS q
                         UNION
                         SELECT u.session_id FROM monitoring.unchecked_session_writes AS u) AS c
                   JOIN public.agent_sessions AS a ON a.session_id = c.session_id
                  WHERE a.created_at > now() - interval '24 hours'
                  GROUP BY a.session_id
                 HAVING count(DISTINCT a.user_id) > 1
               ) AS recorded)
           ELSE monitoring.stage_contamination(now() - interval '24 hours', 'infinity')
         END
$fn$;

CREATE OR REPLACE VIEW monitoring.session_isolation AS
SELECT monitoring.session_isolation_count() AS cross_contamination_count;
