-- Sessions that were already contaminated (more than one user_id) before
-- 0004 began refusing new contamination. Since 0004 no session can gain a
-- second user, so these are the only sessions monitoring.session_isolation
-- has to look at: the 24 h count costs a few index probes, not a pass over
-- the window. This scan reads the whole table once (index-only where the
-- visibility map allows) and takes no lock that blocks writes.
--
-- The column copies agent_sessions.session_id's type (text here, maybe uuid in
-- an older production table), so the view's join can use 0003's index.

CREATE TABLE IF NOT EXISTS monitoring.contaminated_sessions_before_enforcement AS
  SELECT a.session_id FROM public.agent_sessions AS a WITH NO DATA;

INSERT INTO monitoring.contaminated_sessions_before_enforcement (session_id)
SELECT a.session_id
  FROM public.agent_sessions AS a
 WHERE a.session_id IS NOT NULL
   AND NOT EXISTS (
     SELECT 1 FROM monitoring.contaminated_sessions_before_enforcement AS c
      WHERE c.session_id = a.session_id)
 GROUP BY a.session_id
HAVING count(DISTINCT a.user_id) > 1;
