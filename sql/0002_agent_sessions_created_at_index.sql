-- migrate:no-transaction
-- Bounds every monitoring query by its time window instead of the table's
-- size. Built CONCURRENTLY so that writes to the (big, existing) table are not
-- blocked; that cannot run inside a transaction, hence the marker above.
CREATE INDEX CONCURRENTLY IF NOT EXISTS agent_sessions_created_at_idx
  ON public.agent_sessions (created_at);
