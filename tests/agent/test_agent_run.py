import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from seawall_agent.cli import main
from seawall_agent.restic import ResticSummary, SummaryReader

from .conftest import FakeSeawall

JOB_ID = "7d1c1f0e-0000-4000-8000-00000000022a"
DOCUMENTS_ID = "7d1c1f0e-0000-4000-8000-00000000022b"


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_run_reports_a_failed_command_with_its_exit_code_duration_and_output(
    config_path: Path, seawall: FakeSeawall, capfd: pytest.CaptureFixture[str]
) -> None:
    script = "import sys, time; print('copying charts'); sys.stdout.flush(); time.sleep(0.3); " \
             "print('disk full', file=sys.stderr); sys.exit(3)"

    code = main(["run", "--config", str(config_path), "--job", "nightly-restic", "--tool", "generic",
                 "--", *_python(script)])

    assert code == 3
    assert "copying charts" in capfd.readouterr().out  # streamed to the console as it ran
    [event] = seawall.events
    assert event["type"] == "backup_run"
    assert event["job"] == JOB_ID  # named by the id the config knows for this job name
    assert event["status"] == "failed"
    assert event["exit_code"] == 3
    started, finished = datetime.fromisoformat(event["started_at"]), datetime.fromisoformat(event["finished_at"])
    assert timedelta(seconds=0.3) <= finished - started < timedelta(seconds=5)
    assert event["log_tail"] == "copying charts\ndisk full\n"
    assert "bytes" not in event and "snapshot_id" not in event


def test_run_reports_success_for_exit_zero_and_keeps_only_the_last_10000_characters(
    config_path: Path, seawall: FakeSeawall
) -> None:
    script = "import sys; [print(f'line {i:05d}') for i in range(5000)]; print('END', end='')"
    seawall.jobs.append({"id": DOCUMENTS_ID, "name": "documents", "tool": None})  # created after enrolling

    code = main(["run", "--config", str(config_path), "--job", "documents", "--", *_python(script)])

    assert code == 0
    [event] = seawall.events
    assert event["status"] == "success" and event["exit_code"] == 0
    assert event["job"] == DOCUMENTS_ID  # unknown to the config, found by asking Seawall
    assert len(event["log_tail"]) == 10_000
    assert event["log_tail"].endswith("line 04999\nEND")


def test_run_of_a_missing_command_reports_failure_with_exit_127(config_path: Path, seawall: FakeSeawall) -> None:
    code = main(["run", "--config", str(config_path), "--job", "nightly-restic", "--", "/nonexistent/backup.sh"])

    assert code == 127
    [event] = seawall.events
    assert (event["status"], event["exit_code"]) == ("failed", 127)
    assert "/nonexistent/backup.sh" in event["log_tail"]


def test_run_of_an_old_restic_summary_without_backup_start_uses_the_runs_start_as_restore_point(
    config_path: Path, seawall: FakeSeawall
) -> None:
    # restic before 0.17 prints no backup_start; the output below is what 0.16 prints.
    summary = ('{"message_type":"summary","files_new":2,"files_changed":0,"files_unmodified":0,'
               '"dirs_new":1,"dirs_changed":0,"dirs_unmodified":0,"data_blobs":2,"tree_blobs":1,'
               '"data_added":1234,"total_files_processed":2,"total_bytes_processed":5678,'
               '"total_duration":0.2,"snapshot_id":"4fa1c0de"}')
    script = f"print('{{\"message_type\":\"status\",\"percent_done\":0.5}}'); print({summary!r})"

    main(["run", "--config", str(config_path), "--job", "nightly-restic", "--tool", "restic",
          "--", *_python(script)])

    [event] = seawall.events
    assert (event["bytes"], event["files"], event["snapshot_id"]) == (5678, 2, "4fa1c0de")
    assert event["restore_point_at"] == event["started_at"]


def test_run_reports_a_restic_partial_snapshot_as_a_warning_with_its_restore_point(
    config_path: Path, seawall: FakeSeawall
) -> None:
    summary = ('{"message_type":"summary","total_files_processed":9,"total_bytes_processed":90,'
               '"data_added":9,"snapshot_id":"abc123","backup_start":"2025-01-02T03:04:05.123456789+01:00",'
               '"backup_end":"2025-01-02T03:04:09+01:00"}')
    script = f"import sys; print({summary!r}); sys.exit(3)"

    code = main(["run", "--config", str(config_path), "--job", "nightly-restic", "--tool", "restic",
                 "--", *_python(script)])

    assert code == 3
    [event] = seawall.events
    assert event["status"] == "warning"
    assert event["restore_point_at"] == "2025-01-02T02:04:05.123+00:00"


def test_run_still_runs_the_backup_and_returns_its_exit_code_when_the_config_is_broken(tmp_path: Path) -> None:
    marker = tmp_path / "backup-ran"
    broken = tmp_path / "config.toml"
    broken.write_text("server = \n")

    code = main(["run", "--config", str(broken), "--job", "nightly", "--",
                 *_python(f"import pathlib, sys; pathlib.Path({str(marker)!r}).touch(); sys.exit(4)")])

    assert code == 4
    assert marker.exists()


@pytest.mark.parametrize("added", ["Added to the repository", "Added to the repo"])  # restic ≥ 0.14, before
def test_restics_text_summary_gives_files_bytes_data_added_and_snapshot_in_any_unit(added: str) -> None:
    reader = SummaryReader()
    for line in ["using parent snapshot 1836014a", "",
                 "Files:         120 new,     3 changed,  1400 unmodified",
                 f"{added}: 1.013 GiB (660.250 MiB stored)", "",
                 "processed 1523 files, 2.481 TiB in 1:02:03", "snapshot 9f3e1a2b saved"]:
        reader.feed(line)

    summary = reader.summary()

    assert summary is not None
    assert (summary.files_processed, summary.snapshot_id) == (1523, "9f3e1a2b")
    assert summary.bytes_processed == round(2.481 * 2**40)
    assert summary.data_added == round(1.013 * 2**30)


def test_restics_json_summary_wins_over_text_and_a_run_without_either_has_no_summary() -> None:
    reader = SummaryReader()
    reader.feed("processed 3 files, 10 B in 0:00")
    reader.feed('{"message_type":"summary","total_files_processed":3,"total_bytes_processed":10,'
                '"snapshot_id":"0123abcd4567"}')
    assert reader.summary() == ResticSummary(snapshot_id="0123abcd4567", bytes_processed=10, files_processed=3)

    quiet = SummaryReader()
    quiet.feed("Fatal: unable to open config file: stat /srv/repo/config: no such file or directory")
    assert quiet.summary() is None
