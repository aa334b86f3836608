"""An agent that enrolled and never reported falls silent too

Revision ID: 0019
Revises: 0018

telemetry_possibly_silent_agents() skipped agents that never reported (last_seen_at IS NULL), so
an agent enrolled and never started raised nothing. Silence now counts from the last time the
agent was heard or, if never, from its enrollment (services/core/telemetry/liveness.py,
docs/decisions/0009-one-silence.md); the function also returns enrolled_at for the sweep's
per-site decision.
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _raw(sql: str) -> None:
    """Run SQL as written: no parameter parsing (function bodies hold % and :)."""
    op.get_bind().connection.dbapi_connection.cursor().execute(sql)


UPGRADE = r"""
DROP FUNCTION telemetry_possibly_silent_agents(double precision);
CREATE FUNCTION telemetry_possibly_silent_agents(min_grace_seconds double precision)
RETURNS TABLE (msp_id uuid, agent_id uuid, practice_id uuid, site_id uuid, last_seen_at timestamptz,
               enrolled_at timestamptz, heartbeat_interval_seconds integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT a.msp_id, a.id, a.practice_id, a.site_id, a.last_seen_at, a.created_at, a.heartbeat_interval_seconds
    FROM agent a
    LEFT JOIN agent_state s ON s.msp_id = a.msp_id AND s.agent_id = a.id
   WHERE a.revoked_at IS NULL
     AND coalesce(a.last_seen_at, a.created_at) < now() - make_interval(secs => a.heartbeat_interval_seconds + min_grace_seconds)
     AND s.silent_since IS NULL
$$;
"""

DOWNGRADE = r"""
DROP FUNCTION telemetry_possibly_silent_agents(double precision);
CREATE FUNCTION telemetry_possibly_silent_agents(min_grace_seconds double precision)
RETURNS TABLE (msp_id uuid, agent_id uuid, practice_id uuid, site_id uuid, last_seen_at timestamptz,
               heartbeat_interval_seconds integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT a.msp_id, a.id, a.practice_id, a.site_id, a.last_seen_at, a.heartbeat_interval_seconds
    FROM agent a
    LEFT JOIN agent_state s ON s.msp_id = a.msp_id AND s.agent_id = a.id
   WHERE a.revoked_at IS NULL AND a.last_seen_at IS NOT NULL
     AND a.last_seen_at < now() - make_interval(secs => a.heartbeat_interval_seconds + min_grace_seconds)
     AND s.silent_since IS NULL
$$;
"""


def upgrade() -> None:
    _raw(UPGRADE)


def downgrade() -> None:
    _raw(DOWNGRADE)
