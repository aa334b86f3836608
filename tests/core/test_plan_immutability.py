"""An approved plan version cannot be changed, even by SQL from the application role."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.core.db import Scope
from tests.factories_plans import create_plan, filled_sections


async def _sql(db, tenant, statement: str, **params):
    async with db.transaction(Scope(tenant.msp_id)) as s:
        return (await s.execute(text(statement), params)).rowcount


ATTEMPTS = [
    "UPDATE plan_version SET sections = '[]'::jsonb WHERE id = :id",
    "UPDATE plan_version SET approved_by_label = 'someone else' WHERE id = :id",
    "UPDATE plan_version SET status = 'draft' WHERE id = :id",
    "UPDATE plan_version SET status = 'superseded', next_review_date = next_review_date + 365 WHERE id = :id",
    "DELETE FROM plan_version WHERE id = :id",
]


async def test_approved_version_refuses_sql_from_the_application_role(db, tenant):
    v = await create_plan(db, tenant.practice, state="approved", sections=filled_sections())
    for statement in ATTEMPTS:
        with pytest.raises(DBAPIError, match="is approved and cannot be changed"):
            await _sql(db, tenant, statement, id=v.id)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        row = (await s.execute(text("SELECT status, jsonb_array_length(sections) FROM plan_version WHERE id = :id"), {"id": v.id})).one()
    assert tuple(row) == ("approved", len(filled_sections()))


async def test_superseded_version_refuses_every_change_too(db, tenant):
    first = await create_plan(db, tenant.practice, state="approved")
    await create_plan(db, tenant.practice, state="approved")
    for statement in ("UPDATE plan_version SET status = 'approved' WHERE id = :id",
                      "UPDATE plan_version SET sections = '[]'::jsonb WHERE id = :id",
                      "DELETE FROM plan_version WHERE id = :id"):
        with pytest.raises(DBAPIError, match="superseded and cannot be changed"):
            await _sql(db, tenant, statement, id=first.id)


async def test_the_only_change_allowed_is_approved_to_superseded_alone(db, tenant):
    v = await create_plan(db, tenant.practice, state="approved")
    assert await _sql(db, tenant, "UPDATE plan_version SET status = 'superseded' WHERE id = :id", id=v.id) == 1


async def test_a_draft_can_still_be_edited_and_removed_by_sql(db, tenant):
    v = await create_plan(db, tenant.practice, state="draft")
    assert await _sql(db, tenant, "UPDATE plan_version SET sections = '[]'::jsonb WHERE id = :id", id=v.id) == 1
    assert await _sql(db, tenant, "DELETE FROM plan_version WHERE id = :id", id=v.id) == 1


async def test_removing_a_practice_takes_its_approved_plan_with_it(db, tenant):
    """Deleting the whole practice is the one way approved versions go (the practice and its evidence leave together)."""
    await create_plan(db, tenant.practice, state="approved")
    await create_plan(db, tenant.practice, state="approved")
    assert await _sql(db, tenant, "DELETE FROM practice WHERE id = :id", id=tenant.practice.id) == 1
    async with db.transaction(Scope(tenant.msp_id)) as s:
        left = (await s.execute(text("SELECT count(*) FROM plan_version WHERE practice_id = :p"), {"p": tenant.practice.id})).scalar()
    assert left == 0
