"""Every tenant table is ready to be distributed by msp_id (Citus): keys stay inside one tenant."""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, Index, UniqueConstraint

from services.core.models import Base

# Global tables: identities and sessions (a user spans MSPs) and the secret lookup index.
GLOBAL_TABLES = {"app_user", "user_session", "password_reset", "mfa_recovery_code", "secret_index", "msp"}


def _tenant_tables():
    return [t for t in Base.metadata.sorted_tables if "msp_id" in t.c]


def test_every_table_is_either_a_tenant_table_or_a_known_global_one():
    unknown = [t.name for t in Base.metadata.sorted_tables if "msp_id" not in t.c and t.name not in GLOBAL_TABLES]
    assert unknown == [], f"tables without msp_id must be deliberate globals: {unknown}"


def test_tenant_primary_keys_include_msp_id():
    bad = [t.name for t in _tenant_tables() if "msp_id" not in t.primary_key.columns]
    assert bad == []


def test_tenant_unique_constraints_include_msp_id():
    bad = []
    for t in _tenant_tables():
        for c in t.constraints:
            if isinstance(c, UniqueConstraint) and "msp_id" not in c.columns:
                bad.append(f"{t.name}.{c.name}")
        for ix in t.indexes:
            if isinstance(ix, Index) and ix.unique and "msp_id" not in {col.name for col in ix.columns}:
                bad.append(f"{t.name}.{ix.name}")
    assert bad == []


def test_foreign_keys_between_tenant_tables_include_msp_id():
    tenant_names = {t.name for t in _tenant_tables()}
    bad = []
    for t in _tenant_tables():
        for fk in t.constraints:
            if not isinstance(fk, ForeignKeyConstraint):
                continue
            target = fk.referred_table.name
            if target in tenant_names and "msp_id" not in {c.name for c in fk.columns}:
                bad.append(f"{t.name} → {target} ({', '.join(c.name for c in fk.columns)})")
    assert bad == []


def test_the_checks_above_catch_a_bad_table():
    """The rules are not vacuous: a table breaking them is reported."""
    from sqlalchemy import Column, MetaData, Table, Uuid

    md = MetaData()
    Table("practice", md, Column("msp_id", Uuid, primary_key=True), Column("id", Uuid, primary_key=True))
    bad = Table("bad", md, Column("msp_id", Uuid), Column("id", Uuid, primary_key=True), Column("practice_id", Uuid),
                ForeignKeyConstraint(["practice_id"], ["practice.id"]), UniqueConstraint("id", name="uq_bad"))
    assert "msp_id" not in bad.primary_key.columns
    assert any(isinstance(c, UniqueConstraint) and "msp_id" not in c.columns for c in bad.constraints)
    assert any(isinstance(c, ForeignKeyConstraint) and "msp_id" not in {x.name for x in c.columns} for c in bad.constraints)
