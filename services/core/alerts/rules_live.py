"""The checks behind the live rules. Each is registered in the catalogue by its @rule decorator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from services.core import units
from services.core.alerts.facts import JobFacts, LinkFacts, PracticeFacts, SystemFacts
from services.core.alerts.rules import (
    AGENT_SILENT,
    BACKUP_NOT_EXERCISED,
    FAILED_IN_A_ROW,
    INTERNET_OUTAGE,
    LINK_DOWN,
    LINK_FLAPPING,
    LINK_JITTER,
    LINK_LATENCY,
    LINK_LOSS,
    LINK_NO_DATA,
    NO_OFFSITE_WITHIN,
    NO_RESTORE_TEST,
    ON_BACKUP_TOO_LONG,
    RPO_AT_RISK,
    RPO_BREACHED,
    RTO_ABOVE_TARGET,
    SINGLE_CIRCUIT,
    STALE_SUCCESS,
    SUSPICIOUS_RUN,
    Hit,
    Param,
    ago,
    rule,
)
from services.core.findings import (
    HIPAA_DATA_BACKUP,
    HIPAA_DISASTER_RECOVERY,
    HIPAA_EMERGENCY_MODE,
    HIPAA_TESTING,
    Component,
    Finding,
    Severity,
)
from services.core.inventory.copies import jobs_by_copy
from services.core.telemetry import liveness
from services.core.telemetry.recovery import (
    achieved_rpo_minutes,
    achieved_rto_minutes,
    copy_at_risk,
    copy_within_rpo,
    rto_compliant,
)


def _minutes(now: datetime, then: datetime) -> float:
    return (now - then).total_seconds() / 60


def _every(seconds: int) -> str:
    """An interval in words; seconds while a minute would round it ('every 10 s', 'every 1 min')."""
    return f"{seconds} s" if seconds < 120 and seconds % 60 else ago(seconds / 60)


def _f(rule_id: str, component: Component, severity: Severity, subject_type: str, subject_id: Any, title: str,
       remediation: str, hipaa: str, measured: str | None = None, target: str | None = None,
       judged_run_finished_at: datetime | None = None) -> Finding:
    return Finding(rule_id, component, severity, subject_type, str(subject_id), title, remediation, hipaa, measured, target,
                   judged_run_finished_at)


def _copies(p: PracticeFacts, system: SystemFacts) -> Iterator[tuple[str, list[JobFacts]]]:
    """The copies the plan requires for a system (services/core/inventory/copies.py), with the jobs
    that make each. A copy no job makes is the inventory's finding (inventory.no_onsite_copy /
    inventory.no_offsite_copy), not an RPO breach: there is no restore point to age."""
    jobs = [p.jobs[j] for j in system.job_ids if j in p.jobs]
    for copy, making in jobs_by_copy(system, jobs, lambda j: j.offsite):
        if making:
            yield copy, making


def _achieved_rpo(jobs: list[JobFacts], now: datetime) -> float | None:
    # The dashboard's achieved RPO per copy is computed by the same function (one definition).
    return achieved_rpo_minutes((j.last_restore_point_at for j in jobs), now)


_RPO_PARAMS = {"at_risk_ratio": Param(0.8, "share of the target RPO at which the copy is at risk", 0.1, 1.0)}


@rule(id=RPO_AT_RISK, title="RPO at risk", component=Component.backups, severity=Severity.medium, hipaa=HIPAA_DATA_BACKUP,
      meaning="A system's newest restore point (per required copy) is at least at_risk_ratio of its target RPO old.",
      params=_RPO_PARAMS, time_based=True)
def rpo_at_risk(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    ratio = float(params["at_risk_ratio"])
    for s in p.systems:
        for copy, jobs in _copies(p, s):
            achieved = _achieved_rpo(jobs, now)
            # The Systems gauge's amber, by the same function (which is False for no restore point).
            if achieved is not None and copy_at_risk(achieved, s.rpo_minutes, ratio):
                yield Hit(_f(RPO_AT_RISK, Component.backups, Severity.medium, "system", f"{s.id}:{copy}",
                             f"{s.name}: the {copy} backup will miss its recovery point objective soon",
                             f"Check that the {copy} backup of {s.name} runs before the target is reached.",
                             HIPAA_DATA_BACKUP, ago(achieved), ago(s.rpo_minutes)), jobs[0].site_id)


@rule(id=RPO_BREACHED, title="RPO breached", component=Component.backups, severity=Severity.high, hipaa=HIPAA_DATA_BACKUP,
      meaning="A system's newest restore point (per required copy) is older than its target RPO, or there is none yet. "
              "Tier-1 systems are critical.", time_based=True)
def rpo_breached(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    for s in p.systems:
        for copy, jobs in _copies(p, s):
            achieved = _achieved_rpo(jobs, now)
            if not copy_within_rpo(achieved, s.rpo_minutes):
                severity = Severity.critical if s.tier == 1 else Severity.high
                yield Hit(_f(RPO_BREACHED, Component.backups, severity, "system", f"{s.id}:{copy}",
                             f"{s.name}: the {copy} backup is older than the recovery point objective",
                             f"Run the {copy} backup of {s.name} now and fix whatever stopped it.", HIPAA_DATA_BACKUP,
                             "no restore point yet" if achieved is None else ago(achieved), ago(s.rpo_minutes)),
                          jobs[0].site_id)


@rule(id=FAILED_IN_A_ROW, title="Backup failed repeatedly", component=Component.backups, severity=Severity.high,
      hipaa=HIPAA_DATA_BACKUP, meaning="A backup job's last N runs all failed.",
      params={"runs": Param(3, "consecutive failed runs", 1, 100)})
def failed_in_a_row(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    n = int(params["runs"])
    for j in p.jobs.values():
        if j.consecutive_failures >= n:
            yield Hit(_f(FAILED_IN_A_ROW, Component.backups, Severity.high, "backup_job", j.id,
                         f"Backup job {j.name} failed {j.consecutive_failures} times in a row",
                         f"Read the run log of {j.name}, fix the cause and run it again.", HIPAA_DATA_BACKUP,
                         f"{j.consecutive_failures} failures", f"fewer than {n}"), j.site_id)


@rule(id=NO_OFFSITE_WITHIN, title="No off-site copy", component=Component.backups, severity=Severity.high,
      hipaa=HIPAA_DATA_BACKUP, meaning="An off-site or cloud backup job has not completed successfully within N hours.",
      params={"hours": Param(26, "hours since the last successful off-site run", 1, 24 * 60)},
      time_based=True, follows_outage=True)
def no_offsite_within(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    hours = float(params["hours"])
    for j in p.jobs.values():
        if not j.offsite:
            continue
        since = _minutes(now, j.last_success_at) if j.last_success_at else None
        if since is None or since > hours * 60:
            yield Hit(_f(NO_OFFSITE_WITHIN, Component.backups, Severity.high, "backup_job", j.id,
                         f"No off-site copy from {j.name} in the last {ago(hours * 60)}",
                         f"Check the internet connection and the off-site target of {j.name}, then run it.",
                         HIPAA_DATA_BACKUP, "never" if since is None else ago(since), ago(hours * 60)), j.site_id)


@rule(id=SUSPICIOUS_RUN, title="Suspicious backup run", component=Component.backups, severity=Severity.medium,
      hipaa=HIPAA_DATA_BACKUP,
      meaning="The last successful run took far less time or wrote far fewer bytes than the job's baseline "
              "(an empty source, a wrong path, or ransomware-encrypted data deduplicated away).",
      params={"duration_ratio": Param(0.2, "fraction of the baseline duration below which a run is suspicious", 0.01, 1),
              "bytes_ratio": Param(0.2, "fraction of the baseline size below which a run is suspicious", 0.01, 1)})
def suspicious_run(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    for j in p.jobs.values():
        if j.last_status != "success":
            continue
        reasons = []
        if j.baseline_duration_seconds and j.last_duration_seconds is not None \
                and j.last_duration_seconds < float(params["duration_ratio"]) * j.baseline_duration_seconds:
            reasons.append(f"{round(j.last_duration_seconds)} s against a usual {round(j.baseline_duration_seconds)} s")
        if j.baseline_bytes and j.last_bytes is not None and j.last_bytes < float(params["bytes_ratio"]) * j.baseline_bytes:
            reasons.append(f"{j.last_bytes} bytes against a usual {round(j.baseline_bytes)}")
        if reasons:
            yield Hit(_f(SUSPICIOUS_RUN, Component.backups, Severity.medium, "backup_job", j.id,
                         f"The last run of {j.name} was much shorter or smaller than usual",
                         f"Check that {j.name} still backs up the right data, and test a restore.", HIPAA_DATA_BACKUP,
                         "; ".join(reasons), "close to the baseline"), j.site_id)


@rule(id=STALE_SUCCESS, title="Stale success", component=Component.backups, severity=Severity.high, hipaa=HIPAA_DATA_BACKUP,
      meaning="The newest successful run reported a restore point that is not newer than the previous success's: "
              "the job says it worked but made nothing new.")
def stale_success(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    for j in p.jobs.values():
        new, old = j.newest_success_restore_point, j.previous_success_restore_point
        if new is not None and old is not None and new <= old:
            yield Hit(_f(STALE_SUCCESS, Component.backups, Severity.high, "backup_job", j.id,
                         f"{j.name} reports success but its restore point did not move",
                         f"Check the backup target of {j.name}: the tool may be reporting an old snapshot.",
                         HIPAA_DATA_BACKUP, f"restore point {new.isoformat(timespec='minutes')}",
                         f"newer than {old.isoformat(timespec='minutes')}", j.newest_success_finished_at), j.site_id)


@rule(id=NO_RESTORE_TEST, title="No recent restore test", component=Component.testing, severity=Severity.medium,
      hipaa=HIPAA_TESTING, meaning="No successful restore test of a backed-up system (or of a job protecting it) within N days.",
      params={"days": Param(90, "days since the newest restore test", 1, 3650)}, time_based=True)
def no_restore_test(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    days = float(params["days"])
    for s in p.systems:
        if not s.job_ids:
            continue
        tested_at = s.last_test.last_success_at if s.last_test else None
        if tested_at is None or _minutes(now, tested_at) > days * 1440:
            yield Hit(_f(NO_RESTORE_TEST, Component.testing, Severity.medium, "system", s.id,
                         f"{s.name} has not had a restore test in {round(days)} days",
                         f"Restore {s.name} from its backup and record the test.", HIPAA_TESTING,
                         "never" if tested_at is None else ago(_minutes(now, tested_at)), f"{round(days)} days"))


@rule(id=RTO_ABOVE_TARGET, title="Measured RTO above target", component=Component.testing, severity=Severity.high,
      hipaa=HIPAA_DISASTER_RECOVERY,
      meaning="The newest restore test of a system took longer than its target RTO, or failed (recovery not "
              "demonstrated: an older success does not count).")
def rto_above_target(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    for s in p.systems:
        # Judged by the same functions that give the dashboard's achieved RTO and compliance.
        if rto_compliant(s.last_test, s.rto_minutes) is False:
            achieved = achieved_rto_minutes(s.last_test)
            failed = achieved is None
            yield Hit(_f(RTO_ABOVE_TARGET, Component.testing, Severity.high, "system", s.id,
                         f"The newest restore test of {s.name} failed" if failed else
                         f"Restoring {s.name} took longer than its recovery time objective",
                         f"Find out why restoring {s.name} failed, fix it and test again." if failed else
                         f"Speed up the recovery of {s.name} (faster media, local copy) or agree a realistic RTO.",
                         HIPAA_DISASTER_RECOVERY, "newest restore test failed" if achieved is None else ago(achieved),
                         ago(s.rto_minutes)))


@rule(id=AGENT_SILENT, title="Agent silent", component=Component.backups, severity=Severity.high, hipaa=HIPAA_DATA_BACKUP,
      meaning="An agent has not been heard from for its heartbeat interval plus the grace period (dead man's switch); "
              "an agent that enrolled and never reported counts from its enrollment.",
      params={"grace_minutes": Param(liveness.DEFAULT_GRACE_MINUTES, "minutes allowed beyond the heartbeat interval",
                                     liveness.MIN_GRACE_MINUTES, liveness.MAX_GRACE_MINUTES)},
      time_based=True, follows_outage=True)
def agent_silent(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    # The one definition (telemetry/liveness.py), shared with the dead man's switch and every
    # online/offline display; a never-reported agent is the same condition, counted from its
    # enrollment (docs/decisions/0009-one-silence.md), only worded for what to do about it.
    grace = float(params["grace_minutes"])
    for a in p.agents:
        if not liveness.is_silent(a.last_seen_at, a.enrolled_at, a.heartbeat_interval_seconds, grace, now):
            continue
        silent = _minutes(now, liveness.heard_or_enrolled(a.last_seen_at, a.enrolled_at))
        if a.last_seen_at is None:
            title = f"The agent on {a.hostname} was enrolled but has never reported"
            remediation = (f"Start the seawall-agent service on {a.hostname} (seawall-agent daemon) and check that it "
                           "can reach Seawall; if that computer is gone, revoke the agent.")
            measured = f"enrolled {ago(silent)} ago, nothing heard since"
        else:
            title = f"The agent on {a.hostname} has gone silent"
            remediation = f"Check that {a.hostname} is powered on, online, and that the seawall-agent service runs."
            measured = f"last seen {ago(silent)} ago"
        yield Hit(_f(AGENT_SILENT, Component.backups, Severity.high, "agent", a.id, title, remediation,
                     HIPAA_DATA_BACKUP, measured, f"every {ago(a.heartbeat_interval_seconds / 60)}"), a.site_id)


def _sites_links(p: PracticeFacts) -> dict[Any, list[LinkFacts]]:
    by_site: dict[Any, list[LinkFacts]] = {}
    for link in p.links:
        by_site.setdefault(link.site_id, []).append(link)
    return by_site


# A link's up/down state must hold this long before it is a condition: one probe that failed (or a
# few seconds of a flapping line) is never an outage, and a line that keeps dropping is the
# flapping rule's (docs/decisions/0013-one-judgement.md).
_HOLD = {"hold_minutes": Param(2, "minutes the state must hold before it counts (never one sample)", 0, 1440)}


def _held(since: datetime | None, now: datetime, params: dict[str, Any]) -> bool:
    return since is None or _minutes(now, since) >= float(params["hold_minutes"])


@rule(id=INTERNET_OUTAGE, title="Internet outage", component=Component.connectivity, severity=Severity.critical,
      hipaa=HIPAA_EMERGENCY_MODE,
      meaning="Every internet link of a site has been down for at least hold_minutes. Link-down, agent-silent and "
              "off-site-backup incidents of the site are grouped under this one while it lasts.",
      params=_HOLD, time_based=True)
def internet_outage(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    for site_id, all_links in _sites_links(p).items():
        # A link with no data is neither up nor down: the outage is judged by the links with data.
        links = [link for link in all_links if link.fresh_up(now) is not None]
        if links and all(link.fresh_up(now) is False for link in links):
            since = max(link.state_since for link in links if link.state_since) if any(l.state_since for l in links) else None
            if not _held(since, now, params):
                continue
            yield Hit(_f(INTERNET_OUTAGE, Component.connectivity, Severity.critical, "site", site_id,
                         f"{p.site_name(site_id) or 'A site'} has no internet: every link is down",
                         "Start the internet-contingency section of the plan (hotspot, offline booking, call the ISP).",
                         HIPAA_EMERGENCY_MODE, f"down for {ago(_minutes(now, since))}" if since else "down",
                         "at least one link up"), site_id)


def _down_severity(link: LinkFacts) -> Severity:
    return Severity.high if link.role == "primary" else Severity.medium


@rule(id=LINK_DOWN, title="Link down", component=Component.connectivity, severity=Severity.high, hipaa=HIPAA_EMERGENCY_MODE,
      meaning="An internet link has reported down for at least hold_minutes. Primary links are high severity, backup "
              "and hotspot links medium.",
      params=_HOLD, time_based=True, follows_outage=True)
def link_down(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    for link in p.links:
        if link.fresh_up(now) is False and _held(link.state_since, now, params):
            yield Hit(_f(LINK_DOWN, Component.connectivity, _down_severity(link), "link", link.id,
                         f"Internet link {link.name} at {p.site_name(link.site_id) or 'the site'} is down",
                         f"Call the ISP of {link.name}; check the modem and router.", HIPAA_EMERGENCY_MODE,
                         f"down for {ago(_minutes(now, link.state_since))}" if link.state_since else "down", "up"),
                      link.site_id)


def flaps(link: LinkFacts, now: datetime) -> int:
    """How many times the link went down and came back (or the reverse) in the hour before now."""
    changes = sum(1 for t in link.transitions if _minutes(now, t) <= 60)
    return (changes + 1) // 2


@rule(id=LINK_FLAPPING, title="Link flapping", component=Component.connectivity, severity=Severity.high,
      hipaa=HIPAA_EMERGENCY_MODE,
      meaning="An internet link went down and came back at least N times in the last hour. While it flaps, its "
              "link-down finding is counted under this one, so the score holds still instead of following each drop. "
              "Primary links are high severity, backup and hotspot links medium.",
      params={"flaps": Param(3, "times down and back up within an hour", 2, 1000)}, time_based=True)
def link_flapping(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    limit = int(params["flaps"])
    for link in p.links:
        if link.fresh_up(now) is None:  # no data: nothing to say about how it behaves
            continue
        n = flaps(link, now)
        if n >= limit:
            yield Hit(_f(LINK_FLAPPING, Component.connectivity, _down_severity(link), "link", link.id,
                         f"Internet link {link.name} at {p.site_name(link.site_id) or 'the site'} flapped {n} times "
                         "in the last hour",
                         f"Ask the ISP of {link.name} to check the line (it keeps dropping); until it is fixed, consider "
                         "running the site on its backup link.", HIPAA_EMERGENCY_MODE,
                         f"{n} times in the last hour", f"fewer than {limit} an hour"), link.site_id)


@rule(id=LINK_NO_DATA, title="Link has no data", component=Component.connectivity, severity=Severity.medium,
      hipaa=HIPAA_EMERGENCY_MODE,
      meaning="No sample of an internet link for N of its sample intervals (the smallest probe interval its site's "
              "agents state), or none since the site's agent enrolled that long ago: its state is unknown, not its "
              "last one. Link-down, outage and quality rules do not judge it meanwhile.",
      params={"intervals": Param(liveness.DEFAULT_NO_DATA_INTERVALS, "sample intervals without a sample",
                                 liveness.MIN_NO_DATA_INTERVALS, liveness.MAX_NO_DATA_INTERVALS)},
      time_based=True, follows_outage=True)
def link_no_data(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    for link in p.links:
        # The link's own threshold (alerts/liveness.judge_links) is this rule's `intervals` at its
        # site, so this finding and the other rules' silence about the link always agree.
        since = liveness.link_no_data_from(link.last_sample_at, link.sampling)
        if since is None or link.reading(now) != "no_data":
            continue
        quiet = ago(_minutes(now, since))
        where = p.site_name(link.site_id) or "the site"
        if link.last_sample_at is None:
            title = f"Internet link {link.name} at {where} has never been sampled"
            measured = f"no sample since the agent enrolled {quiet} ago"
            remediation = (f"Give {link.name} a probe (and source or interface) in the seawall-agent config at {where} "
                           "and restart the agent.")
        else:
            title = f"No data from internet link {link.name} at {where}"
            measured = f"no sample for {quiet}"
            remediation = (f"Check that the seawall-agent at {where} runs and still probes {link.name}; "
                           "its state is unknown until a sample arrives.")
        yield Hit(_f(LINK_NO_DATA, Component.connectivity, Severity.medium, "link", link.id, title, remediation,
                     HIPAA_EMERGENCY_MODE, measured, f"a sample every {_every(link.sampling.interval_seconds)}"),
                  link.site_id)


@rule(id=ON_BACKUP_TOO_LONG, title="On backup link too long", component=Component.connectivity, severity=Severity.medium,
      hipaa=HIPAA_EMERGENCY_MODE, meaning="Traffic has run over a backup or hotspot link (failed over) for longer than N minutes.",
      params={"minutes": Param(60, "minutes on the backup link", 1, 10080)}, time_based=True)
def on_backup_too_long(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    limit = float(params["minutes"])
    for link in p.links:
        if link.on_backup_since and _minutes(now, link.on_backup_since) > limit:
            yield Hit(_f(ON_BACKUP_TOO_LONG, Component.connectivity, Severity.medium, "link", link.id,
                         f"{p.site_name(link.site_id) or 'A site'} has been running on its backup link for a long time",
                         f"Get the primary link repaired: {link.name} may be metered or slower.", HIPAA_EMERGENCY_MODE,
                         ago(_minutes(now, link.on_backup_since)), ago(limit)), link.site_id)


@rule(id=BACKUP_NOT_EXERCISED, title="Backup link not tested", component=Component.connectivity, severity=Severity.low,
      hipaa=HIPAA_EMERGENCY_MODE,
      meaning="A backup or hotspot link has not carried the site's traffic (a failover onto it started) within N days, "
              "counted from the link's creation when it never has.",
      params={"days": Param(30, "days since the link last carried the site's traffic", 1, 3650)}, time_based=True)
def backup_not_exercised(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    # A backup link only proves itself by carrying the practice's traffic: a probe through it says
    # the modem answers, not that the router fails over to it or that the practice can work on it.
    days = float(params["days"])
    for link in p.links:
        if link.role not in ("backup", "hotspot") or link.on_backup_since is not None:
            continue  # carrying the traffic right now is the test under way
        since = link.last_failover_at or link.created_at
        if _minutes(now, since) <= days * 1440:
            continue
        kind = "hotspot" if link.role == "hotspot" else "backup link"
        measured = (f"last carried traffic {ago(_minutes(now, since))} ago" if link.last_failover_at else
                    f"never since it was added {ago(_minutes(now, since))} ago")
        yield Hit(_f(BACKUP_NOT_EXERCISED, Component.connectivity, Severity.low, "link", link.id,
                     f"The {kind} {link.name} at {p.site_name(link.site_id) or 'the site'} has not been tested in "
                     f"{round(days)} days",
                     f"Switch the site to {link.name} for a few minutes (unplug the primary) and check that the "
                     "practice keeps working.", HIPAA_EMERGENCY_MODE, measured, f"within {round(days)} days"),
                  link.site_id)


@rule(id=SINGLE_CIRCUIT, title="Single circuit", component=Component.connectivity, severity=Severity.medium,
      hipaa=HIPAA_EMERGENCY_MODE, meaning="A site with internet links has no backup or hotspot link.")
def single_circuit(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
    for site_id, links in _sites_links(p).items():
        if links and not any(link.role in ("backup", "hotspot") for link in links):
            yield Hit(_f(SINGLE_CIRCUIT, Component.connectivity, Severity.medium, "site", site_id,
                         f"{p.site_name(site_id) or 'A site'} has a single internet circuit",
                         "Add a backup link (a second ISP, 5G/LTE router or a hotspot) and record it.",
                         HIPAA_EMERGENCY_MODE, f"{len(links)} link(s), none backup", "a backup or hotspot link"), site_id)


def _quality(rule_id: str, attr: str, threshold_attr: str, unit: str, words: str):
    def check(p: PracticeFacts, params: dict[str, Any], now: datetime) -> Iterator[Hit]:
        for link in p.links:
            value = getattr(link, attr)
            # The policy may override every link's own threshold; otherwise each link keeps its own.
            limit = params["threshold"] if params.get("threshold") is not None else getattr(link, threshold_attr)
            if link.fresh_up(now) is True and value is not None and value > float(limit):
                yield Hit(_f(rule_id, Component.connectivity, Severity.medium, "link", link.id,
                             f"{words.capitalize()} on {link.name} is above its threshold",
                             f"Report the {words} to the ISP of {link.name}; check the local network for saturation.",
                             HIPAA_EMERGENCY_MODE, units.in_words(value, unit), f"≤ {float(limit):g} {unit}"), link.site_id)

    return check


for _id, _attr, _thr, _unit, _words in ((LINK_LOSS, "loss_pct", "loss_threshold_pct", "%", "packet loss"),
                                        (LINK_LATENCY, "latency_ms", "latency_threshold_ms", "ms", "latency"),
                                        (LINK_JITTER, "jitter_ms", "jitter_threshold_ms", "ms", "jitter")):
    rule(id=_id, title=f"{_words.capitalize()} above threshold", component=Component.connectivity,
         severity=Severity.medium, hipaa=HIPAA_EMERGENCY_MODE,
         meaning=f"A link's rolling {_words} is above the link's own threshold (or the policy's, when set).",
         params={"threshold": Param(None, f"{_words} threshold in {_unit}; unset = each link's own", 0, 100_000)})(
        _quality(_id, _attr, _thr, _unit, _words))
