"""The arithmetic of readiness (services/core/readiness/scoring.py), without a database."""

from __future__ import annotations

import re
from pathlib import Path

from services.core.findings import Component, Finding, Severity
from services.core.readiness.scoring import Sourced, score
from services.core.readiness.weights import DEFAULT_WEIGHTS, Weights, status_for


def finding(component: Component, severity: Severity, subject: str = "s1", rule: str = "test.rule") -> Sourced:
    return Sourced(Finding(rule, component, severity, "system", subject, "title", "fix it"), "test")


def test_no_findings_scores_100_and_ready():
    result = score([], DEFAULT_WEIGHTS)
    assert (result.score, result.status) == (100, "ready")
    assert all(c["lost"] == 0 for c in result.components.values())


def test_each_severity_costs_its_documented_deduction():
    for severity, points in DEFAULT_WEIGHTS.deductions.items():
        result = score([finding(Component.backups, severity)], DEFAULT_WEIGHTS)
        assert result.score == 100 - points
        assert result.findings[0]["points"] == points


def test_every_lost_point_is_charged_to_exactly_one_finding_and_components_cap():
    many = [finding(Component.connectivity, Severity.critical, f"s{i}") for i in range(3)]
    result = score(many, DEFAULT_WEIGHTS)
    cap = DEFAULT_WEIGHTS.components[Component.connectivity]
    assert result.components["connectivity"]["lost"] == cap
    assert sum(f["points"] for f in result.findings) == 100 - result.score == cap
    assert [f["capped"] for f in result.findings].count(True) >= 1


def test_most_severe_findings_are_charged_first_when_a_component_runs_out():
    weights = Weights({**DEFAULT_WEIGHTS.components}, {**DEFAULT_WEIGHTS.deductions})
    findings = [finding(Component.people, Severity.low, "a")] + [finding(Component.people, Severity.high, f"h{i}") for i in range(2)]
    result = score(findings, weights)
    by_severity = {f["subject_id"]: f["points"] for f in result.findings}
    assert by_severity["h0"] == 10 and by_severity["h1"] == 5 and by_severity["a"] == 0


def test_the_inventory_single_link_finding_is_folded_into_the_live_rule_about_the_same_site():
    site = "site-1"
    inventory = Sourced(Finding("inventory.single_link", Component.connectivity, Severity.high, "site", site, "t", "r"), "inventory")
    live = Sourced(Finding("link.single_circuit", Component.connectivity, Severity.medium, "site", site, "t", "r"), "live_rules")
    result = score([inventory, live], DEFAULT_WEIGHTS)
    assert result.score == 100 - DEFAULT_WEIGHTS.deductions[Severity.medium]
    folded = next(f for f in result.findings if f["rule_id"] == "inventory.single_link")
    assert folded["points"] == 0 and folded["counted_under"] == f"link.single_circuit:site:{site}"


def test_status_thresholds():
    assert [status_for(s) for s in (100, 80, 79, 50, 49, 0)] == ["ready", "ready", "at_risk", "at_risk", "not_ready", "not_ready"]


def test_the_inputs_hash_changes_with_the_findings_only():
    a = score([finding(Component.plan, Severity.low)], DEFAULT_WEIGHTS)
    b = score([finding(Component.plan, Severity.low)], DEFAULT_WEIGHTS)
    c = score([finding(Component.plan, Severity.high)], DEFAULT_WEIGHTS)
    assert a.inputs_hash == b.inputs_hash != c.inputs_hash


def test_docs_readiness_md_documents_the_default_weights_exactly():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "readiness.md").read_text()
    for component, points in DEFAULT_WEIGHTS.components.items():
        assert re.search(rf"\|\s*{component.value}\s*\|\s*{points}\s*\|", doc), f"{component.value} = {points} not in docs"
    for severity, points in DEFAULT_WEIGHTS.deductions.items():
        assert re.search(rf"\|\s*{severity.value}\s*\|\s*{points}\s*\|", doc), f"{severity.value} = {points} not in docs"


def test_the_worked_example_of_docs_readiness_md_scores_60():
    def f(rule: str, component: Component, severity: Severity, subject: str) -> Sourced:
        return Sourced(Finding(rule, component, severity, "x", subject, "t", "r"), "docs")

    result = score([
        f("backup.rpo_breached", Component.backups, Severity.critical, "ehr"),
        f("inventory.no_baa", Component.backups, Severity.high, "cloud"),
        f("inventory.backup_not_encrypted", Component.backups, Severity.medium, "nas"),
        f("inventory.single_link", Component.connectivity, Severity.high, "site1"),
        f("link.single_circuit", Component.connectivity, Severity.medium, "site1"),
        f("plan.acknowledgement_missing", Component.people, Severity.medium, "lead"),
    ], DEFAULT_WEIGHTS)
    assert (result.score, result.status) == (60, "at_risk")
    assert {x["rule_id"]: x["points"] for x in result.findings} == {
        "backup.rpo_breached": 20, "inventory.no_baa": 10, "inventory.backup_not_encrypted": 0, "inventory.single_link": 0,
        "link.single_circuit": 5, "plan.acknowledgement_missing": 5}
