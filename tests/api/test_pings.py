"""Healthchecks-compatible pings from a real HTTP client, and each backup job's ping URL."""

from __future__ import annotations

import pytest

from services.core.settings import get_settings
from services.core.telemetry import pings
from tests.factories import sign_in
from tests.factories_inventory import create_job
from tests.factories_telemetry import audit_actions, inbox, ping_url


@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
async def test_every_healthchecks_signal_is_recorded_once_per_ping(client, tenant, db, method):
    job = await create_job(db, tenant.practice, "borgmatic", site_id=tenant.site.id)
    url = await ping_url(db, job)
    expected = [("start", None), ("success", None), ("fail", None), ("log", None), ("success", 0), ("fail", 2), ("success", None)]
    for suffix in ("/start", "", "/fail", "/log", "/0", "/2", ""):  # the last one repeats: pings are not deduplicated
        r = await client.request(method, url + suffix + "?rid=3f1c2a8e-0000-4000-8000-000000000001",
                                 content=b"log line" if method == "POST" else None, headers={"User-Agent": "borgmatic/1.9"})
        assert r.status_code == 200, r.text
        assert r.text == ("" if method == "HEAD" else "OK")
    rows = await inbox(db, tenant.msp_id)
    assert [(row["payload"]["kind"], row["payload"].get("exit_code")) for row in rows] == expected
    assert {(row["type"], row["source_id"], row["practice_id"], row["site_id"]) for row in rows} == {
        ("ping", job.id, tenant.practice.id, tenant.site.id)}
    assert len({row["event_id"] for row in rows}) == len(rows)
    first = rows[0]["payload"]
    assert first["rid"] == "3f1c2a8e-0000-4000-8000-000000000001" and first["user_agent"] == "borgmatic/1.9"
    assert first["job_id"] == str(job.id)
    assert first["body"] == ("log line" if method == "POST" else "")


async def test_a_long_body_keeps_its_first_100_000_bytes_as_healthchecks_does(client, tenant, db):
    job = await create_job(db, tenant.practice, "cron")
    url = await ping_url(db, job)
    body = b"A" * 50_000 + b"B" * 100_000
    assert (await client.post(url + "/fail", content=body)).text == "OK"
    (row,) = await inbox(db, tenant.msp_id)
    assert row["payload"]["body"] == "A" * 50_000 + "B" * 50_000
    assert len(row["payload"]["body"]) == pings.MAX_BODY


async def test_a_body_over_10_mib_is_refused_with_413_problem_json_and_nothing_is_recorded(client, tenant, db):
    url = await ping_url(db, await create_job(db, tenant.practice, "cron"))
    r = await client.post(url, content=b"x" * (10 * 1024 * 1024 + 1))
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 413
    assert await inbox(db, tenant.msp_id) == []


async def test_unknown_keys_and_signals_answer_problem_json_not_found(client, tenant, db):
    job = await create_job(db, tenant.practice, "cron")
    url = await ping_url(db, job)
    for bad in ("/ping/swp_nope", url + "/256", url + "/restart", url + "/-1", url + "/³³", "/ping/swp_nope/"):
        r = await client.get(bad)
        assert r.status_code == 404, bad
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"].endswith("/not-found") and r.json()["instance"] == bad
    assert await inbox(db, tenant.msp_id) == []


@pytest.mark.parametrize("rid", ["", "r1", "3f1c2a8e00004000800000000000000a", "{3f1c2a8e-0000-4000-8000-000000000001}",
                                 "3f1c2a8e-0000-4000-8000-00000000000g", "3f1c2a8e-0000-4000-8000-000000000001\x00"])
async def test_a_rid_that_is_not_a_uuid_is_refused_with_400_naming_the_field(client, tenant, db, rid):
    url = await ping_url(db, await create_job(db, tenant.practice, "cron"))
    r = await client.get(url + "/start", params={"rid": rid})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["rid"]
    assert await inbox(db, tenant.msp_id) == []


async def test_a_rid_in_capitals_is_kept_in_its_canonical_form_so_start_and_finish_pair(client, tenant, db):
    url = await ping_url(db, await create_job(db, tenant.practice, "cron"))
    assert (await client.get(url + "/start?rid=3F1C2A8E-0000-4000-8000-00000000000A")).text == "OK"
    assert (await client.get(url + "?rid=3f1c2a8e-0000-4000-8000-00000000000a")).text == "OK"
    assert {row["payload"]["rid"] for row in await inbox(db, tenant.msp_id)} == {"3f1c2a8e-0000-4000-8000-00000000000a"}


@pytest.mark.parametrize("method", ["GET", "POST", "HEAD"])
async def test_a_trailing_slash_is_accepted_on_every_ping_route(client, tenant, db, method):
    url = await ping_url(db, await create_job(db, tenant.practice, "cron"))
    for suffix in ("/", "/start/", "/log/", "/fail/", "/0/", "/1/"):
        r = await client.request(method, url + suffix)
        assert r.status_code == 200, (suffix, r.status_code, r.headers.get("location"))
    assert [row["payload"]["kind"] for row in await inbox(db, tenant.msp_id)] == ["success", "start", "log", "fail",
                                                                                  "success", "fail"]


async def test_pings_over_the_limit_answer_429_problem_json(client, tenant, db, monkeypatch):
    monkeypatch.setattr(get_settings(), "ping_rate_limit", "1/minute")
    url = await ping_url(db, await create_job(db, tenant.practice, "chatty"))
    assert (await client.get(url)).status_code == 200
    r = await client.get(url)
    assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"


async def test_the_ping_url_is_stable_and_rotation_retires_the_old_one_at_once(client, tenant, db):
    job = await create_job(db, tenant.practice, "nightly")
    await sign_in(client, tenant["practice_staff"])
    api = f"/api/v1/practices/{tenant.practice.id}/backup-jobs/{job.id}/ping-url"
    first = await client.get(api)
    assert first.status_code == 200, first.text
    assert first.json()["url"].startswith(get_settings().public_url + "/ping/swp_")
    assert (await client.get(api)).json()["url"] == first.json()["url"]
    assert (await client.post(api + "/rotate")).status_code == 403  # staff may read, not rotate
    old_path = "/ping/" + first.json()["url"].rsplit("/ping/", 1)[1]
    assert (await client.get(old_path)).text == "OK"  # the key is now cached in the ping path

    client.cookies.clear()
    await sign_in(client, tenant["msp_technician"])
    rotated = await client.post(api + "/rotate")
    assert rotated.status_code == 200 and rotated.json()["url"] != first.json()["url"]
    assert (await client.get(old_path)).status_code == 404
    assert (await client.get("/ping/" + rotated.json()["url"].rsplit("/ping/", 1)[1])).text == "OK"
    assert len(await inbox(db, tenant.msp_id)) == 2
    assert [a["action"] for a in await audit_actions(db, tenant.msp_id, "ping_key.rotated")] == ["ping_key.rotated"]


async def test_pings_over_the_per_key_limit_get_429_with_retry_after(client, tenant, db, monkeypatch):
    monkeypatch.setattr(get_settings(), "ping_rate_limit", "2/minute")
    url = await ping_url(db, await create_job(db, tenant.practice, "chatty"))
    answers = [await client.get(url) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429]
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert len(await inbox(db, tenant.msp_id)) == 2


async def test_other_msp_gets_404(client, tenant, other_tenant, db):
    theirs = await create_job(db, other_tenant.practice, "theirs")
    await sign_in(client, tenant["msp_owner"])
    for practice in (other_tenant.practice.id, tenant.practice.id):
        api = f"/api/v1/practices/{practice}/backup-jobs/{theirs.id}/ping-url"
        assert (await client.get(api)).status_code == 404
        assert (await client.post(api + "/rotate")).status_code == 404
