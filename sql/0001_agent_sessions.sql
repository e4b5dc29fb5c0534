-- The agent_sessions table as the Phase 3 guide's monitoring queries use it.
-- Production already has this table with data: every statement here is
-- additive and re-runnable (IF NOT EXISTS), and nothing rewrites or drops data.

CREATE TABLE IF NOT EXISTS public.agent_sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id text NOT NULL,
  user_id text NOT NULL,
  status text NOT NULL DEFAULT 'active',
  error_message text,
  metadata jsonb,
  workflow_state jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The monitoring views, and the tables that keep them cheap, live in their
-- own schema so that the monitoring role can be granted exactly that.
CREATE SCHEMA IF NOT EXISTS monitoring;
