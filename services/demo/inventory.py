"""A realistic inventory for every demo practice: systems, backup jobs, internet links, call tree.

Some practices are well prepared and some are not, so readiness differs visibly: Riverside,
Harbor Dermatology, Oakridge and Willow Creek lack off-site copies, encryption or a backup link;
Maple, Summit and Greenfield each have one or two gaps; the rest are in good shape. Phone numbers
are in the fictional 555-01xx range and email domains end in .example.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.db import Database, Scope
from services.core.inventory.models import BackupJob, BackupJobSystem, Contact, Link, System, SystemDependency
from services.core.practices.models import Practice, Site
from services.demo.tenancy import PRACTICES, demo_msp_id


@dataclass(frozen=True)
class Profile:
    ehr: str
    staff: tuple[str, str, str]  # practice owner, office manager, front-desk lead
    tool: str = "restic"  # restic (to Backblaze B2), datto, veeam (to Wasabi)
    offsite: bool = True
    offsite_baa: bool = True
    offsite_immutable: bool = True
    onsite_encrypted: bool = True
    imaging: str | None = None
    fridge: bool = False
    backup_link_sites: int = 99  # how many of its sites have a backup link (0 = single link everywhere)
    hotspot: bool = True
    slow_server: bool = False  # the server's RTO exceeds the EHR's MTD
    unprotected: tuple[str, ...] = ()  # systems holding ePHI left out of every backup job
    usb_home: bool = False  # an unencrypted drive a staff member takes home
    primary_isp: tuple[str, str] = ("Metro Fiber", "fiber")


PROFILES: dict[str, Profile] = {
    "Bayside Family Clinic": Profile("eClinicalWorks", ("Dr. Dana Lee", "Maria Alvarez", "Frankie Rivera"), fridge=True),
    "Cedar Dental Group": Profile("Open Dental", ("Dr. Priya Patel", "Sam Okafor", "Lena Brooks"), tool="datto",
                                  imaging="Dexis imaging", backup_link_sites=1),
    "Riverside Physiotherapy": Profile("Practice Perfect", ("Dr. Tom Nguyen", "Alicia Grant", "Ben Carter"), offsite=False,
                                       onsite_encrypted=False, backup_link_sites=0, hotspot=False,
                                       primary_isp=("Coastal Cable", "cable")),
    "Maple Pediatrics": Profile("eClinicalWorks", ("Dr. Hannah Moore", "Grace Kim", "Omar Haddad"), offsite_baa=False,
                                fridge=True),
    "Lakeshore Eye Care": Profile("eClinicalWorks", ("Dr. Victor Chen", "Nora Price", "Eli Ward"), tool="veeam"),
    "Summit Orthopedics": Profile("eClinicalWorks", ("Dr. Rachel Stone", "Kevin Park", "Ivy Lopez"), tool="veeam",
                                  imaging="Carestream PACS", unprotected=("Carestream PACS",)),
    "Harbor Dermatology": Profile("eClinicalWorks", ("Dr. Sofia Reyes", "Paul Jensen", "Mia Foster"), offsite=False,
                                  usb_home=True, backup_link_sites=0, hotspot=False, primary_isp=("Bayline DSL", "dsl")),
    "Northside Dental Studio": Profile("Open Dental", ("Dr. Aaron Blake", "Julia Santos", "Chris Doyle"), tool="datto",
                                       imaging="Dexis imaging"),
    "Greenfield Women's Health": Profile("eClinicalWorks", ("Dr. Laura Bennett", "Tina Walsh", "Ruth Adler"),
                                         slow_server=True, offsite_immutable=False, fridge=True),
    "Oakridge Sports Physio": Profile("Practice Perfect", ("Dr. Mark Ellis", "Jenna Cole", "Luis Ortega"), offsite=False,
                                      onsite_encrypted=False, backup_link_sites=0, primary_isp=("Coastal Cable", "cable")),
    "Pinecrest Hospital – East Satellite": Profile("Meditech Expanse (hospital-hosted)", ("Dr. Helen Ford", "Carl Meyer", "Dina Shah"),
                                                   tool="veeam", fridge=True),
    "Willow Creek Chiropractic": Profile("ChiroTouch", ("Dr. Greg Hall", "Amy Lin", "Sean Price"), offsite=False,
                                         backup_link_sites=0, hotspot=False, unprotected=("ChiroTouch",)),
}

CLOUD = {"restic": ("restic", "Backblaze B2"), "datto": ("datto", "Datto Cloud"), "veeam": ("veeam", "Wasabi")}
ONSITE_TOOL = {"restic": "restic", "datto": "datto", "veeam": "veeam"}


def _phone(n: int) -> str:
    return f"555-01{n % 100:02d}"


def _systems(p: Profile) -> list[dict]:
    """(name, category, tier, ePHI, RTO, RPO, MTD, copies required, depends on) of one practice."""
    server_rto = 720 if p.slow_server else 180
    rows = [
        dict(name="Practice server", category="other", tier=1, holds_ephi=True, rto_minutes=server_rto, rpo_minutes=60,
             mtd_minutes=1440, owner="MSP helpdesk", deps=["@primary"],
             recovery_procedure="Restore the newest image from the NAS onto the spare host; if the NAS is lost, pull the cloud copy."),
        dict(name=p.ehr, category="ehr", tier=1, holds_ephi=True, rto_minutes=240, rpo_minutes=60, mtd_minutes=480,
             owner="Office manager", deps=["Practice server"],
             recovery_procedure="Start the database service, open today's schedule on one front-desk PC, then release the others."),
        dict(name="Billing & claims", category="practice_management", tier=2, holds_ephi=True, rto_minutes=1440, rpo_minutes=240,
             mtd_minutes=4320, owner="Office manager", deps=[p.ehr],
             recovery_procedure="Hold claims on paper; submit them in one batch once the EHR is back."),
        dict(name="Online booking", category="scheduling", tier=2, holds_ephi=False, rto_minutes=240, rpo_minutes=1440,
             mtd_minutes=1440, copies=False, owner="Front desk", deps=["@primary"],
             recovery_procedure="Vendor-hosted; bookings land in the EHR. Post the phone number on the website while it is down."),
        dict(name="e-Prescribing (DoseSpot)", category="e_prescribing", tier=2, holds_ephi=False, rto_minutes=240,
             rpo_minutes=1440, mtd_minutes=1440, copies=False, owner="Practice owner", deps=["@primary", p.ehr],
             recovery_procedure="Vendor-hosted; phone urgent prescriptions to the pharmacy and record them in the chart later."),
        dict(name="Phones (VoIP)", category="phones", tier=1, holds_ephi=False, rto_minutes=60, rpo_minutes=1440,
             mtd_minutes=240, copies=False, owner="MSP helpdesk", deps=["@primary"],
             recovery_procedure="Forward the main number to the office manager's mobile from the provider portal."),
        dict(name="Front-desk PCs", category="endpoints", tier=2, holds_ephi=False, rto_minutes=120, rpo_minutes=1440,
             mtd_minutes=480, copies=False, owner="MSP helpdesk", deps=[],
             recovery_procedure="Swap in the spare PC from the back office; the MSP reimages the broken one."),
    ]
    if p.imaging:
        rows.append(dict(name=p.imaging, category="imaging", tier=2, holds_ephi=True, rto_minutes=480, rpo_minutes=240,
                         mtd_minutes=1440, owner="Lead clinician", deps=["Practice server"],
                         recovery_procedure="Reinstall the imaging client on the operatory PCs and point it at the restored image share."))
    if p.fridge:
        rows.append(dict(name="Vaccine fridge monitor", category="iot", tier=2, holds_ephi=False, rto_minutes=120,
                         rpo_minutes=1440, mtd_minutes=240, copies=False, owner="Lead nurse", deps=["@primary"],
                         recovery_procedure="Read the fridge thermometer by hand every hour and log it on the paper sheet."))
    return rows


async def _get_or_add(s: AsyncSession, model, lookup: dict, **values):
    row = await s.scalar(select(model).filter_by(**lookup))
    if row is None:
        row = model(**lookup, **values)
        s.add(row)
        await s.flush()
    return row


async def _seed_practice(s: AsyncSession, practice: Practice, sites: list[Site], p: Profile) -> None:
    key = {"msp_id": practice.msp_id, "practice_id": practice.id}
    slug = practice.name.split()[0].lower()
    isp, medium = p.primary_isp
    links: dict[str, Link] = {}
    for i, site in enumerate(sites):
        primary = await _get_or_add(s, Link, {**key, "site_id": site.id, "name": f"{isp} {medium}"}, isp=isp, medium=medium,
                                    role="primary", latency_threshold_ms=80.0)
        links.setdefault("@primary", primary)
        if i < p.backup_link_sites:
            await _get_or_add(s, Link, {**key, "site_id": site.id, "name": "5G backup router"}, isp="Northwind Wireless",
                              medium="5g_lte", role="backup", metered=True, latency_threshold_ms=150.0, jitter_threshold_ms=40.0)
            if p.hotspot:
                await _get_or_add(s, Link, {**key, "site_id": site.id, "name": "Front-desk hotspot"}, isp="Northwind Wireless",
                                  medium="5g_lte", role="hotspot", metered=True, latency_threshold_ms=200.0)

    systems: dict[str, System] = {}
    for n, row in enumerate(_systems(p), start=1):
        deps, copies = row.pop("deps"), row.pop("copies", True)
        systems[row["name"]] = await _get_or_add(
            s, System, {**key, "name": row["name"]}, external_id=f"{slug}-sys-{n:02d}",
            requires_onsite_copy=copies, requires_offsite_copy=copies,
            **{k: v for k, v in row.items() if k != "name"})
        for dep in deps:
            target = {"depends_on_link_id": links[dep].id} if dep.startswith("@") else {"depends_on_system_id": systems[dep].id}
            await _get_or_add(s, SystemDependency, {**key, "system_id": systems[row["name"]].id, **target})

    protected = [sys for name, sys in systems.items() if sys.holds_ephi and name not in p.unprotected]
    tool = ONSITE_TOOL[p.tool]
    jobs = [await _get_or_add(s, BackupJob, {**key, "name": "Nightly NAS backup"}, site_id=sites[0].id, location="onsite",
                              tool=tool, schedule="0 1 * * *", expected_interval_minutes=1440,
                              encrypted=p.onsite_encrypted, verifies=True)]
    if p.offsite:
        cloud_tool, provider = CLOUD[p.tool]
        jobs.append(await _get_or_add(s, BackupJob, {**key, "name": f"{provider} off-site copy"}, site_id=sites[0].id,
                                      location="cloud", tool=cloud_tool, schedule="0 3 * * *", expected_interval_minutes=1440,
                                      encrypted=True, immutable=p.offsite_immutable, verifies=True, provider=provider,
                                      baa_on_file=p.offsite_baa))
    if p.usb_home:
        # Written at the practice by its agent's wrapper, then taken home: the first site's job.
        jobs.append(await _get_or_add(s, BackupJob, {**key, "name": "Friday USB drive (taken home)"}, site_id=sites[0].id,
                                      location="offsite",
                                      tool="windows_server_backup", schedule="Fridays after close",
                                      expected_interval_minutes=10080, encrypted=False))
    for job in jobs:
        for system in protected:
            await _get_or_add(s, BackupJobSystem, {"msp_id": practice.msp_id, "backup_job_id": job.id, "system_id": system.id},
                              practice_id=practice.id)

    owner, manager, front = p.staff
    ehr_vendor = p.ehr.split(" (")[0]
    base = 60 + sum(map(ord, practice.name)) % 35  # staff numbers 555-0160…0196, clear of the shared ones
    contacts = [
        ("manager", manager, "staff", "", "Office manager", 1, None),
        ("front", front, "staff", "", "Front-desk lead", 2, "manager"),
        ("owner", owner, "staff", "", "Practice owner", 3, None),
        ("msp", "Harborview IT helpdesk", "msp", "Harborview IT", "24/7 helpdesk", 4, None),
        ("msp-oncall", "Tess Technician", "msp", "Harborview IT", "On-call technician", 5, "msp"),
        ("isp", f"{isp} business support", "isp", isp, "Business support", 6, None),
        ("vendor", f"{ehr_vendor} support", "vendor", ehr_vendor, "Technical support", 7, None),
    ]
    made: dict[str, Contact] = {}
    for n, (ref, name, kind, org, title, order, alternate) in enumerate(contacts):
        email = "" if kind in ("isp", "vendor") else (
            "help@harborview.example" if kind == "msp" else f"{name.split()[-1].lower()}@{slug}.example")
        made[ref] = await _get_or_add(
            s, Contact, {**key, "external_id": f"{slug}-contact-{ref}"}, name=name, kind=kind, organization=org,
            role_title=title, phone=_phone(base + n if kind == "staff" else {"msp": 10, "msp-oncall": 11}.get(ref, 50 + n)),
            email=email, call_order=order,
            alternate_for_id=made[alternate].id if alternate else None)


async def seed(db: Database) -> None:
    msp_id = await demo_msp_id(db)
    if msp_id is None:
        return
    async with db.transaction(Scope(msp_id)) as s:
        practices = {p.name: p for p in await s.scalars(select(Practice).where(Practice.msp_id == msp_id))}
        for name, _kind, _sites in PRACTICES:
            practice = practices.get(name)
            if practice is None or name not in PROFILES:
                continue
            sites = sorted(await s.scalars(select(Site).where(Site.msp_id == msp_id, Site.practice_id == practice.id)),
                           key=lambda site: ("main" not in site.name.lower(), site.name))
            if sites:
                await _seed_practice(s, practice, sites, PROFILES[name])
