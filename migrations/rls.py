"""Row-level security for tenant tables, used by every migration that creates one.

The policies read the transaction's tenant settings through app_msp_id() and
app_practice_visible(); when those are unset every policy matches nothing (fail closed).
"""

from alembic import op


def enable_tenant_rls(table: str, practice_column: str | None = "practice_id") -> None:
    """RLS enabled and forced, one policy for USING and WITH CHECK.

    practice_column: the column naming the practice (None for MSP-wide tables). A NULL practice
    is visible only to a caller who sees every practice of the MSP.
    """
    condition = "msp_id = app_msp_id()"
    if practice_column:
        condition += f" AND app_practice_visible({practice_column})"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({condition}) WITH CHECK ({condition})")


def disable_tenant_rls(table: str) -> None:
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
