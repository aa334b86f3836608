"""`seawall demo-agents`: simulated agents for the demo practices (development only, labelled demo).

One simulated agent per demo site enrolls through the real enrollment API (a token made by the
service layer, exchanged over HTTP) and pushes telemetry through the real ingest API; Veeam jobs
report through their Healthchecks-style ping URL. The worker turns it into state like any other.

Time is compressed: a "night" of backups comes every two minutes, so a newcomer sees runs, links
and failures change within a minute of `make run`. Most practices are healthy; a few are not:

| practice | what its agent shows |
|---|---|
| Maple Pediatrics | the nightly NAS backup fails, every night |
| Northside Dental Studio | "successful" runs that keep reporting the same old restore point (stale success) |
| Summit Orthopedics | the cloud copy never reports (no off-site copy in fact) |
| Cedar Dental Group | the Downtown fiber flaps (down 20 s of every 40): readiness has one "flapped N times in the last hour" finding, the incidents show each failover |
| Willow Creek Chiropractic | the agent is enrolled and then never reports (site offline): silent, with its incident, once its heartbeat interval plus grace (11 min) has passed since it enrolled |

Hostnames are `demo-agent-…` and every log tail says "demo". Credentials are kept in
`<data_dir>/demo-agents.json` (mode 0600) so a restart reuses the same agents.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import structlog
from sqlalchemy import select

from services.core.audit.service import Actor
from services.core.db import Database, Scope
from services.core.inventory.models import BackupJob, Link
from services.core.practices.models import Practice, Site
from services.core.settings import get_settings
from services.core.telemetry import enrollment, pings
from services.demo.tenancy import demo_msp_id

log = structlog.get_logger("seawall.demo.agents")

TICK = 5.0
DEMO_NIGHT = 120.0  # seconds between compressed "nights" of backups
HEARTBEAT_EVERY = 30.0
SAMPLE_EVERY = 10.0
FLAP_PERIOD = 40.0  # the flapping link is down for half of every period
DEMO_ACTOR = Actor("system", label="seawall demo agents")
VERSION = "0.1.0-demo"


@dataclass(frozen=True)
class Scenario:
    failing: bool = False
    stale: bool = False
    no_offsite_reports: bool = False
    flapping: bool = False
    offline: bool = False


SCENARIOS = {
    "Maple Pediatrics": Scenario(failing=True),
    "Northside Dental Studio": Scenario(stale=True),
    "Summit Orthopedics": Scenario(no_offsite_reports=True),
    "Cedar Dental Group": Scenario(flapping=True),
    "Willow Creek Chiropractic": Scenario(offline=True),
}


@dataclass
class DemoSite:
    practice: str
    practice_id: uuid.UUID
    site_id: uuid.UUID
    site: str
    first_site: bool
    links: list[tuple[str, str, str]]  # id, name, role
    jobs: list[tuple[str, str, str, str]]  # id, name, location, tool
    scenario: Scenario
    credential: str | None = None
    next_heartbeat: float = 0.0
    next_sample: float = 0.0
    next_night: float = 0.0
    flap_started: datetime | None = None
    pending_pings: list[tuple[float, str, str]] = field(default_factory=list)  # (due, url, body)

    @property
    def hostname(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", f"{self.practice} {self.site}".lower()).strip("-")
        return f"demo-agent-{slug}"[:60]


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _event(kind: str, at: datetime, **fields) -> dict:
    return {"id": str(uuid.uuid4()), "type": kind, "occurred_at": _iso(at), **fields}


async def load_sites(db: Database, msp_id: uuid.UUID) -> list[DemoSite]:
    async with db.transaction(Scope(msp_id)) as s:
        practices = {p.id: p for p in await s.scalars(select(Practice).where(Practice.msp_id == msp_id))}
        sites = list(await s.scalars(select(Site).where(Site.msp_id == msp_id).order_by(Site.created_at, Site.name)))
        links = list(await s.scalars(select(Link).where(Link.msp_id == msp_id)))
        jobs = list(await s.scalars(select(BackupJob).where(BackupJob.msp_id == msp_id)))
    out, seen = [], set()
    for site in sites:
        practice = practices[site.practice_id]
        first = practice.id not in seen
        seen.add(practice.id)
        out.append(DemoSite(
            practice.name, practice.id, site.id, site.name, first,
            [(str(l.id), l.name, l.role) for l in links if l.site_id == site.id],
            [(str(j.id), j.name, j.location, j.tool) for j in jobs if j.site_id == site.id],  # what ingest accepts from it
            SCENARIOS.get(practice.name, Scenario())))
    # The unhealthy ones first: they are what a newcomer should see change soonest.
    return sorted(out, key=lambda d: (d.scenario == Scenario(), d.practice, d.site))


class DemoAgents:
    def __init__(self, db: Database, base_url: str, state_file: Path, rng: random.Random | None = None) -> None:
        self.db = db
        self.http = httpx.AsyncClient(base_url=base_url, timeout=10.0)
        self.state_file = state_file
        self.rng = rng or random.Random()
        self.credentials: dict[str, str] = json.loads(state_file.read_text()) if state_file.exists() else {}
        self.enroll_after = 0.0
        self.stale_point = datetime.now(timezone.utc) - timedelta(days=3)
        self.last_points: dict[str, datetime] = {}  # job id → its newest restore point
        self.msp_id: uuid.UUID | None = None

    def _save(self) -> None:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self.credentials, f)

    async def enroll(self, site: DemoSite, clock: float) -> None:
        """Through the real API: a token from the service layer, exchanged over HTTP like an agent would."""
        if clock < self.enroll_after:
            return
        async with self.db.transaction(Scope(self.msp_id)) as s:
            site_row = await s.get(Site, (self.msp_id, site.site_id))
            if site_row is None:
                raise LookupError(f"the demo site {site.site} is gone; seed the demo again")
            token = (await enrollment.create_token(s, site_row, 10, DEMO_ACTOR)).token
        r = await self.http.post("/api/v1/agents/enroll", json={"token": token, "hostname": site.hostname, "agent_version": VERSION})
        if r.status_code == 429:  # enrollment is throttled per address; the others keep reporting meanwhile
            self.enroll_after = clock + float(r.headers.get("retry-after", "10"))
            return
        r.raise_for_status()
        site.credential = self.credentials[str(site.site_id)] = r.json()["credential"]
        self._save()
        log.info("demo_agent_enrolled", practice=site.practice, site=site.site, hostname=site.hostname)

    async def ping_url(self, job_id: str) -> str:
        async with self.db.transaction(Scope(self.msp_id)) as s:
            job = await s.get(BackupJob, (self.msp_id, uuid.UUID(job_id)))
            if job is None:
                raise LookupError(f"the demo backup job {job_id} is gone; seed the demo again")
            url = (await pings.get_or_create_url(s, job, DEMO_ACTOR)).url
        return "/ping/" + url.rsplit("/ping/", 1)[1]

    def links_events(self, site: DemoSite, now: datetime, clock: float) -> list[dict]:
        events = []
        for link_id, name, role in site.links:
            flapping = site.scenario.flapping and role == "primary" and site.first_site
            up = not (flapping and (clock % FLAP_PERIOD) >= FLAP_PERIOD / 2)
            base = {"primary": 14.0, "backup": 48.0, "hotspot": 65.0}.get(role, 30.0)
            latency = max(1.0, self.rng.gauss(base * (3 if flapping else 1), base * 0.15)) if up else None
            # A healthy line loses a probe now and then, far under its 2 % threshold: a steady practice
            # keeps a steady score (a lost probe in ten, at 20 %, averaged 2 % and crossed it both ways).
            steady = self.rng.choice([0.0] * 19 + [1.0])
            loss = (self.rng.choice([0.0, 20.0, 40.0]) if flapping else steady) if up else 100.0
            events.append(_event("link_sample", now, link=link_id, up=up, **({"latency_ms": round(latency, 1),
                                 "jitter_ms": round(abs(self.rng.gauss(base * 0.1, 1.0)), 1)} if latency is not None else {}), loss_pct=loss))
            if flapping:
                backup = next((lid for lid, _, r in site.links if r == "backup"), None)
                if backup and not up and site.flap_started is None:
                    site.flap_started = now
                    events.append(_event("failover", now, from_link=link_id, to_link=backup, started_at=_iso(now)))
                elif backup and up and site.flap_started is not None:
                    events.append(_event("failover", now, from_link=link_id, to_link=backup,
                                         started_at=_iso(site.flap_started), ended_at=_iso(now)))
                    site.flap_started = None
        return events

    async def night(self, site: DemoSite, now: datetime, clock: float, first: bool) -> list[dict]:
        events = []
        for job_id, name, location, tool in site.jobs:
            offsite = location in ("offsite", "cloud")
            if offsite and site.scenario.no_offsite_reports:
                continue
            if tool == "windows_server_backup" and not first:
                continue  # the weekly USB copy: once, from last Friday
            minutes = self.rng.uniform(8, 40) if not offsite else self.rng.uniform(20, 55)
            started = now - timedelta(minutes=minutes + (3 * 24 * 60 if tool == "windows_server_backup" else 0))
            finished = started + timedelta(minutes=minutes)
            size = int(self.rng.gauss(48e9 if not offsite else 3.2e9, 1.5e9))  # full image vs. incremental upload
            if tool == "veeam":  # Veeam jobs report through their Healthchecks-style ping URL
                url = await self.ping_url(job_id)
                await self.http.get(f"{url}/start")
                fail = site.scenario.failing and not offsite
                body = f"demo: simulated Veeam job '{name}' {'failed: repository unreachable' if fail else 'finished'}"
                site.pending_pings.append((clock + 12.0, f"{url}/fail" if fail else url, body))
                continue
            if site.scenario.failing and not offsite:
                events.append(_event("backup_run", now, job=job_id, status="failed", started_at=_iso(started),
                                     finished_at=_iso(now), exit_code=1,
                                     log_tail=f"demo: simulated {tool} backup of '{name}' failed: NAS unreachable (ECONNREFUSED)"))
                continue
            # A healthy job's restore point always moves forward. Compressed nights come every two
            # minutes with runs of 8–55 minutes, so a night's start can be earlier than the one
            # before: reported as is, a healthy job read as "stale success" now and then.
            point = started if job_id not in self.last_points else max(started, self.last_points[job_id] + timedelta(seconds=1))
            if site.scenario.stale and not offsite:
                point = self.stale_point
            else:
                self.last_points[job_id] = point = min(point, finished)
            events.append(_event(
                "backup_run", finished, job=job_id, status="success", started_at=_iso(started), finished_at=_iso(finished),
                bytes=max(size, 1), files=self.rng.randint(40_000, 90_000), restore_point_at=_iso(point), verified=True,
                snapshot_id=uuid.uuid4().hex[:8], exit_code=0,
                log_tail=f"demo: simulated {tool} backup of '{name}': {size / 1e9:.1f} GB processed, verified"))
        if first and site.jobs and not site.scenario.failing:
            job_id = site.jobs[0][0]
            events.append(_event("restore_test", now, job=job_id, started_at=_iso(now - timedelta(minutes=95)),
                                 finished_at=_iso(now - timedelta(minutes=20)), success=True,
                                 notes="demo: simulated restore of the practice server image to a test VM"))
        return events

    async def tick(self, sites: list[DemoSite], clock: float) -> None:
        now = datetime.now(timezone.utc)
        for site in sites:
            site.credential = site.credential or self.credentials.get(str(site.site_id))
            if site.credential is None:
                await self.enroll(site, clock)
                if site.credential is None:
                    continue
            if site.scenario.offline:
                continue  # enrolled, then never heard from again
            for due, url, body in [p for p in site.pending_pings if p[0] <= clock]:
                await self.http.post(url, content=body.encode())
                site.pending_pings.remove((due, url, body))
            events = []
            if clock >= site.next_heartbeat:
                # Like the reference agent, each heartbeat says the interval silence is judged by,
                # and the one its links are sampled at (a link is "no data" after N of those).
                events.append(_event("heartbeat", now, agent_version=VERSION, hostname=site.hostname,
                                     heartbeat_interval_seconds=int(HEARTBEAT_EVERY),
                                     probe_interval_seconds=int(SAMPLE_EVERY)))
                site.next_heartbeat = clock + HEARTBEAT_EVERY
            if clock >= site.next_sample:
                events += self.links_events(site, now, clock)
                site.next_sample = clock + SAMPLE_EVERY
            if clock >= site.next_night:
                events += await self.night(site, now, clock, first=site.next_night == 0.0)
                site.next_night = clock + DEMO_NIGHT + self.rng.uniform(-10, 10)
            if events:
                r = await self.http.post("/api/v1/ingest", json={"events": events},
                                         headers={"Authorization": f"Bearer {site.credential}"})
                if r.status_code == 401:  # the database was reset, or the agent revoked: enroll again
                    site.credential = None
                    self.credentials.pop(str(site.site_id), None)
                elif r.status_code != 202:
                    log.warning("demo_ingest_refused", status=r.status_code, body=r.text[:300])

    async def run(self, stop: asyncio.Event, max_ticks: int | None = None) -> None:
        self.msp_id = await demo_msp_id(self.db)
        if self.msp_id is None:
            raise SystemExit("No demo data: run `seawall demo` first.")
        sites = await load_sites(self.db, self.msp_id)
        loop = asyncio.get_running_loop()
        start, ticks = loop.time(), 0
        while not stop.is_set() and (max_ticks is None or ticks < max_ticks):
            try:
                await self.tick(sites, loop.time() - start)
            except httpx.HTTPError as error:  # the API is starting or restarting: try again next tick
                log.info("demo_api_unreachable", error=str(error))
            ticks += 1
            try:
                await asyncio.wait_for(stop.wait(), TICK)
            except asyncio.TimeoutError:
                pass
        await self.http.aclose()


async def run_demo_agents(db: Database, stop: asyncio.Event, base_url: str | None = None, max_ticks: int | None = None) -> None:
    settings = get_settings()
    agents = DemoAgents(db, base_url or settings.public_url, settings.data_dir / "demo-agents.json")
    await agents.run(stop, max_ticks)
