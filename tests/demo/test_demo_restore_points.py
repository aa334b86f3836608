"""The demo's simulated nights: a healthy job's restore point always moves forward, so a steady
practice is never judged "stale success" (its score would move by itself, issue 20)."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from services.demo.agents import DemoAgents, DemoSite, Scenario


async def test_a_healthy_jobs_restore_points_only_move_forward_night_after_night(tmp_path: Path):
    agents = DemoAgents(None, "http://127.0.0.1:9", tmp_path / "demo-agents.json", rng=random.Random(7))  # type: ignore[arg-type]
    jobs = [(str(uuid.uuid4()), "NAS nightly", "onsite", "restic"), (str(uuid.uuid4()), "Cloud copy", "cloud", "restic")]
    site = DemoSite("Bayside", uuid.uuid4(), uuid.uuid4(), "Main", True, [], jobs, Scenario())
    points: dict[str, list[datetime]] = {}
    now = datetime(2030, 1, 7, 9, 0, tzinfo=timezone.utc)
    for night in range(60):  # a compressed night every two minutes
        for e in await agents.night(site, now + timedelta(minutes=2 * night), 120.0 * night, first=night == 0):
            if e["type"] == "backup_run":
                points.setdefault(e["job"], []).append(datetime.fromisoformat(e["restore_point_at"]))
    await agents.http.aclose()
    assert set(points) == {j[0] for j in jobs}
    for job, seen in points.items():
        assert all(b > a for a, b in zip(seen, seen[1:])), job
