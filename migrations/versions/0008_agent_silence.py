"""The dead man's switch uses the alert rule's definition of "silent"

Revision ID: 0008
Revises: 0007

telemetry_newly_silent_agents() judged silence as three heartbeat intervals, the agent.silent rule
as the interval plus a policy-configurable grace (SPEC: "agent silent past its heartbeat + grace").
The grace is an alert-policy setting resolved per site in Python (services/core/telemetry/
liveness.py, services/core/alerts/liveness.py), so the cross-tenant function now only lists the
agents that may be silent under the smallest grace a policy allows; the sweep decides per agent.
Agents that never reported are not silent (the rule's definition: "never seen").
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _raw(sql: str) -> None:
    """Run SQL as written: no parameter parsing (function bodies hold % and :)."""
    op.get_bind().connection.dbapi_connection.cursor().execute(sql)


UPGRADE = r"""
DROP FUNCTION telemetry_newly_silent_agents();
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

DOWNGRADE = r"""
DROP FUNCTION telemetry_possibly_silent_agents(double precision);
-- Silent = nothing heard for the heartbeat interval plus a grace of two intervals.
CREATE FUNCTION telemetry_newly_silent_agents() RETURNS TABLE (msp_id uuid, agent_id uuid, practice_id uuid, silent_since timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT a.msp_id, a.id, a.practice_id,
         coalesce(a.last_seen_at, a.created_at) + make_interval(secs => a.heartbeat_interval_seconds * 3)
    FROM agent a
    LEFT JOIN agent_state s ON s.msp_id = a.msp_id AND s.agent_id = a.id
   WHERE a.revoked_at IS NULL
     AND coalesce(a.last_seen_at, a.created_at) < now() - make_interval(secs => a.heartbeat_interval_seconds * 3)
     AND s.silent_since IS NULL
$$;
"""


def upgrade() -> None:
    _raw(UPGRADE)


def downgrade() -> None:
    _raw(DOWNGRADE)
