"""Ping-reported runs: a finish pairs with its start by run id and the job's ping timeline, and the
run's log is the body of every ping of the run, whatever order the pings are applied in.

Pings are written to the inbox directly with chosen times (the ping API stamps its own), then the
worker applies them as it would: tests/api/test_pings.py covers the HTTP side.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import text

from services.core.db import Database, Scope
from services.core.telemetry import history as history_module
from services.core.telemetry import state_updates
from services.core.telemetry.models_pings import PING_LOG_LIMIT
from services.core.telemetry.processing import drain
from tests.explain import plan_nodes
from tests.factories_inventory import create_job
from tests.factories_worker import job_state, rows
from tests.factories_telemetry import inbox, ping_url

T0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=100)
RID_A = "3f1c2a8e-0000-4000-8000-00000000000a"
RID_B = "3f1c2a8e-0000-4000-8000-00000000000b"


def minute(m: float) -> datetime:
    return T0 + timedelta(minutes=m)


def ping(m: float, kind: str = "success", body: str = "", rid: str | None = None, exit_code: int | None = None,
         event_id: str | None = None) -> dict[str, Any]:
    return {"at": minute(m), "kind": kind, "body": body, "rid": rid, "exit_code": exit_code, "id": event_id or uuid.uuid4().hex}


async def record(db: Database, job, pings: list[dict[str, Any]]) -> None:
    async with db.transaction(Scope(job.msp_id)) as s:
        for p in pings:
            payload = {"job_id": str(job.id), "kind": p["kind"], "body": p["body"], "user_agent": "test",
                       **({"rid": p["rid"]} if p["rid"] else {}), **({"exit_code": p["exit_code"]} if p["exit_code"] is not None else {})}
            await s.execute(text(
                "INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, site_id, type, occurred_at, payload)"
                " VALUES (:m, :src, :eid, :p, NULL, 'ping', :at, CAST(:payload AS jsonb))"
                " ON CONFLICT (msp_id, source_id, event_id) DO NOTHING"),
                {"m": job.msp_id, "src": job.id, "eid": p["id"], "p": job.practice_id, "at": p["at"], "payload": json.dumps(payload)})


async def apply(db: Database, job, *batches: list[dict[str, Any]]) -> None:
    """Each list is recorded and then applied on its own, in the order given."""
    for batch in batches:
        await record(db, job, batch)
        await drain(db, job.msp_id)


async def runs(db: Database, job) -> list[dict[str, Any]]:
    return await rows(db, job.msp_id, "SELECT run_key, status, started_at, finished_at, duration_seconds, exit_code, log_tail,"
                      " restore_point_at FROM backup_run WHERE msp_id = :m AND backup_job_id = :j ORDER BY finished_at, run_key",
                      j=job.id)


async def test_a_start_and_its_finish_in_different_batches_make_one_run_with_its_duration(db, tenant):
    job = await create_job(db, tenant.practice, "nightly")
    await apply(db, job, [ping(0, "start")], [ping(30, "success")])
    (run,) = await runs(db, job)
    assert (run["status"], run["started_at"], run["finished_at"], run["duration_seconds"]) == ("success", minute(0), minute(30), 1800)
    assert run["restore_point_at"] == minute(0)  # the data is as old as the run's start
    assert (await job_state(db, job.msp_id, job.id))["running_since"] is None


async def test_a_finish_without_a_start_is_a_run_without_a_duration(db, tenant):
    job = await create_job(db, tenant.practice, "cron")
    await apply(db, job, [ping(0, "success")], [ping(10, "fail", exit_code=None)])
    assert [(r["status"], r["started_at"], r["duration_seconds"], r["restore_point_at"]) for r in await runs(db, job)] == [
        ("success", None, None, minute(0)), ("failed", None, None, None)]


async def test_of_two_starts_the_finish_pairs_with_the_later_one_as_in_healthchecks(db, tenant):
    job = await create_job(db, tenant.practice, "nightly")
    await apply(db, job, [ping(0, "start")], [ping(5, "start")], [ping(20, "fail", exit_code=2)])
    (run,) = await runs(db, job)
    assert (run["status"], run["started_at"], run["exit_code"]) == ("failed", minute(5), 2)


async def test_a_start_that_never_finishes_leaves_the_job_running_and_no_run(db, tenant):
    job = await create_job(db, tenant.practice, "nightly")
    await apply(db, job, [ping(0, "success")], [ping(10, "start", body="begin")])
    assert len(await runs(db, job)) == 1
    assert (await job_state(db, job.msp_id, job.id))["running_since"] == minute(10)


async def test_a_start_more_than_72_hours_before_the_finish_does_not_pair(db, tenant):
    job = await create_job(db, tenant.practice, "weekly")
    await apply(db, job, [ping(0, "start", body="old start")], [ping(72 * 60 + 1, "success", body="done")])
    (run,) = await runs(db, job)
    assert run["started_at"] is None and run["log_tail"] == "done"


async def test_a_finish_pairs_only_with_the_start_of_its_own_run_id(db, tenant):
    job = await create_job(db, tenant.practice, "parallel")
    await apply(db, job, [ping(0, "start", rid=RID_A), ping(1, "start", rid=RID_B)],
                [ping(10, "success", rid=RID_A), ping(11, "success")], [ping(12, "fail", rid=RID_B)])
    assert [(r["status"], r["started_at"]) for r in await runs(db, job)] == [
        ("success", minute(0)), ("success", None), ("failed", minute(1))]


async def test_a_start_applied_after_its_finish_still_pairs_and_the_next_finish_loses_nothing(db, tenant):
    job = await create_job(db, tenant.practice, "late")
    # The finish is applied first; its start (earlier) comes in a later batch.
    await apply(db, job, [ping(30, "success", body="end")], [ping(0, "start", body="begin")])
    (run,) = await runs(db, job)
    assert (run["started_at"], run["duration_seconds"], run["log_tail"]) == (minute(0), 1800, "begin\nend")
    # A finish applied late between a start and the finish that had paired with it takes the start.
    await apply(db, job, [ping(40, "start"), ping(50, "success", event_id="b" * 32)], [ping(45, "fail", event_id="a" * 32)])
    assert [(r["status"], r["started_at"]) for r in (await runs(db, job))[1:]] == [("failed", minute(40)), ("success", None)]


async def test_every_pings_body_is_kept_in_order_as_the_runs_log(db, tenant):
    job = await create_job(db, tenant.practice, "borgmatic")
    await apply(db, job, [ping(0, "start", body="starting")], [ping(1, "log", body="archive 1 of 2")],
                [ping(2, "log", body="archive 2 of 2"), ping(2.5, "log", body="")], [ping(3, "success", body="done")])
    (run,) = await runs(db, job)
    assert run["log_tail"] == "starting\narchive 1 of 2\narchive 2 of 2\ndone"
    assert (await job_state(db, job.msp_id, job.id))["last_log_tail"] == run["log_tail"]


async def test_a_log_line_applied_after_its_run_finished_joins_the_log_in_its_place(db, tenant):
    job = await create_job(db, tenant.practice, "borgmatic")
    await apply(db, job, [ping(0, "start", body="a"), ping(3, "success", body="d")], [ping(2, "log", body="c")],
                [ping(1, "log", body="b")])
    (run,) = await runs(db, job)
    assert run["log_tail"] == "a\nb\nc\nd"


async def test_log_lines_of_another_run_id_or_of_a_finished_run_stay_out_of_the_log(db, tenant):
    job = await create_job(db, tenant.practice, "cron")
    await apply(db, job, [ping(0, "log", body="before")], [ping(1, "success", body="first")],
                [ping(2, "log", body="other", rid=RID_A), ping(3, "log", body="mine")], [ping(4, "success", body="second")])
    assert [r["log_tail"] for r in await runs(db, job)] == ["before\nfirst", "mine\nsecond"]


async def test_a_runs_log_keeps_its_last_characters_within_the_documented_limit(db, tenant):
    job = await create_job(db, tenant.practice, "chatty")
    line = "x" * 40_000
    await apply(db, job, [ping(0, "start", body="S" + line)], [ping(1, "log", body="L" + line)],
                [ping(2, "log", body="M" + line)], [ping(3, "success", body="end")])
    (run,) = await runs(db, job)
    assert len(run["log_tail"]) == PING_LOG_LIMIT and run["log_tail"].endswith("\nend")
    assert run["log_tail"].startswith("x") and "L" in run["log_tail"] and "S" not in run["log_tail"]


async def test_a_ping_delivered_twice_counts_once(db, tenant):
    job = await create_job(db, tenant.practice, "dup")
    start, finish = ping(0, "start", body="s"), ping(5, "success", body="f")
    await apply(db, job, [start, finish], [start, finish])
    (run,) = await runs(db, job)
    assert (run["started_at"], run["log_tail"]) == (minute(0), "s\nf")
    steps = await rows(db, job.msp_id, "SELECT count(*) AS n FROM ping_step WHERE msp_id = :m AND backup_job_id = :j", j=job.id)
    assert steps == [{"n": 2}]


async def test_the_start_and_log_bodies_sent_through_the_ping_api_reach_the_run(client, db, tenant):
    job = await create_job(db, tenant.practice, "borgmatic")
    url = await ping_url(db, job)
    for suffix, body in (("/start", b"borgmatic starting"), ("/log", b"archive created"), ("/0", b"all done")):
        assert (await client.post(url + suffix + "?rid=" + RID_A, content=body)).text == "OK"
    assert len(await inbox(db, tenant.msp_id)) == 3
    await drain(db, tenant.msp_id)
    (run,) = await runs(db, job)
    assert run["log_tail"] == "borgmatic starting\narchive created\nall done" and run["started_at"] is not None


async def test_other_msps_pings_never_pair_with_this_msps(db, tenant, other_tenant):
    mine = await create_job(db, tenant.practice, "nightly")
    theirs = await create_job(db, other_tenant.practice, "nightly")
    await apply(db, theirs, [ping(0, "start", rid=RID_A, body="theirs")])
    await apply(db, mine, [ping(10, "success", rid=RID_A, body="mine")])
    (run,) = await runs(db, mine)
    assert (run["started_at"], run["log_tail"]) == (None, "mine")
    assert await rows(db, tenant.msp_id, "SELECT event_id FROM ping_step WHERE backup_job_id = :j", j=theirs.id) == []


async def test_a_ping_accepted_before_rids_had_to_be_uuids_is_still_applied_and_pairs(db, tenant):
    job = await create_job(db, tenant.practice, "legacy")
    old_rid = "Backup-Run-" + "x" * 53  # 64 characters, as the API took them before
    await apply(db, job, [ping(0, "start", rid=old_rid, body="go")], [ping(5, "success", rid=old_rid.lower(), body="ok")])
    (run,) = await runs(db, job)
    assert (run["started_at"], run["log_tail"]) == (minute(0), "go\nok")


def _rows_read(plan: dict, tables: tuple[str, ...]) -> int:
    """Rows the plan's scans of these tables (and their partitions) read, kept or filtered out."""
    return sum((n.get("Actual Rows", 0) + n.get("Rows Removed by Filter", 0)) * n.get("Actual Loops", 1)
               for n in plan_nodes(plan) if n.get("Relation Name", "").startswith(tables))


async def test_applying_pings_reads_none_of_the_jobs_older_history(db, tenant):
    job = await create_job(db, tenant.practice, "every minute")
    # 300 runs of history, as the worker would have left them: a start and a success a minute each.
    history = [ping(2 * m + k, "start" if k == 0 else "success", body="ok") for m in range(300) for k in (0, 1)]
    await record(db, job, history)
    await drain(db, job.msp_id)
    batch = [ping(700, "start", body="go"), ping(701, "log", body="line"), ping(702, "success", body="done")]
    await record(db, job, batch)
    async with db.transaction(Scope(job.msp_id)) as s:
        claimed = (await s.execute(text(
            "SELECT seq, source_id, event_id, practice_id, site_id, type, occurred_at, payload FROM telemetry_event"
            " WHERE msp_id = :m AND processed_at IS NULL ORDER BY occurred_at"), {"m": job.msp_id})).all()
        steps = [history_module.step_row(history_module.Claimed(*row)) for row in claimed]
        await s.execute(history_module._INSERT_STEPS, {"msp": job.msp_id, **history_module._columns(steps, history_module._STEP_COLUMNS)})
        params = {"msp": job.msp_id, "max_run": history_module.MAX_PING_RUN, "limit": PING_LOG_LIMIT,
                  **history_module._columns(steps, history_module._KEY_COLUMNS)}
        runs_plan = (await s.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + history_module._PING_RUNS.text), params)).scalar()
        state_plan = (await s.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + state_updates._RECOMPUTE_JOBS.text),
                                      {"msp": job.msp_id, "jobs": [job.id]})).scalar()
        await s.rollback()
    # A handful of look-ups around the new pings, not the 600 pings and 300 runs before them.
    assert _rows_read(runs_plan[0]["Plan"], ("ping_step", "backup_run", "telemetry_event")) <= 20
    assert _rows_read(state_plan[0]["Plan"], ("ping_step", "backup_run", "telemetry_event")) <= 40


async def test_a_run_with_many_large_log_pings_keeps_exactly_its_last_characters_and_reads_only_the_lines_it_keeps(db, tenant):
    job = await create_job(db, tenant.practice, "verbose")
    lines = [f"L{i:04d}" + "x" * 1_995 for i in range(200)]  # 400,000 characters, four times the limit
    await record(db, job, [ping(0, "start", body="go")] + [ping(1 + i / 1_000, "log", body=b) for i, b in enumerate(lines)])
    await drain(db, job.msp_id)
    finish = [ping(5, "success", body="done")]
    await record(db, job, finish)
    expected = "\n".join(["go", *lines, "done"])[-PING_LOG_LIMIT:]
    async with db.transaction(Scope(job.msp_id)) as s:
        claimed = (await s.execute(text(
            "SELECT seq, source_id, event_id, practice_id, site_id, type, occurred_at, payload FROM telemetry_event"
            " WHERE msp_id = :m AND processed_at IS NULL ORDER BY occurred_at"), {"m": job.msp_id})).all()
        steps = [history_module.step_row(history_module.Claimed(*row)) for row in claimed]
        await s.execute(history_module._INSERT_STEPS, {"msp": job.msp_id, **history_module._columns(steps, history_module._STEP_COLUMNS)})
        params = {"msp": job.msp_id, "max_run": history_module.MAX_PING_RUN, "limit": PING_LOG_LIMIT,
                  **history_module._columns(steps, history_module._KEY_COLUMNS)}
        plan = (await s.execute(text("EXPLAIN (ANALYZE, FORMAT JSON) " + history_module._PING_RUNS.text), params)).scalar()
        await s.rollback()
    # About 50 lines fill the limit; the 150 older ones are never read.
    assert _rows_read(plan[0]["Plan"], ("ping_step",)) <= 60
    await drain(db, job.msp_id)
    (run,) = await runs(db, job)
    assert run["log_tail"] == expected
