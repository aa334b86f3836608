"""The portfolio's order at one score (incidents, then time at that score) and the trend of a practice's first day."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from services.core.db import Scope
from services.core.readiness import service
from services.core.readiness.weights import status_for
from tests.factories import create_practice, sign_in
from tests.factories_readiness import open_incident
from tests.api.test_portfolio import all_pages

NOW = datetime(2026, 3, 3, 15, 20, tzinfo=timezone.utc)


async def seed(owner_db, msp_id, practice_id, score: int, changed_at: datetime) -> None:
    async with owner_db.transaction() as s:
        await s.execute(text(
            "INSERT INTO readiness_current (msp_id, practice_id, score, status, components, findings, sources, inputs_hash,"
            " computed_at, changed_at) VALUES (:m, :p, :score, :status, '{}', '[]', '[]', 'seed', now(), :changed)"
            " ON CONFLICT (msp_id, practice_id) DO UPDATE SET score = excluded.score, status = excluded.status,"
            " changed_at = excluded.changed_at"),
            {"m": msp_id, "p": practice_id, "score": score, "status": status_for(score), "changed": changed_at})


@pytest.fixture
async def tied(db, owner_db, tenant):
    """Seven practices at 50, named so that name order is the reverse of the expected rank."""
    now = datetime.now(timezone.utc)
    made = {}
    for label, name in [("two_critical", "Zeta"), ("one_critical", "Yarrow"), ("two_high", "Xenon"), ("one_high", "Willow"),
                        ("stuck_a_week", "Vale"), ("same_minute_a", "Ash"), ("same_minute_b", "Birch"), ("just_moved", "Aaron")]:
        practice, _ = await create_practice(db, tenant.msp_id, name=name)
        made[label] = practice.id
    same = now - timedelta(days=2, microseconds=123)
    for label, pid in made.items():
        changed = {"stuck_a_week": now - timedelta(days=7), "just_moved": now - timedelta(minutes=5)}.get(label, same)
        await seed(owner_db, tenant.msp_id, pid, 50, changed)
    for label, n, severity in [("two_critical", 2, "critical"), ("one_critical", 1, "critical"), ("two_high", 2, "high"),
                               ("one_high", 1, "high")]:
        for _ in range(n):
            await open_incident(owner_db, tenant.msp_id, made[label], severity)
    # A medium incident does not break a tie: the practice stays ranked by its time at the score.
    await open_incident(owner_db, tenant.msp_id, made["just_moved"], "medium")
    # The tenant's own practices are far from 50, so they never sit inside the tie.
    await seed(owner_db, tenant.msp_id, tenant.practice.id, 10, now)
    await seed(owner_db, tenant.msp_id, tenant.sibling.id, 99, now)
    return made


EXPECTED = ["two_critical", "one_critical", "two_high", "one_high", "stuck_a_week", "same_minute_a", "same_minute_b",
            "just_moved"]


@pytest.mark.parametrize("limit", [1, 2, 3, 200])
async def test_practices_at_one_score_rank_by_critical_then_high_incidents_then_longest_at_that_score(client, tenant, tied,
                                                                                                       limit):
    await sign_in(client, tenant["msp_technician"])
    items, summary = await all_pages(client, limit=limit)
    ids = [i["practice_id"] for i in items]
    assert len(ids) == len(set(ids)) == summary["total"] == 10
    assert ids[0] == str(tenant.practice.id) and ids[-1] == str(tenant.sibling.id)
    assert ids[1:-1] == [str(tied[label]) for label in EXPECTED]


@pytest.mark.parametrize("limit", [1, 3])
async def test_best_first_reads_the_same_ranking_from_the_other_end_across_pages(client, tenant, tied, limit):
    await sign_in(client, tenant["msp_admin"])
    items, _ = await all_pages(client, sort="-score", limit=limit)
    ids = [i["practice_id"] for i in items]
    # At one score, the names of the practices moved at the same instant still read A to Z.
    order = ["just_moved", "same_minute_a", "same_minute_b", "stuck_a_week", "one_high", "two_high", "one_critical",
             "two_critical"]
    expected = [str(tied[label]) for label in order]
    assert ids == [str(tenant.sibling.id), *expected, str(tenant.practice.id)]


@pytest.mark.parametrize("limit", [1, 4])
async def test_by_open_incidents_practices_with_the_same_counts_rank_by_score_then_longest_at_it(client, owner_db, tenant,
                                                                                                   tied, limit):
    # The tenant's own practice (10) has no incident, like the three quiet practices at 50.
    await sign_in(client, tenant["msp_technician"])
    items, _ = await all_pages(client, sort="open_incidents", limit=limit)
    ids = [i["practice_id"] for i in items]
    quiet = [str(tenant.practice.id), str(tied["stuck_a_week"]), str(tied["same_minute_a"]), str(tied["same_minute_b"]),
             str(tenant.sibling.id)]
    assert ids == [str(tied[label]) for label in EXPECTED[:4]] + [str(tied["just_moved"])] + quiet


async def test_a_cursor_whose_time_is_not_a_time_is_a_422_naming_the_cursor(client, tenant, tied):
    await sign_in(client, tenant["msp_technician"])
    cursor = (await client.get("/api/v1/portfolio", params={"limit": 2})).json()["next_cursor"]
    sort, values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for bad in ("yesterday", "2026-03-03T10:00:00", 12):
        forged = base64.urlsafe_b64encode(json.dumps([sort, [*values[:3], bad, *values[4:]]]).encode()).decode()
        r = await client.get("/api/v1/portfolio", params={"limit": 2, "cursor": forged})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["field"] == "cursor"


async def rescore_at(db, practice, at: datetime) -> int:
    async with db.transaction(Scope(practice.msp_id)) as s:
        return (await service.recompute(s, practice.msp_id, [practice.id], now=at))[practice.id].score


async def test_on_its_first_day_a_practice_has_a_trend_of_todays_hours(client, db, tenant, monkeypatch):
    monkeypatch.setattr("services.api.routers.portfolio.utcnow", lambda: NOW)
    monkeypatch.setattr("services.api.routers.readiness.utcnow", lambda: NOW)
    hours = [NOW.replace(hour=h, minute=7) for h in (9, 10, 11)]
    scores = [await rescore_at(db, tenant.practice, at) for at in hours]
    await rescore_at(db, tenant.practice, hours[-1] + timedelta(minutes=30))
    await sign_in(client, tenant["msp_technician"])
    items, _ = await all_pages(client)
    trend = next(i["trend"] for i in items if i["practice_id"] == str(tenant.practice.id))
    assert [p["period"] for p in trend] == ["hour"] * 3
    assert [datetime.fromisoformat(p["at"]) for p in trend] == [at.replace(minute=0) for at in hours]
    assert [p["score"] for p in trend] == scores
    client.cookies.clear()
    await sign_in(client, tenant["practice_owner"])
    r = await client.get(f"/api/v1/practices/{tenant.practice.id}/readiness/trend")
    assert r.status_code == 200, r.text
    assert r.json()["points"] == trend


async def test_a_practice_scored_once_shows_the_hour_it_was_first_scored(client, db, tenant, monkeypatch):
    monkeypatch.setattr("services.api.routers.readiness.utcnow", lambda: NOW)
    score = await rescore_at(db, tenant.practice, NOW - timedelta(minutes=50))
    await sign_in(client, tenant["practice_owner"])
    points = (await client.get(f"/api/v1/practices/{tenant.practice.id}/readiness/trend")).json()["points"]
    assert [(p["period"], datetime.fromisoformat(p["at"]), p["score"]) for p in points] == [
        ("hour", NOW.replace(hour=14, minute=0), score)]


async def test_once_there_are_two_days_the_trend_is_daily_and_old_hours_are_pruned(client, db, owner_db, tenant, monkeypatch):
    tomorrow = NOW + timedelta(days=1)
    monkeypatch.setattr("services.api.routers.readiness.utcnow", lambda: tomorrow)
    for at in (NOW - timedelta(hours=2), NOW, tomorrow - timedelta(hours=1)):
        await rescore_at(db, tenant.practice, at)
    await sign_in(client, tenant["practice_owner"])
    points = (await client.get(f"/api/v1/practices/{tenant.practice.id}/readiness/trend")).json()["points"]
    assert [(p["period"], p["day"]) for p in points] == [("day", NOW.date().isoformat()), ("day", tomorrow.date().isoformat())]
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await service.snapshot(s, tenant.msp_id, NOW + timedelta(days=2, hours=2))
    async with owner_db.transaction() as s:
        left = (await s.execute(text("SELECT hour FROM readiness_hourly WHERE practice_id = :p ORDER BY hour"),
                                {"p": tenant.practice.id})).scalars().all()
    assert left == [tomorrow - timedelta(hours=1, minutes=20)]


async def test_other_msp_gets_404_for_the_trend(client, tenant, other_tenant):
    await sign_in(client, other_tenant["msp_owner"])
    assert (await client.get(f"/api/v1/practices/{tenant.practice.id}/readiness/trend")).status_code == 404
    r = await client.get(f"/api/v1/practices/{other_tenant.practice.id}/readiness/trend")
    assert r.status_code == 200 and r.json()["points"] == []
