import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from seawall_agent import events
from seawall_agent.cli import main
from seawall_agent.client import SeawallClient
from seawall_agent.config import load_config
from seawall_agent.delivery import Delivery, FlushResult, backoff_delay
from seawall_agent.spool import Spool

from .conftest import CREDENTIAL, FakeSeawall, Scripted


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "state")


@pytest.fixture
def client(seawall: FakeSeawall) -> Iterator[SeawallClient]:
    with SeawallClient(seawall.url, CREDENTIAL) as http:
        yield http


def _delivery(spool: Spool, client: SeawallClient, **options: float) -> Delivery:
    return Delivery(spool, client, backoff_base=0.05, backoff_cap=0.2, **options)  # type: ignore[arg-type]


def _flush_when_allowed(delivery: Delivery) -> FlushResult:
    """What the daemon does: wait for the pause the last failure asked for, then flush."""
    result = delivery.flush()
    while result.retry_at is not None and result.pending and time.time() < result.retry_at + 0.05:
        time.sleep(max(0.0, result.retry_at - time.time()) + 0.01)
        result = delivery.flush()
    return result


def _heartbeats(count: int, hostname: str = "frontdesk-pc") -> list[events.Event]:
    return [events.new_event("heartbeat", hostname=hostname, agent_version="0.1.0") for _ in range(count)]


def test_events_spool_while_the_server_is_down_and_replay_in_order_exactly_once_when_it_is_back(
    seawall: FakeSeawall, spool: Spool, client: SeawallClient
) -> None:
    delivery = _delivery(spool, client)
    seawall.stop()
    spooled = _heartbeats(3)
    spool.append(*spooled[:2])
    first = delivery.flush()
    assert (first.delivered, first.pending) == (0, 2)
    assert first.error and "unreachable" in first.error
    time.sleep(0.25)
    spool.append(spooled[2])
    assert delivery.flush().pending == 3  # still down: still spooled, nothing lost

    seawall.start()
    result = _flush_when_allowed(delivery)

    assert (result.delivered, result.pending) == (3, 0)
    assert seawall.event_ids == [event["id"] for event in spooled]
    sent = [event_id for call in seawall.calls for event_id in call.ids]
    assert sent == [event["id"] for event in spooled]  # none sent twice
    assert not (spool.state_dir / "backoff.json").exists() or json.loads(
        (spool.state_dir / "backoff.json").read_text())["failures"] == 0


def test_a_heartbeat_while_the_server_is_down_exits_zero_and_waits_in_the_spool_until_a_flush(
    config_path: Path, seawall: FakeSeawall
) -> None:
    seawall.stop()

    assert main(["heartbeat", "--config", str(config_path)]) == 0
    assert main(["flush", "--config", str(config_path)]) == 75

    state = Spool(load_config(config_path).state_dir)
    [spooled] = state.peek().events
    assert spooled["type"] == "heartbeat"

    seawall.start()  # the practice's internet is back; the MSP flushes by hand
    assert main(["flush", "--config", str(config_path)]) == 0  # without waiting out the backoff
    assert seawall.event_ids == [spooled["id"]]


def test_a_lost_response_is_resent_with_the_same_event_ids_and_stored_once(
    seawall: FakeSeawall, spool: Spool, client: SeawallClient
) -> None:
    seawall.script.append(Scripted(lose_response=True))
    spooled = _heartbeats(2)
    spool.append(*spooled)
    delivery = _delivery(spool, client)

    assert delivery.flush().pending == 2  # stored by the server, but we never heard so
    result = _flush_when_allowed(delivery)

    assert result.pending == 0
    ids = [event["id"] for event in spooled]
    assert [call.ids for call in seawall.calls] == [ids, ids]
    assert seawall.event_ids == ids


def test_a_429_is_honoured_by_waiting_for_its_retry_after(
    seawall: FakeSeawall, spool: Spool, client: SeawallClient
) -> None:
    seawall.script.append(Scripted(429, headers={"Retry-After": "1"}))
    spool.append(*_heartbeats(2))
    delivery = _delivery(spool, client)

    limited = delivery.flush()
    assert limited.retry_at is not None and limited.retry_at >= time.time() + 0.8
    assert delivery.flush().pending == 2
    assert delivery.flush(skip_backoff=True).pending == 2  # not even an operator's flush
    assert len(seawall.calls) == 1  # the second flush did not ask again before Retry-After
    result = _flush_when_allowed(delivery)

    assert result.delivered == 2
    assert seawall.calls[1].at - seawall.calls[0].at >= 1.0


def test_5xx_answers_keep_events_and_push_the_next_attempt_back_exponentially(
    seawall: FakeSeawall, spool: Spool, client: SeawallClient
) -> None:
    seawall.script.extend([Scripted(503), Scripted(500)])
    spool.append(*_heartbeats(1))
    delivery = Delivery(spool, client, backoff_base=0.1, backoff_cap=10)

    before = time.time()
    first = delivery.flush()
    assert first.retry_at is not None and before + 0.05 <= first.retry_at <= time.time() + 0.1
    time.sleep(first.retry_at - time.time() + 0.01)
    second = delivery.flush()
    assert second.retry_at is not None and second.retry_at - time.time() >= 0.09  # doubled: 0.1–0.2 s
    assert second.pending == 1 and "500" in (second.error or "")

    assert _flush_when_allowed(delivery).delivered == 1


def test_backoff_doubles_with_jitter_and_stops_at_its_cap() -> None:
    for failures, ceiling in [(1, 2), (2, 4), (3, 8), (8, 256), (9, 300), (50, 300)]:
        delays = [backoff_delay(failures, base=2, cap=300) for _ in range(200)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(set(delays)) > 100  # jittered, not a fixed schedule


def test_a_422_moves_the_events_it_names_aside_and_delivers_the_rest_in_order(
    seawall: FakeSeawall, spool: Spool, client: SeawallClient
) -> None:
    good = _heartbeats(3)
    # An agent that sat powered off for six weeks: its oldest event is beyond the 30-day window.
    too_old = events.new_event("heartbeat", occurred_at=datetime.now(UTC) - timedelta(days=40))
    spool.append(good[0], too_old, good[1], good[2])

    result = _delivery(spool, client).flush()

    assert (result.delivered, result.rejected, result.pending) == (3, 1, 0)
    assert seawall.event_ids == [event["id"] for event in good]
    [rejected] = spool.rejected()
    assert rejected["event"] == too_old
    assert rejected["errors"][0]["field"] == "occurred_at"


def test_a_422_that_names_no_event_is_narrowed_down_one_event_at_a_time(
    seawall: FakeSeawall, spool: Spool, client: SeawallClient
) -> None:
    unnamed = Scripted(422, body={"title": "Unprocessable Content", "status": 422, "errors": []})
    # batch of three refused; first alone accepted; second alone refused; third accepted
    seawall.script.extend([unnamed, Scripted(None), unnamed])
    spooled = _heartbeats(3)
    spool.append(*spooled)

    result = _delivery(spool, client).flush()

    assert (result.delivered, result.rejected, result.pending) == (2, 1, 0)
    assert seawall.event_ids == [spooled[0]["id"], spooled[2]["id"]]
    assert [entry["event"]["id"] for entry in spool.rejected()] == [spooled[1]["id"]]


def test_a_revoked_credential_keeps_events_spooled(seawall: FakeSeawall, spool: Spool) -> None:
    spool.append(*_heartbeats(1))
    with SeawallClient(seawall.url, "swa_" + "x" * 43) as revoked:
        result = _delivery(spool, revoked).flush()

    assert result.pending == 1
    assert "401" in (result.error or "")
    assert seawall.events == []


def test_a_large_backlog_goes_out_in_batches_of_at_most_500_in_order(
    seawall: FakeSeawall, spool: Spool, client: SeawallClient
) -> None:
    # ~1.1 kB per event: the spool passes the compaction threshold on the way, then empties.
    backlog = _heartbeats(1200, hostname="h" * 1000)
    spool.append(*backlog)

    result = _delivery(spool, client).flush()

    assert result.delivered == 1200
    assert [len(call.ids) for call in seawall.calls] == [500, 500, 200]
    assert seawall.event_ids == [event["id"] for event in backlog]
    assert spool.path.stat().st_size == 0 and spool.pending() == 0


def test_a_torn_last_line_from_a_crash_is_dropped_and_corrupt_lines_are_moved_aside(
    seawall: FakeSeawall, spool: Spool, client: SeawallClient
) -> None:
    first, second = _heartbeats(2)
    spool.append(first)
    with spool.path.open("ab") as fh:
        fh.write(b'this line is not json\n{"id": "half-writ')  # a damaged line, then a torn append
    spool.append(second)

    result = _delivery(spool, client).flush()

    assert seawall.event_ids == [first["id"], second["id"]]
    assert result.pending == 0
    assert [entry["raw"] for entry in spool.rejected()] == ["this line is not json\n"]


_WRITER = """
import sys
from seawall_agent import events
from seawall_agent.client import SeawallClient
from seawall_agent.delivery import Delivery
from seawall_agent.spool import Spool
from pathlib import Path

state, url, credential, tag, count = sys.argv[1:]
spool = Spool(Path(state))
with SeawallClient(url, credential) as client:
    delivery = Delivery(spool, client, backoff_base=0.01, backoff_cap=0.05, lock_wait_seconds=0)
    for n in range(int(count)):
        spool.append(events.new_event("heartbeat", hostname=f"{tag}-{n:03d}"))
        delivery.flush()
"""


def test_two_agent_processes_sharing_a_spool_lose_nothing_and_send_nothing_twice(
    seawall: FakeSeawall, spool: Spool, client: SeawallClient
) -> None:
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(spool.state_dir), seawall.url, CREDENTIAL, tag, "60"])
        for tag in ("daemon", "run")
    ]
    assert [writer.wait(timeout=30) for writer in writers] == [0, 0]
    _flush_when_allowed(_delivery(spool, client))  # whatever the last busy flush left behind

    hostnames = [event["hostname"] for event in seawall.events]
    for tag in ("daemon", "run"):
        assert [h for h in hostnames if h.startswith(tag)] == [f"{tag}-{n:03d}" for n in range(60)]
    sent = [event_id for call in seawall.calls for event_id in call.ids]
    assert len(sent) == len(set(sent)) == 120
