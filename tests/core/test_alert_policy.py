"""One resolution function decides thresholds: default ← MSP ← practice ← site (inherit, override, disable)."""

import pytest

from services.core.alerts import rules as R
from services.core.alerts.policy import Level, resolve, validate_level
from services.core.errors import ValidationFailed

R.catalogue()  # registers every rule


def test_without_any_policy_the_catalogue_defaults_apply():
    e = resolve(R.FAILED_IN_A_ROW, None)
    assert (e.enabled, e.params, e.source["runs"]) == (True, {"runs": 3}, "default")


def test_each_level_overrides_only_what_it_sets_and_inherits_the_rest():
    e = resolve(R.SUSPICIOUS_RUN, Level(None, {"duration_ratio": 0.3}), Level(None, {"bytes_ratio": 0.1}), None)
    assert e.params == {"duration_ratio": 0.3, "bytes_ratio": 0.1}
    assert e.source == {"duration_ratio": "msp", "bytes_ratio": "practice", "enabled": "default"}


def test_a_site_override_beats_the_practice_which_beats_the_msp():
    e = resolve(R.NO_OFFSITE_WITHIN, Level(None, {"hours": 30}), Level(None, {"hours": 48}), Level(None, {"hours": 12}))
    assert (e.params["hours"], e.source["hours"]) == (12, "site")


def test_a_practice_may_disable_a_rule_and_one_site_may_enable_it_again():
    assert resolve(R.SINGLE_CIRCUIT, None, Level(False)).enabled is False
    e = resolve(R.SINGLE_CIRCUIT, Level(True), Level(False), Level(True))
    assert (e.enabled, e.source["enabled"]) == (True, "site")


def test_an_msp_disable_is_inherited_by_practices_that_say_nothing():
    e = resolve(R.AGENT_SILENT, Level(False), Level(None, {"grace_minutes": 20}))
    assert e.enabled is False and e.params["grace_minutes"] == 20


def test_plan_findings_have_no_thresholds_but_can_be_disabled():
    assert resolve("plan.review_overdue", None, Level(False)).enabled is False
    assert validate_level("plan.review_overdue", False, {}).enabled is False


def test_unknown_thresholds_and_out_of_range_values_are_refused_with_the_field_named():
    with pytest.raises(ValidationFailed) as e:
        validate_level(R.FAILED_IN_A_ROW, None, {"runs": 0, "colour": 3})
    assert {f.field for f in e.value.errors} == {"params.runs", "params.colour"}
    with pytest.raises(ValidationFailed):
        validate_level("Not A Rule!", None, {})
