"""Any permutation of deliveries, with repeats, in any batching, ends in the state one in-order delivery gives.

Each example builds two identical practices (same job and link names). The reference practice's
agent delivers the events once, in order, in one request; the other's delivers a shuffled copy
with repeats, in chunks, while the worker processes in random batch sizes in between. Pings are
written to the inbox directly (the ping API stamps its own time). The two practices must then
hold the same state and the same history.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from services.core.db import Database, Scope
from services.core.telemetry.processing import drain, process_batch
from tests.factories import create_practice
from tests.factories_inventory import create_job, create_link
from tests.factories_telemetry import create_agent
from tests.factories_worker import ev, send

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)


def minute(m: int) -> datetime:
    return NOW - timedelta(hours=3) + timedelta(minutes=m)


JOBS = ("nas", "cloud")
LINKS = ("Fiber", "LTE")

runs = st.builds(
    lambda job, start, length, status, size, verified: ev(
        "backup_run", minute(start + length), job=job, status=status, started_at=minute(start),
        **({} if status == "running" else {"finished_at": minute(start + length)}), bytes=size,
        **({"verified": verified} if verified is not None else {})),
    st.sampled_from(JOBS), st.integers(0, 150), st.integers(0, 20), st.sampled_from(["success", "failed", "warning", "running"]),
    st.integers(0, 10**9), st.none() | st.booleans())
samples = st.builds(lambda link, m, up, lat: ev("link_sample", minute(m), link=link, up=up, latency_ms=lat, loss_pct=lat % 7,
                                               jitter_ms=lat % 3),
                    st.sampled_from(LINKS), st.integers(0, 170), st.booleans(), st.integers(1, 400).map(float))
failovers = st.builds(lambda start, length, ended, back: ev(
    "failover", minute(start + length), from_link="LTE" if back else "Fiber", to_link="Fiber" if back else "LTE",
    started_at=minute(start), **({"ended_at": minute(start + length)} if ended else {})),
    st.integers(0, 150), st.integers(1, 15), st.booleans(), st.booleans())
heartbeats = st.builds(lambda m, v, i: ev("heartbeat", minute(m), agent_version=f"0.{v}.0", **i), st.integers(0, 170),
                       st.integers(0, 9), st.one_of(st.just({}), st.builds(lambda s: {"heartbeat_interval_seconds": s},
                                                                           st.sampled_from([30, 60, 300]))))
restores = st.builds(lambda job, start, length, ok: ev("restore_test", minute(start + length), job=job, started_at=minute(start),
                                                       finished_at=minute(start + length), success=ok),
                     st.sampled_from(JOBS), st.integers(0, 150), st.integers(1, 20), st.booleans())
pings = st.builds(lambda job, m, kind, rid: {"job": job, "at": minute(m), "kind": kind, "rid": rid, "id": uuid.uuid4().hex},
                  st.sampled_from(JOBS), st.integers(0, 170), st.sampled_from(["start", "success", "fail", "log"]),
                  st.none() | st.sampled_from(["r1", "r2"]))


class World:
    """A practice with the named jobs and links, and an agent."""

    def __init__(self, practice, site, agent, jobs, links):
        self.practice, self.site, self.agent, self.jobs, self.links = practice, site, agent, jobs, links

    @classmethod
    async def build(cls, db: Database, msp_id: uuid.UUID) -> "World":
        practice, (site,) = await create_practice(db, msp_id)
        jobs = {"nas": await create_job(db, practice, "nas", location="onsite"),
                "cloud": await create_job(db, practice, "cloud", location="cloud", verifies=True)}
        links = {"Fiber": await create_link(db, site, "Fiber"), "LTE": await create_link(db, site, "LTE", role="backup")}
        return cls(practice, site, await create_agent(db, site), jobs, links)

    async def record_pings(self, db: Database, batch: list[dict[str, Any]]) -> None:
        async with db.transaction(Scope(self.practice.msp_id)) as s:
            for p in batch:
                payload = {"job_id": str(self.jobs[p["job"]].id), "kind": p["kind"], "body": f"log {p['id'][:6]}",
                           "user_agent": "test", **({"rid": p["rid"]} if p["rid"] else {})}
                await s.execute(text(
                    "INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, site_id, type, occurred_at, payload)"
                    " VALUES (:m, :src, :eid, :p, NULL, 'ping', :at, CAST(:payload AS jsonb))"
                    " ON CONFLICT (msp_id, source_id, event_id) DO NOTHING"),
                    {"m": self.practice.msp_id, "src": self.jobs[p["job"]].id, "eid": p["id"], "p": self.practice.id,
                     "at": p["at"], "payload": json.dumps(payload)})

    async def snapshot(self, db: Database) -> dict[str, Any]:
        names = {**{j.id: n for n, j in self.jobs.items()}, **{link.id: n for n, link in self.links.items()}}
        m, p = self.practice.msp_id, self.practice.id

        async def q(sql: str, drop: tuple[str, ...] = ()) -> list:
            async with db.transaction(Scope(m)) as s:
                found = (await s.execute(text(sql), {"m": m, "p": p})).mappings().all()
            out = []
            for r in found:
                row = {k: names.get(v, v) if isinstance(v, uuid.UUID) else v for k, v in r.items() if k not in drop}
                out.append(tuple(sorted((k, str(v)) for k, v in row.items())))
            return sorted(out)

        return {
            "job_state": await q("SELECT * FROM backup_job_state WHERE msp_id = :m AND practice_id = :p",
                                 ("updated_at", "practice_id", "msp_id")),
            "link_state": await q("SELECT * FROM link_state WHERE msp_id = :m AND practice_id = :p",
                                  ("updated_at", "practice_id", "msp_id", "site_id")),
            "runs": await q("SELECT * FROM backup_run WHERE msp_id = :m AND practice_id = :p",
                            ("id", "created_at", "practice_id", "msp_id")),
            "restore_tests": await q("SELECT * FROM restore_test WHERE msp_id = :m AND practice_id = :p",
                                     ("id", "created_at", "practice_id", "msp_id", "source_id", "report_event_id")),
            "failovers": await q("SELECT * FROM failover_event WHERE msp_id = :m AND practice_id = :p",
                                 ("id", "created_at", "practice_id", "msp_id", "site_id")),
            "aggregates": await q("SELECT * FROM link_sample_5m WHERE msp_id = :m AND practice_id = :p",
                                  ("practice_id", "msp_id", "site_id")),
            "raw": await q("SELECT * FROM link_sample WHERE msp_id = :m AND practice_id = :p",
                           ("event_seq", "practice_id", "msp_id", "site_id")),
            "agent": await q("SELECT a.agent_version, a.heartbeat_interval_seconds, s.last_heartbeat_at FROM agent a LEFT JOIN agent_state s"
                             " ON s.msp_id = a.msp_id AND s.agent_id = a.id WHERE a.msp_id = :m AND a.practice_id = :p"),
        }


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(events=st.lists(st.one_of(runs, samples, failovers, heartbeats, restores), min_size=1, max_size=25),
       ping_list=st.lists(pings, max_size=8), seed=st.integers(0, 2**32 - 1))
async def test_any_permutation_with_repeats_yields_the_in_order_state(client, db, tenant, events, ping_list, seed):
    rng = random.Random(seed)
    reference, shuffled = await World.build(db, tenant.msp_id), await World.build(db, tenant.msp_id)

    ordered = sorted(events, key=lambda e: e["occurred_at"])
    await send(client, reference.agent, ordered)
    await reference.record_pings(db, sorted(ping_list, key=lambda p: p["at"]))
    await drain(db, tenant.msp_id)

    deliveries = [("event", e) for e in events for _ in range(rng.randint(1, 3))]
    deliveries += [("ping", p) for p in ping_list for _ in range(rng.randint(1, 2))]
    rng.shuffle(deliveries)
    while deliveries:
        chunk = deliveries[:rng.randint(1, 6)]
        deliveries = deliveries[len(chunk):]
        wire = [e for kind, e in chunk if kind == "event"]
        if wire:
            await send(client, shuffled.agent, wire)
        await shuffled.record_pings(db, [p for kind, p in chunk if kind == "ping"])
        for _ in range(rng.randint(0, 2)):
            await process_batch(db, tenant.msp_id, batch_size=rng.randint(1, 5))
    await drain(db, tenant.msp_id)

    assert await shuffled.snapshot(db) == await reference.snapshot(db)
