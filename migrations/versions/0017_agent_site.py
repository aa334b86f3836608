"""Backup jobs without a site get their practice's only site

Revision ID: 0017
Revises: 0016

Agents now report only on their own site's backup jobs (docs/decisions/0002-agents-report-on-their-own-site.md),
and a job without a site is reported by no agent. Before, any agent of the practice could report a
job left without a site, and most practices have one site: there the job can only be that site's,
so it is placed there, and the agent that reported it keeps being heard. A job of a practice with
several sites stays without one: which site runs it is for a person to say (the job's page, and
the agent's refusal, say so).

The tables force row-level security on their owner too; the backfill spans every tenant, so it
lifts that for its own statement and restores it.
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_TABLES = ("backup_job", "site")


def upgrade() -> None:
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute("""
        UPDATE backup_job j SET site_id = sole.site_id
          FROM (SELECT msp_id, practice_id, min(id::text)::uuid AS site_id FROM site
                 GROUP BY msp_id, practice_id HAVING count(*) = 1) sole
         WHERE j.site_id IS NULL AND j.msp_id = sole.msp_id AND j.practice_id = sole.practice_id
    """)
    for table in _TABLES:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")


def downgrade() -> None:
    # Nothing to undo: a job placed at its practice's only site was reportable from that site before
    # this revision too, and which jobs were placed by it is not recorded.
    pass
