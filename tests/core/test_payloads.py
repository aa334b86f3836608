"""The recorded-payload check: what the worker can read passes, anything else names its field."""

from __future__ import annotations

import pytest

from services.core.telemetry import payloads
from services.core.telemetry.unapplicable import UnapplicableEvent

RUN = {"job_id": "7f0c2e3a-0000-4000-8000-000000000001", "status": "success", "started_at": "2026-03-01T10:00:00+00:00",
       "finished_at": "2026-03-01T10:20:00+00:00", "bytes": 10, "exit_code": 0}


def test_a_payload_as_ingest_records_it_passes_and_extra_keys_from_a_newer_release_are_allowed():
    payloads.check(1, "backup_run", RUN)
    payloads.check(2, "backup_run", {**RUN, "added_by_a_newer_release": True})
    payloads.check(3, "link_sample", {"link_id": RUN["job_id"], "up": True, "latency_ms": 12, "loss_pct": 0.5})
    payloads.check(4, "ping", {"job_id": RUN["job_id"], "kind": "start", "body": "", "user_agent": "curl"})
    payloads.check(5, "backup_run", {**RUN, "status": "failed", "exit_code": 0xC0000005})  # a Windows access violation
    payloads.check(6, "backup_run", {**RUN, "status": "failed", "exit_code": -(2**31)})


@pytest.mark.parametrize("type_,payload,field,words", [
    ("backup_run", {k: v for k, v in RUN.items() if k != "started_at"}, "started_at", "is missing"),
    ("backup_run", {**RUN, "status": 7}, "status", "is not one of the values this version knows"),
    ("backup_run", {**RUN, "exit_code": 2**32}, "exit_code", "is too large"),  # past what ingest accepts
    ("backup_run", {**RUN, "started_at": "2026-03-01T10:00:00"}, "started_at", "has no time zone"),
    ("backup_run", {**RUN, "job_id": "nas"}, "job_id", "is not an id"),
    ("link_sample", {"link_id": RUN["job_id"], "up": "maybe"}, "up", "is not true or false"),
    ("heartbeat", {"hostname": "x" * 256}, "hostname", "is too long"),
    ("ping", {"job_id": RUN["job_id"], "kind": "start", "body": "", "rid": "r" * 65}, "rid", "is too long"),  # ping_step.run_id
    ("ping", {"job_id": RUN["job_id"], "kind": "start", "body": "", "rid": "İ" * 40}, "rid", "is too long"),  # lower-cased
])
def test_a_payload_the_worker_cannot_read_is_unapplicable_with_its_field_and_seq(type_, payload, field, words):
    with pytest.raises(UnapplicableEvent) as caught:
        payloads.check(9, type_, payload)
    assert (caught.value.seq, caught.value.field, caught.value.reason, caught.value.code) == (9, field, f"{field} {words}",
                                                                                             "invalid_payload")


def test_an_event_of_a_type_this_release_does_not_know_is_unapplicable_not_dropped():
    with pytest.raises(UnapplicableEvent) as caught:
        payloads.check(5, "toaster_status", {})
    assert caught.value.code == "unknown_type"


def test_a_validators_own_sentence_reaches_people_without_pydantics_value_error_prefix():
    from services.core.errors import validation_message

    assert validation_message({"msg": "Value error, names neither a backup job nor a system."}) == \
        "names neither a backup job nor a system."
    assert validation_message({"msg": "Input should be a valid integer"}) == "Input should be a valid integer"
