"""The inbox and raw link samples without per-row foreign keys; deletions follow by trigger

Revision ID: 0009
Revises: 0008

Each foreign key costs a trigger per inserted row (an index probe and a row lock on the parent).
On telemetry_event, three of them (msp, practice, site) were ~40 % of PostgreSQL's CPU per ingested
event (measured: 61 → 36 µs per event for 100-event groups); on link_sample, two of them were the
largest part of the worker's claim statement after the inbox update. Both tables are written only
by our own code with ids that come from rows it has just checked (the agent credential's row, the
claimed inbox rows), so the keys protected nothing a check did not already; what they still did
was follow deletions, and statement-level triggers do that now:

- a practice deleted: its inbox rows and raw samples go (after the cascades, in a fresh snapshot, so
  rows committed by a request or batch that the deletion waited for are seen and removed);
- a site deleted: its inbox rows keep their practice and lose the site, as ON DELETE SET NULL did;
- an MSP deleted: its inbox rows and raw samples go.

Races stay closed: the inbox writer locks the agent (or ping key) row it relies on FOR KEY SHARE,
so a practice deletion (which cascades to agents and ping keys) waits for a request in flight and
then removes its rows; the worker's batch writes link_sample_5m, which keeps its foreign keys, in
the same statement as link_sample, so a batch racing a deletion either commits first (and its rows
are removed by the trigger) or fails as before.

The deletions scan the MSP's part of each table (no index on practice_id): deleting a practice is
rare, and an index would cost every ingested row what the foreign key did.
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _raw(sql: str) -> None:
    """Run SQL as written: no parameter parsing (function bodies hold % and :)."""
    op.get_bind().connection.dbapi_connection.cursor().execute(sql)


UPGRADE = r"""
ALTER TABLE telemetry_event DROP CONSTRAINT fk_telemetry_event_practice,
                            DROP CONSTRAINT fk_telemetry_event_site,
                            DROP CONSTRAINT fk_telemetry_event_msp_id_msp;
ALTER TABLE link_sample DROP CONSTRAINT fk_link_sample_practice,
                        DROP CONSTRAINT fk_link_sample_msp_id_msp;

-- Security invoker: the deleting user sees (under row-level security) the rows of what it deletes.
CREATE FUNCTION telemetry_forget_practices() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM telemetry_event e USING gone g WHERE e.msp_id = g.msp_id AND e.practice_id = g.id;
  DELETE FROM link_sample s USING gone g WHERE s.msp_id = g.msp_id AND s.practice_id = g.id;
  RETURN NULL;
END $$;
CREATE TRIGGER practice_forgets_telemetry AFTER DELETE ON practice
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION telemetry_forget_practices();

CREATE FUNCTION telemetry_forget_sites() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE telemetry_event e SET site_id = NULL FROM gone g WHERE e.msp_id = g.msp_id AND e.site_id = g.id;
  RETURN NULL;
END $$;
CREATE TRIGGER site_forgets_telemetry AFTER DELETE ON site
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION telemetry_forget_sites();

CREATE FUNCTION telemetry_forget_msps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM telemetry_event e USING gone g WHERE e.msp_id = g.id;
  DELETE FROM link_sample s USING gone g WHERE s.msp_id = g.id;
  RETURN NULL;
END $$;
CREATE TRIGGER msp_forgets_telemetry AFTER DELETE ON msp
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION telemetry_forget_msps();
"""

DOWNGRADE = r"""
DROP TRIGGER msp_forgets_telemetry ON msp;
DROP FUNCTION telemetry_forget_msps();
DROP TRIGGER site_forgets_telemetry ON site;
DROP FUNCTION telemetry_forget_sites();
DROP TRIGGER practice_forgets_telemetry ON practice;
DROP FUNCTION telemetry_forget_practices();
DELETE FROM telemetry_event e WHERE NOT EXISTS (SELECT 1 FROM practice p WHERE p.msp_id = e.msp_id AND p.id = e.practice_id);
DELETE FROM link_sample s WHERE NOT EXISTS (SELECT 1 FROM practice p WHERE p.msp_id = s.msp_id AND p.id = s.practice_id);
ALTER TABLE telemetry_event
  ADD CONSTRAINT fk_telemetry_event_practice FOREIGN KEY (msp_id, practice_id) REFERENCES practice (msp_id, id) ON DELETE CASCADE,
  ADD CONSTRAINT fk_telemetry_event_site FOREIGN KEY (msp_id, site_id) REFERENCES site (msp_id, id) ON DELETE SET NULL (site_id),
  ADD CONSTRAINT fk_telemetry_event_msp_id_msp FOREIGN KEY (msp_id) REFERENCES msp (id) ON DELETE CASCADE;
ALTER TABLE link_sample
  ADD CONSTRAINT fk_link_sample_practice FOREIGN KEY (msp_id, practice_id) REFERENCES practice (msp_id, id) ON DELETE CASCADE,
  ADD CONSTRAINT fk_link_sample_msp_id_msp FOREIGN KEY (msp_id) REFERENCES msp (id) ON DELETE CASCADE;
"""


def upgrade() -> None:
    _raw(UPGRADE)


def downgrade() -> None:
    _raw(DOWNGRADE)
