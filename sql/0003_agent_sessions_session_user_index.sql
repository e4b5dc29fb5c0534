-- migrate:no-transaction
-- Lets the session-isolation trigger (0004) find another user of a session
-- with one index probe, and the contamination view count a session's users.
CREATE INDEX CONCURRENTLY IF NOT EXISTS agent_sessions_session_id_user_id_idx
  ON public.agent_sessions (session_id, user_id);
