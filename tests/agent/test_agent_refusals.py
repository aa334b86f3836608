"""A refusal by Seawall is never silent: it is named on stderr and changes the exit code
(docs/decisions/0008-agent-exit-codes-and-restic-output.md), while being offline is not a failure."""

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from seawall_agent.cli import main
from seawall_agent.client import SeawallClient
from seawall_agent.config import load_config, write_config
from seawall_agent.daemon import run_daemon
from seawall_agent.delivery import Delivery
from seawall_agent.spool import Spool

from .conftest import ENROLL_TOKEN, FakeSeawall, Scripted

JOB_ID = "7d1c1f0e-0000-4000-8000-00000000022a"


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _backup(marker: Path, exit_code: int = 0) -> list[str]:
    return _python(f"import pathlib, sys; print('copying charts'); pathlib.Path({str(marker)!r}).touch(); "
                   f"sys.exit({exit_code})")


def _spool(config_path: Path) -> Spool:
    return Spool(load_config(config_path).state_dir)


def _revoke(config_path: Path) -> None:
    write_config(config_path, replace(load_config(config_path), credential="swa_" + "r" * 43))


def test_a_mistyped_job_runs_the_backup_names_the_refusal_and_the_valid_jobs_and_exits_65(
    config_path: Path, seawall: FakeSeawall, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "backup-ran"

    code = main(["run", "--config", str(config_path), "--job", "nightly-restci", "--", *_backup(marker)])

    assert code == 65
    assert marker.exists()  # the practice's backup still ran
    err = caplog.text
    assert "Seawall lists no job 'nightly-restci'" in err  # said before the backup started
    assert "refused the report of a run of job 'nightly-restci': job: names no job" in err
    assert "this agent's jobs: nightly-restic" in err
    assert "seawall-agent resend --job nightly-restci=NAME" in err
    assert seawall.events == []
    [kept] = _spool(config_path).rejected()
    assert kept["event"]["job"] == "nightly-restci" and kept["errors"][0]["field"] == "job"


def test_a_failed_backup_keeps_its_own_exit_code_when_its_report_is_refused_too(
    config_path: Path, seawall: FakeSeawall, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    code = main(["run", "--config", str(config_path), "--job", "nightly-restci", "--",
                 *_backup(tmp_path / "ran", exit_code=3)])

    assert code == 3
    assert "refused the report of a run of job 'nightly-restci'" in caplog.text


def test_a_run_while_seawall_is_unreachable_spools_its_report_and_exits_with_the_backups_code(
    config_path: Path, seawall: FakeSeawall, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seawall.stop()

    assert main(["run", "--config", str(config_path), "--job", "nightly-restic", "--", *_backup(tmp_path / "a")]) == 0
    # An unknown job cannot be checked offline: it runs, spools, and the server decides later.
    assert main(["run", "--config", str(config_path), "--job", "documents", "--", *_backup(tmp_path / "b")]) == 0

    assert "could not be asked" in caplog.text
    assert [e["job"] for e in _spool(config_path).peek().events] == [JOB_ID, "documents"]


def test_a_run_with_a_revoked_credential_exits_77_and_keeps_its_report_spooled(
    config_path: Path, seawall: FakeSeawall, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _revoke(config_path)

    code = main(["run", "--config", str(config_path), "--job", "nightly-restic", "--", *_backup(tmp_path / "ran")])

    assert code == 77
    assert "refused this agent's credential (401)" in caplog.text
    assert _spool(config_path).pending() == 1 and seawall.events == []


def test_a_run_held_back_by_the_pause_after_a_401_still_exits_77_without_asking_again(
    config_path: Path, seawall: FakeSeawall
) -> None:
    _revoke(config_path)

    assert main(["heartbeat", "--config", str(config_path)]) == 77
    assert main(["heartbeat", "--config", str(config_path)]) == 77

    assert len(seawall.calls) == 1  # the second one waited out the backoff, yet did not pass for success
    assert _spool(config_path).pending() == 2


def test_enrolling_again_lifts_the_pause_left_by_the_revoked_credential(
    config_path: Path, seawall: FakeSeawall
) -> None:
    _revoke(config_path)
    assert main(["heartbeat", "--config", str(config_path)]) == 77

    assert main(["enroll", "--server", seawall.url, "--token", ENROLL_TOKEN, "--config", str(config_path)]) == 0
    assert main(["heartbeat", "--config", str(config_path)]) == 0

    assert [e["type"] for e in seawall.events] == ["heartbeat", "heartbeat"]  # the spooled one too


def test_a_successful_backup_with_a_broken_config_exits_78_as_nothing_was_reported(tmp_path: Path) -> None:
    broken = tmp_path / "config.toml"
    broken.write_text("server = \n")

    code = main(["run", "--config", str(broken), "--job", "nightly", "--", *_backup(tmp_path / "ran")])

    assert code == 78
    assert (tmp_path / "ran").exists()


def test_a_report_that_cannot_be_written_to_the_spool_exits_74(
    config_path: Path, seawall: FakeSeawall, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = _spool(config_path)
    spool.path.mkdir(parents=True)  # anything that makes the append fail: here, a directory in its place

    code = main(["run", "--config", str(config_path), "--job", "nightly-restic", "--", *_backup(tmp_path / "ran")])

    assert code == 74
    assert "could not be written" in caplog.text
    assert main(["heartbeat", "--config", str(config_path)]) == 74


def test_a_refused_heartbeat_exits_65_and_an_accepted_one_0(config_path: Path, seawall: FakeSeawall) -> None:
    seawall.reject_types.add("heartbeat")
    assert main(["heartbeat", "--config", str(config_path)]) == 65

    seawall.reject_types.clear()
    assert main(["heartbeat", "--config", str(config_path)]) == 0
    assert len(seawall.events) == 1


def test_flush_exits_65_when_it_had_to_set_events_aside_and_77_when_the_credential_is_refused(
    config_path: Path, seawall: FakeSeawall
) -> None:
    seawall.stop()
    main(["heartbeat", "--config", str(config_path)])
    main(["run", "--config", str(config_path), "--job", "nightly-restci", "--", *_python("pass")])
    seawall.start()

    assert main(["flush", "--config", str(config_path)]) == 65
    assert [e["type"] for e in seawall.events] == ["heartbeat"]  # the good one was delivered
    assert main(["flush", "--config", str(config_path)]) == 0

    _revoke(config_path)
    main(["heartbeat", "--config", str(config_path)])
    assert main(["flush", "--config", str(config_path)]) == 77


def test_refresh_tells_a_refused_credential_from_an_unreachable_server(
    config_path: Path, seawall: FakeSeawall
) -> None:
    _revoke(config_path)
    assert main(["refresh", "--config", str(config_path)]) == 77
    seawall.stop()
    assert main(["refresh", "--config", str(config_path)]) == 75


def test_enroll_while_the_server_is_unreachable_exits_75_and_with_a_refused_token_1(
    tmp_path: Path, seawall: FakeSeawall
) -> None:
    path = tmp_path / "config.toml"
    assert main(["enroll", "--server", seawall.url, "--token", "swe_" + "x" * 32, "--config", str(path)]) == 1
    seawall.stop()
    assert main(["enroll", "--server", seawall.url, "--token", ENROLL_TOKEN, "--config", str(path)]) == 75
    assert not path.exists()


def test_status_shows_the_newest_refusals_with_their_reasons(
    config_path: Path, seawall: FakeSeawall, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["run", "--config", str(config_path), "--job", "nightly-restci", "--", *_python("pass")])
    capsys.readouterr()

    assert main(["status", "--config", str(config_path)]) == 0

    out = capsys.readouterr().out
    assert "rejected:   1 event(s)" in out
    assert "the report of a run of job 'nightly-restci': job: names no job of this agent's practice" in out


def test_a_422_for_the_whole_batch_without_an_event_index_still_names_the_refused_heartbeat(
    config_path: Path, seawall: FakeSeawall, caplog: pytest.LogCaptureFixture
) -> None:
    problem = {"type": "about:blank", "title": "Unprocessable Content", "status": 422, "detail": "bad batch",
               "errors": [{"field": "events", "message": "is not a list"}]}
    seawall.script.append(Scripted(status=422, body=problem))

    assert main(["heartbeat", "--config", str(config_path)]) == 65

    assert "Seawall refused a heartbeat: events: is not a list" in caplog.text
    assert json.loads(_spool(config_path).rejected_path.read_text())["event"]["type"] == "heartbeat"


def test_the_real_command_prints_the_refusal_on_stderr_and_the_backups_output_on_stdout(
    config_path: Path, seawall: FakeSeawall
) -> None:
    agent = Path(__file__).resolve().parents[2] / "services" / "agent"
    done = subprocess.run([sys.executable, "-m", "seawall_agent.cli", "run", "--config", str(config_path),
                           "--job", "nightly-restci", "--", *_python("print('copying charts')")],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(agent)})

    assert done.returncode == 65
    assert done.stdout == "copying charts\n"
    assert "Seawall refused the report of a run of job 'nightly-restci'" in done.stderr
    assert "this agent's jobs: nightly-restic" in done.stderr


def test_the_daemon_delivers_with_the_new_credential_once_the_agent_is_enrolled_again(
    config_path: Path, seawall: FakeSeawall
) -> None:
    good = load_config(config_path)
    _revoke(config_path)
    revoked = load_config(config_path)
    config = replace(revoked, heartbeat_interval_seconds=1)
    delivery = Delivery(Spool(config.state_dir), SeawallClient(config.server, config.credential),
                        backoff_base=0.05, backoff_cap=0.2)
    stop = threading.Event()
    daemon = threading.Thread(target=run_daemon, args=(config, delivery, stop, config_path))
    daemon.start()
    try:
        _wait_for(lambda: any(call.status == 401 for call in seawall.calls))
        write_config(config_path, good)  # what `seawall-agent enroll` with a new token does
        _wait_for(lambda: len(seawall.events) >= 2)
    finally:
        stop.set()
        daemon.join(timeout=10)
        delivery.client.close()

    assert [e["type"] for e in seawall.events[:2]] == ["heartbeat", "heartbeat"]  # spooled while refused, then sent


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_404_from_a_wrong_server_url_exits_76_keeps_the_events_and_they_go_out_once_it_is_fixed(
    config_path: Path, seawall: FakeSeawall, caplog: pytest.LogCaptureFixture
) -> None:
    seawall.script.append(Scripted(status=404, body={"title": "Not Found", "status": 404}))

    assert main(["heartbeat", "--config", str(config_path)]) == 76
    assert main(["heartbeat", "--config", str(config_path)]) == 76  # held back by the pause: still not "spooled, fine"

    assert "refused the request (HTTP 404: Not Found), which waiting will not fix" in caplog.text
    assert _spool(config_path).pending() == 2
    assert main(["flush", "--config", str(config_path)]) == 0  # the server answers properly again
    assert len(seawall.events) == 2


@pytest.mark.parametrize("status", [500, 503, 408])
def test_server_errors_and_timeouts_are_waited_out_and_the_command_exits_0(
    config_path: Path, seawall: FakeSeawall, status: int
) -> None:
    seawall.script.append(Scripted(status=status))

    assert main(["heartbeat", "--config", str(config_path)]) == 0
    assert _spool(config_path).pending() == 1


def test_resend_with_the_right_job_name_delivers_the_refused_run_once_with_its_original_id(
    config_path: Path, seawall: FakeSeawall
) -> None:
    main(["run", "--config", str(config_path), "--job", "nightly-restci", "--", *_python("print('copying charts')")])
    [refused] = [entry["event"] for entry in _spool(config_path).rejected()]

    assert main(["resend", "--config", str(config_path), "--job", "nightly-restci=nightly-restic"]) == 0

    [delivered] = seawall.events
    assert delivered["id"] == refused["id"] and delivered["job"] == JOB_ID
    assert delivered["started_at"] == refused["started_at"] and delivered["log_tail"] == "copying charts\n"
    assert _spool(config_path).rejected() == []
    assert main(["resend", "--config", str(config_path)]) == 0  # nothing left to send
    assert len(seawall.calls) == 2  # the refusal and the resend


def test_resend_without_a_fix_is_refused_again_exits_65_and_keeps_the_event_and_unreadable_lines(
    config_path: Path, seawall: FakeSeawall
) -> None:
    main(["run", "--config", str(config_path), "--job", "nightly-restci", "--", *_python("pass")])
    rejected = _spool(config_path).rejected_path
    rejected.write_bytes(rejected.read_bytes() + b'{"rejected_at": "2026-01-0')  # a torn line from a crash

    assert main(["resend", "--config", str(config_path), "--job", "other=nightly-restic"]) == 65

    lines = rejected.read_bytes().splitlines()
    assert lines[0] == b'{"rejected_at": "2026-01-0'  # kept as it was, for a human
    assert json.loads(lines[1])["event"]["job"] == "nightly-restci"
    assert seawall.events == []
    assert main(["status", "--config", str(config_path)]) == 0  # the torn line does not break it


def test_resend_refuses_a_job_fix_that_is_not_old_equals_new(config_path: Path, seawall: FakeSeawall) -> None:
    assert main(["resend", "--config", str(config_path), "--job", "nightly-restic"]) == 2


@pytest.mark.parametrize(("status", "code"), [(None, 75), (500, 75), (503, 75), (408, 75), (425, 75), (429, 75),
                                              (401, 77), (400, 1), (403, 1), (404, 1), (422, 1)])
def test_enroll_and_refresh_take_a_server_error_or_a_not_now_answer_for_try_later(status: int | None, code: int) -> None:
    from seawall_agent import outcome

    assert outcome.for_answer(status) == code


def test_enroll_during_a_seawall_deploy_exits_75_not_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from seawall_agent import cli
    from seawall_agent.client import EnrollError

    def unavailable(server: str, token: str) -> dict[str, object]:
        raise EnrollError("enrollment refused: HTTP 503", 503)

    monkeypatch.setattr(cli, "enroll", unavailable)
    path = tmp_path / "config.toml"
    assert main(["enroll", "--server", "https://seawall.example", "--token", ENROLL_TOKEN, "--config", str(path)]) == 75
    assert not path.exists()


def test_a_run_whose_state_directory_cannot_be_made_still_runs_the_backup_and_exits_74(
    config_path: Path, seawall: FakeSeawall, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the state directory should be")
    write_config(config_path, replace(load_config(config_path), state_dir=blocker / "state"))
    marker = tmp_path / "ran"
    assert main(["run", "--config", str(config_path), "--job", "nightly-restic", "--", *_backup(marker)]) == 74
    assert marker.exists()  # the backup ran although nothing could be reported
