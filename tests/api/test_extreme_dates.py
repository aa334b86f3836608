"""Dates and times at the edges of what Python and PostgreSQL can hold (year 1, year 9999, an offset
that carries them past either end) are refused with a 422 naming the field, never a 500, and never
stored where they would break a later read."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic_core import PydanticCustomError

from services.core.periods import within_span
from tests.factories import sign_in
from tests.factories_inventory import create_job, create_link

EXTREMES = ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59Z",
            "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00", "2101-01-01T00:00:01Z"]


def assert_names(r, *fields: str) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert sorted({e["field"] for e in r.json()["errors"]}) == sorted(fields)
    assert all("Value error" not in e["message"] for e in r.json()["errors"])


@pytest.mark.parametrize("value", [datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
                                   datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))),
                                   datetime(1999, 12, 31, 23, 59, tzinfo=timezone.utc),
                                   datetime(2101, 1, 1, 0, 0, 1, tzinfo=timezone.utc)])
def test_a_time_outside_2000_to_2100_is_refused_even_when_its_offset_would_overflow(value):
    with pytest.raises(PydanticCustomError):
        within_span(value)


def test_the_edges_of_the_span_are_accepted():
    for value in (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2101, 1, 1, tzinfo=timezone.utc),
                  datetime(2000, 1, 1, 9, tzinfo=timezone(timedelta(hours=9)))):
        assert within_span(value) is value


async def test_audit_filters_and_export_refuse_extreme_times_naming_from_or_to(client, tenant):
    await sign_in(client, tenant["msp_owner"])
    for path in ("/api/v1/audit-events", "/api/v1/audit-events/export.csv"):
        for name in ("from", "to"):
            for value in EXTREMES:
                assert_names(await client.get(path, params={name: value}), name)
        # The web app asks for "up to 31 December 2100" as an exclusive end on the next day.
        ok = await client.get(path, params={"from": "2000-01-01T00:00:00Z", "to": "2101-01-01T00:00:00Z"})
        assert ok.status_code == 200, ok.text


async def test_telemetry_history_refuses_extreme_ranges_naming_the_field(client, tenant, db):
    await sign_in(client, tenant["msp_technician"])
    job = await create_job(db, tenant.practice, "NAS nightly", site_id=tenant.site.id)
    link = await create_link(db, tenant.site, "Fiber", "primary")
    base = f"/api/v1/practices/{tenant.practice.id}/telemetry"
    for path in (f"{base}/backup-jobs/{job.id}/runs", f"{base}/restore-tests", f"{base}/links/{link.id}/samples",
                 f"{base}/failovers"):
        for name in ("from", "to"):
            for value in EXTREMES:
                assert_names(await client.get(path, params={name: value}), name)
        # An end at the very start of the span leaves no room for the default start.
        assert_names(await client.get(path, params={"to": "2000-01-01T00:00:00Z"}), "to")
        ok = await client.get(path, params={"to": "2000-01-02T00:00:00Z"})
        assert ok.status_code == 200 and ok.json()["items"] == [], ok.text


async def test_a_maintenance_window_at_year_1_or_9999_is_refused_and_the_list_still_reads(client, tenant):
    await sign_in(client, tenant["msp_admin"])
    url = f"/api/v1/practices/{tenant.practice.id}/maintenance-windows"
    for starts, ends in (("0001-01-01T00:00:00+14:00", "2030-01-01T00:00:00Z"),
                         ("2030-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00")):
        r = await client.post(url, json={"name": "forever", "kind": "once", "starts_at": starts, "ends_at": ends})
        assert_names(r, "starts_at" if starts.startswith("0001") else "ends_at")
    r = await client.post(url, json={"name": "weekend", "kind": "once", "starts_at": "2030-01-05T00:00:00Z",
                                     "ends_at": "2030-01-06T00:00:00Z"})
    assert r.status_code == 201, r.text
    listed = await client.get(url)
    assert listed.status_code == 200 and [w["name"] for w in listed.json()] == ["weekend"]


async def test_other_msp_gets_404_whatever_the_dates(client, tenant, other_tenant):
    await sign_in(client, tenant["msp_technician"])
    r = await client.get(f"/api/v1/practices/{other_tenant.practice.id}/telemetry/failovers",
                         params={"from": "2024-01-01T00:00:00Z"})
    assert r.status_code == 404
    r = await client.post(f"/api/v1/practices/{other_tenant.practice.id}/reports", json={"month": "9999-12"})
    assert r.status_code == 404
