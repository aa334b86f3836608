import json
import os
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from seawall_agent.cli import main

from .conftest import FakeSeawall


@pytest.fixture
def restic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    path = shutil.which("restic")
    if path is None:
        if os.environ.get("SEAWALL_REQUIRE_ALL") == "1":
            pytest.fail("restic not installed and SEAWALL_REQUIRE_ALL=1: apt-get install restic")
        pytest.skip("restic not installed: apt-get install restic")
    monkeypatch.setenv("RESTIC_PASSWORD", "correct horse battery staple")
    monkeypatch.setenv("RESTIC_CACHE_DIR", str(tmp_path / "restic-cache"))
    return path


def test_run_wrapping_real_restic_reports_its_snapshot_size_and_restore_point(
    restic: str, tmp_path: Path, config_path: Path, seawall: FakeSeawall
) -> None:
    repo = tmp_path / "repo"
    subprocess.run([restic, "init", "--repo", str(repo)], check=True, capture_output=True)
    data = tmp_path / "charts"
    data.mkdir()
    (data / "patient-index.csv").write_bytes(b"id,name\n" * 1000)
    (data / "xray.dcm").write_bytes(os.urandom(50_000))
    before = datetime.now().astimezone()

    code = main(["run", "--config", str(config_path), "--job", "nightly-restic",
                 "--", restic, "--repo", str(repo), "backup", str(data), "--json"])

    assert code == 0
    [event] = seawall.events
    snapshots = json.loads(subprocess.run([restic, "--repo", str(repo), "snapshots", "--json"],
                                          check=True, capture_output=True).stdout)
    assert len(snapshots) == 1
    assert event["status"] == "success"
    # restic before 0.16 prints the short id in its summary, later versions the full one.
    assert len(event["snapshot_id"]) >= 8 and snapshots[0]["id"].startswith(event["snapshot_id"])
    assert event["files"] == 2
    assert event["bytes"] == 8000 + 50_000
    restore_point = datetime.fromisoformat(event["restore_point_at"])
    snapshot_time = datetime.fromisoformat(snapshots[0]["time"])
    assert before - timedelta(seconds=1) <= restore_point <= datetime.now().astimezone()
    assert abs(restore_point - snapshot_time) < timedelta(seconds=2)


def test_run_wrapping_real_restic_against_a_missing_repository_reports_failure(
    restic: str, tmp_path: Path, config_path: Path, seawall: FakeSeawall
) -> None:
    code = main(["run", "--config", str(config_path), "--job", "nightly-restic",
                 "--", restic, "--repo", str(tmp_path / "no-repo"), "backup", str(tmp_path), "--json"])

    assert code != 0
    [event] = seawall.events
    assert event["status"] == "failed"
    assert event["exit_code"] == code
    assert "snapshot_id" not in event and "restore_point_at" not in event
    assert "repository" in event["log_tail"].lower()


def test_run_wrapping_real_restic_without_json_reads_size_files_and_snapshot_from_its_text_summary(
    restic: str, tmp_path: Path, config_path: Path, seawall: FakeSeawall
) -> None:
    repo = tmp_path / "repo"
    subprocess.run([restic, "init", "--repo", str(repo)], check=True, capture_output=True)
    data = tmp_path / "charts"
    data.mkdir()
    (data / "patient-index.csv").write_bytes(b"id,name\n" * 1000)
    (data / "xray.dcm").write_bytes(os.urandom(50_000))

    code = main(["run", "--config", str(config_path), "--job", "nightly-restic",
                 "--", restic, "--repo", str(repo), "backup", str(data)])

    assert code == 0
    [event] = seawall.events
    snapshots = json.loads(subprocess.run([restic, "--repo", str(repo), "snapshots", "--json"],
                                          check=True, capture_output=True).stdout)
    assert event["status"] == "success"
    assert len(event["snapshot_id"]) >= 8 and snapshots[0]["id"].startswith(event["snapshot_id"])
    assert event["files"] == 2
    assert abs(event["bytes"] - 58_000) <= 1  # restic prints "56.641 KiB": three decimals of KiB
    assert event["restore_point_at"] == event["started_at"]  # the text summary has no backup_start
    assert "processed 2 files" in event["log_tail"]  # restic's own words, as the operator saw them


def test_run_wrapping_real_restic_with_quiet_warns_that_the_report_has_no_snapshot(
    restic: str, tmp_path: Path, config_path: Path, seawall: FakeSeawall, caplog: pytest.LogCaptureFixture
) -> None:
    repo = tmp_path / "repo"
    subprocess.run([restic, "init", "--repo", str(repo)], check=True, capture_output=True)
    data = tmp_path / "charts"
    data.mkdir()
    (data / "schedule.csv").write_text("patient,slot\n")

    code = main(["run", "--config", str(config_path), "--job", "nightly-restic",
                 "--", restic, "--repo", str(repo), "backup", "--quiet", str(data)])

    assert code == 0
    [event] = seawall.events
    assert "snapshot_id" not in event and "bytes" not in event
    assert "restic printed no snapshot summary" in caplog.text
