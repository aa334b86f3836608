"""The second wall: row-level security in the database, whatever the application does."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from psycopg.errors import InsufficientPrivilege
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.core.db import Database, Scope
from services.core.models import Base
from tests.factories import api_token

TENANT_COLUMN = "msp_id"


def tenant_tables() -> list[str]:
    return sorted(t.name for t in Base.metadata.tables.values() if TENANT_COLUMN in t.c)


async def test_every_tenant_table_has_forced_rls_and_a_policy(owner_db):
    async with owner_db.transaction() as s:
        rows = (await s.execute(text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
            " AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'msp_id' AND NOT a.attisdropped)"
            " AND NOT c.relispartition"
        ))).all()
    found = {r.relname: r for r in rows}
    assert set(tenant_tables()) <= set(found), "every model table with msp_id exists in the database"
    weak = [name for name, r in found.items() if not (r.relrowsecurity and r.relforcerowsecurity and r.policies > 0)]
    assert weak == [], f"tables with msp_id but without forced RLS and a policy: {weak}"


async def test_the_tenant_root_is_protected_too(owner_db):
    async with owner_db.transaction() as s:
        r = (await s.execute(text("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'msp'"))).one()
    assert r.relrowsecurity and r.relforcerowsecurity


async def test_application_role_cannot_bypass_rls_and_owns_nothing(db):
    async with db.transaction() as s:
        role = (await s.execute(text(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"))).one()
        owned = (await s.execute(text(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"))).scalar()
    assert tuple(role) == (False, False, False, False)
    assert owned == 0


async def test_a_query_with_no_tenant_set_returns_nothing(db, tenant):
    async with db.transaction() as s:
        for table in tenant_tables():
            count = (await s.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
            assert count == 0, f"{table} leaked {count} rows with no tenant set"
        assert (await s.execute(text("SELECT count(*) FROM msp"))).scalar() == 0


async def test_the_tenant_setting_does_not_outlive_its_transaction(db, tenant):
    async with db.transaction(Scope(tenant.msp_id)) as s:
        assert (await s.execute(text("SELECT count(*) FROM practice"))).scalar() == 2
    async with db.transaction() as s:
        assert (await s.execute(text("SELECT count(*) FROM practice"))).scalar() == 0


async def test_a_scoped_writer_cannot_insert_into_another_tenant(db, tenant, other_tenant):
    with pytest.raises(DBAPIError) as err:
        async with db.transaction(Scope(tenant.msp_id)) as s:
            await s.execute(text("INSERT INTO site (msp_id, id, practice_id, name, created_at) VALUES (:m, :i, :p, 'x', now())"),
                            {"m": other_tenant.msp_id, "i": uuid.uuid4(), "p": other_tenant.practice.id})
    assert isinstance(err.value.orig, InsufficientPrivilege)


async def test_practice_scope_hides_sibling_practices(db, tenant):
    async with db.transaction(Scope(tenant.msp_id, frozenset({tenant.practice.id}))) as s:
        ids = (await s.execute(text("SELECT id FROM practice"))).scalars().all()
        sites = (await s.execute(text("SELECT practice_id FROM site"))).scalars().all()
    assert ids == [tenant.practice.id]
    assert set(sites) == {tenant.practice.id}


async def test_audit_trail_is_append_only_for_the_application_role(db, tenant):
    for statement in ("UPDATE audit_event SET action = 'forged'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError) as err:
            async with db.transaction(Scope(tenant.msp_id)) as s:
                await s.execute(text(statement))
        assert isinstance(err.value.orig, InsufficientPrivilege), statement


async def test_interleaved_requests_from_two_msps_over_two_connections_see_no_foreign_rows(database_urls, tenant, other_tenant, db):
    """1,000 requests alternating between two MSPs through a pool of 2 connections."""
    from services.api.app import create_app
    from services.core.settings import get_settings

    small = Database.connect(database_urls[1], pool_size=1)  # pool_size=1 + max_overflow=1 → 2 connections
    try:
        app = create_app(get_settings(), database=small)
        tokens = {
            tenant.msp_id: await api_token(db, tenant.msp_id, tenant["msp_owner"]),
            other_tenant.msp_id: await api_token(db, other_tenant.msp_id, other_tenant["msp_owner"]),
        }
        own = {tenant.msp_id: {str(tenant.practice.id), str(tenant.sibling.id)},
               other_tenant.msp_id: {str(other_tenant.practice.id), str(other_tenant.sibling.id)}}
        foreign_rows = 0
        checked = 0
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as client:
            async def one(i: int) -> None:
                nonlocal foreign_rows, checked
                msp = tenant.msp_id if i % 2 == 0 else other_tenant.msp_id
                r = await client.get("/api/v1/practices", headers={"Authorization": f"Bearer {tokens[msp]}"})
                assert r.status_code == 200, r.text
                ids = {p["id"] for p in r.json()}
                foreign_rows += len(ids - own[msp])
                assert ids == own[msp]
                checked += 1

            for start in range(0, 1000, 50):
                await asyncio.gather(*(one(i) for i in range(start, start + 50)))
        assert checked == 1000
        assert foreign_rows == 0
        assert small.engine.pool.checkedout() == 0
    finally:
        await small.dispose()


async def test_rescoping_writes_what_was_added_under_the_scope_it_was_added_in(db, tenant, other_tenant):
    """set_scope runs on the driver, below SQLAlchemy's autoflush: it flushes pending objects itself,
    so a row added under one MSP's scope is written under that scope, not the next one (where
    row-level security would refuse it)."""
    from services.core.db import set_scope
    from services.core.practices.models import Practice

    async with db.transaction(Scope(tenant.msp_id)) as s:
        s.add(Practice(msp_id=tenant.msp_id, name="Added before rescoping"))
        await set_scope(s, Scope(other_tenant.msp_id))
        assert (await s.scalar(text("SELECT count(*) FROM practice WHERE name = 'Added before rescoping'"))) == 0
    async with db.transaction(Scope(tenant.msp_id)) as s:
        names = set((await s.scalars(text("SELECT name FROM practice WHERE msp_id = :m"), {"m": tenant.msp_id})).all())
    assert "Added before rescoping" in names
