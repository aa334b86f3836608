"""The built-in plan template every MSP starts from (code, not a row: it ships with Seawall).

Sections follow HIPAA 45 CFR 164.308(a)(7) — data backup plan, disaster recovery plan, emergency
mode operation plan, testing and revision procedures, applications and data criticality analysis —
plus what a small practice needs on the day: internet contingency, ransomware and power outage
procedures, the call tree and the roles. Guidance is written for a practice owner. Bodies are a
starting point: the parts only the practice can know are marked `[[like this]]`, and a required
section that still holds such a blank counts as not written yet (finding `plan.section_empty`).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

# A stable id so the built-in template can be named in the API next to the MSP's own templates.
DEFAULT_TEMPLATE_ID = uuid.uuid5(uuid.NAMESPACE_URL, "https://seawall.dev/plan-templates/default")
DEFAULT_TEMPLATE_NAME = "Seawall default (HIPAA 164.308(a)(7))"

# "[[what to write here]]": a blank the practice still has to fill in.
BLANK = re.compile(r"\[\[[^\[\]]*\]\]")

# Section keys the binder places in its own chapters; any other section is printed as written.
KEY_OVERVIEW = "overview"
KEY_CRITICALITY = "criticality_analysis"
KEY_BACKUP = "data_backup"
KEY_DISASTER_RECOVERY = "disaster_recovery"
KEY_EMERGENCY_MODE = "emergency_mode"
KEY_INTERNET = "internet_contingency"
KEY_RANSOMWARE = "ransomware"
KEY_POWER = "power_outage"
KEY_CONTACTS = "contacts_call_tree"
KEY_ROLES = "roles"
KEY_TESTING = "testing_revision"


_ITEM = re.compile(r"^(- |\d+\. )")


def _reflow(text: str) -> str:
    """Source lines wrapped for this file joined into paragraphs and list items (the binder wraps them)."""
    paragraphs = []
    for block in text.strip().split("\n\n"):
        lines: list[str] = []
        for line in block.splitlines():
            if lines and not _ITEM.match(line.strip()):
                lines[-1] += " " + line.strip()
            else:
                lines.append(line.strip())
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _section(key: str, title: str, guidance: str, body: str, required: bool = True) -> dict[str, Any]:
    return {"key": key, "title": title, "guidance": _reflow(guidance), "required": required, "body": _reflow(body)}


_SECTIONS = [
    _section(
        KEY_OVERVIEW, "Purpose, scope and activation",
        """
Say in two or three sentences what this plan covers and who may put it into action. Staff should
know exactly when "we are in an emergency" starts, and who decides it.
""",
        """
This plan tells everyone at [[practice name]] what to do when something we depend on stops
working: the internet, the server, the electronic health record, the phones or the building's
power, and during a ransomware or other cyber attack.

The plan is activated by the Incident lead (see Roles) or, if they cannot be reached within
15 minutes, by the most senior person on site. Activation is announced to all staff by
[[how: group text, intercom, in person]].

The plan is kept in three places: in Seawall, as a printed binder at [[where the binder is kept]],
and as an offline copy on [[which laptop or USB stick]].
""",
    ),
    _section(
        KEY_CRITICALITY, "Applications and data criticality analysis",
        """
HIPAA 164.308(a)(7)(ii)(E). List the systems and data the practice needs, in the order they must
come back. Tier 1 means you cannot see patients safely without it. The recovery targets (how long
you can be without a system, how much data you can afford to lose) are kept with each system in
Seawall's inventory and printed in the binder; here, explain the reasoning.
""",
        """
- Tier 1 (cannot operate without it): [[e.g. EHR, e-prescribing]].
- Tier 2 (needed the same day): [[e.g. scheduling, billing, phones]].
- Tier 3 (can wait a few days): [[e.g. email archive, marketing website]].

Why this order: [[e.g. without the EHR we cannot see medication lists; appointments can be run
from the printed schedule for a day]].

Data holding protected health information (ePHI): [[which systems]]. These are backed up and
restored first.
""",
    ),
    _section(
        KEY_BACKUP, "Data backup plan",
        """
HIPAA 164.308(a)(7)(ii)(A). Describe how exact copies of ePHI are made and kept: what is backed
up, how often, where the copies are (on site and off site), that they are encrypted, and who
checks that backups succeed. Seawall lists the backup jobs from the inventory beside this text.
""",
        """
Every system holding ePHI is backed up at least daily, with one copy on site for fast restores
and one copy off site (or in the cloud) in case the building is lost. Off-site copies are
encrypted, and at least one copy cannot be changed or deleted for [[number]] days, so ransomware
cannot destroy it.

Backups are monitored by [[the MSP]] through Seawall; a failed or late backup raises an alert.
Restores are tested at least [[quarterly]] (see Testing and revision procedures).

Backup providers holding ePHI have signed a business associate agreement (BAA).
""",
    ),
    _section(
        KEY_DISASTER_RECOVERY, "Disaster recovery plan",
        """
HIPAA 164.308(a)(7)(ii)(B). How you get systems and data back after they are lost — a server
failure, a flood, a fire. Name who restores what, from which backup, and in what order. Each
system's own recovery steps are printed from the inventory under "Server or system down".
""",
        """
1. The Incident lead calls the IT liaison and the MSP (call tree) and states what is down.
2. The MSP confirms the cause and estimates the time to restore, against each system's RTO.
3. Systems are restored in tier order, from the newest good backup: on-site copy first, the
   off-site copy if the on-site copy is damaged or the site is unusable.
4. If the server cannot be repaired within [[hours]], the MSP restores to [[replacement
   hardware or a cloud host]].
5. Before staff go back to the system, the IT liaison checks that yesterday's records are present.
6. Paper records made during the outage are entered into the system (see Emergency-mode operation).
""",
    ),
    _section(
        KEY_EMERGENCY_MODE, "Emergency-mode operation plan",
        """
HIPAA 164.308(a)(7)(ii)(C). How the practice keeps caring for patients, and keeps ePHI
protected, while systems are down. Think paper: where the downtime forms are, who has the
printed schedule, how prescriptions are handled.
""",
        """
- Downtime forms (visit notes, consent, prescriptions log) are in [[where, e.g. the red folder
  at the front desk]].
- Tomorrow's schedule is printed every evening by [[who]], so there is always a paper copy.
- Prescriptions: [[e.g. printed pads locked in the office; call the pharmacy directly]].
- Paper records are kept in a locked drawer and entered into the EHR within [[24 hours]] of
  recovery; then they are shredded.
- Patient privacy still applies: no patient details over personal phones or personal email.
""",
    ),
    _section(
        KEY_INTERNET, "Internet contingency",
        """
What happens when the internet goes down: which connection takes over and whether it does so on
its own, where the mobile hotspot is kept and who can turn it on, how appointments are booked
without the online system, and what you tell patients. The links of each site are listed from
the inventory beside this text.
""",
        """
Failover: when the main line fails, [[the backup line switches over by itself within about a
minute / someone must switch to it]]. If both fail, use the hotspot.

Hotspot: kept at [[where, e.g. the locked drawer of the front desk]], charged, with the password
on its label. [[Who]] turns it on and connects the front-desk computer first.

Booking without the online system: use the printed schedule and the paper booking sheet in
[[where]]. Call patients back from [[which phone]] once systems return.

Patient communication (read on the phone or post on the door):

"Our computer systems are temporarily unavailable. We are still seeing patients with scheduled
appointments. For urgent questions call [[phone number]]. Thank you for your patience."

Online booking and the website: [[who]] posts a notice within 30 minutes.
""",
    ),
    _section(
        KEY_RANSOMWARE, "Ransomware and cyber-attack response",
        """
Ransomware encrypts files and demands payment. The first minutes matter most: unplug, do not
switch off, call the MSP. Say who notifies the practice's insurer and who decides about reporting
a breach under HIPAA.
""",
        """
1. Anyone who sees a ransom note or files that will not open: unplug the network cable and turn
   off Wi-Fi on that computer. Do not switch it off and do not pay anything.
2. Call the Incident lead, then the MSP (call tree). Write down the time and what you saw.
3. The MSP isolates affected systems and checks which backups are clean; immutable and off-site
   copies are the recovery source.
4. The practice keeps working in emergency mode (paper) until the MSP confirms systems are clean.
5. The Privacy Officer, [[name]], decides with the MSP whether this is a reportable breach, and
   notifies the cyber insurer at [[insurer phone]].
""",
    ),
    _section(
        KEY_POWER, "Power outage",
        """
What to do when the building loses power: what keeps running on battery (UPS) and for how long,
what must be shut down safely, and how medicines that need refrigeration are protected.
""",
        """
1. Check whether the outage is only ours: call the utility at [[utility phone]].
2. The server and network run on the UPS for about [[minutes]] minutes. If power is not back in
   [[minutes]] minutes, the IT liaison shuts the server down cleanly (instructions taped to it).
3. Vaccine and medicine fridges: keep doors closed; if power is out longer than [[hours]] hours,
   move stock to [[backup location]] following the cold-chain log.
4. Patients in the building are told what is happening; appointments are rebooked from the
   printed schedule.
5. When power returns, the IT liaison starts the server first, then the workstations, and checks
   that the backup ran.
""",
    ),
    _section(
        KEY_CONTACTS, "Contacts and call tree",
        """
Who calls whom, in what order, and who to try next when someone does not answer. The call tree
itself (names, numbers, alternates) is printed from the contacts in Seawall's inventory; use this
section for anything else staff need to know about calling.
""",
        """
The Incident lead starts the call tree. Each person calls the next in order; if someone does not
answer within [[10]] minutes, call their alternate. Leave a voicemail and send a text either way.

Keep a printed copy of the call tree at home: during a real outage the office phones may not work.
""",
    ),
    _section(
        KEY_ROLES, "Roles and responsibilities",
        """
Give each role in the plan to a named person, and make sure they know what it means. Seawall
records who holds each role, when they were trained, and asks them to acknowledge every new
version of the plan.
""",
        """
- Incident lead: declares the emergency, starts the call tree, decides when normal work resumes.
- Front-desk downtime lead: switches the front desk to paper, handles patient communication.
- IT liaison: the practice's contact for the MSP; checks systems after recovery.
- Privacy Officer: decides on breach reporting and keeps the records of the incident.
""",
    ),
    _section(
        KEY_TESTING, "Testing and revision procedures",
        """
HIPAA 164.308(a)(7)(ii)(D). How and how often the plan is tested — a restore test, a tabletop
exercise, switching to the backup internet line — and how what you learn changes the plan. The
plan is reviewed at least once a year, and after every real incident.
""",
        """
- Restore test of the EHR and the file server: [[quarterly]], by the MSP; the time it took is
  recorded in Seawall as the measured recovery time.
- Internet failover test: [[monthly]], by unplugging the main line for five minutes.
- Tabletop exercise with all staff: [[once a year]], walking through one scenario of this plan.
- After every test or real incident, the Incident lead and the MSP update this plan; the practice
  owner approves the new version and staff acknowledge it.
""",
    ),
]

DEFAULT_TEMPLATE: dict[str, Any] = {
    "id": DEFAULT_TEMPLATE_ID,
    "name": DEFAULT_TEMPLATE_NAME,
    "description": "Follows HIPAA 45 CFR 164.308(a)(7), with internet, ransomware and power-outage procedures for a small practice.",
    "builtin": True,
    "sections": _SECTIONS,
}


def default_sections() -> list[dict[str, Any]]:
    """A fresh copy of the built-in sections (callers may change it)."""
    return [dict(s) for s in _SECTIONS]


def blanks_in(body: str) -> int:
    return len(BLANK.findall(body or ""))


def is_incomplete(section: dict[str, Any]) -> bool:
    body = (section.get("body") or "").strip()
    return not body or blanks_in(body) > 0
