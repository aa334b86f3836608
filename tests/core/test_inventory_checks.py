"""Each inventory rule fires on a practice built to trigger it, and stops once the inventory is fixed."""

from __future__ import annotations

from sqlalchemy import update

from services.core.base import utcnow
from services.core.db import Scope
from services.core.findings import HIPAA_BAA, HIPAA_CRITICALITY, HIPAA_DATA_BACKUP, HIPAA_ENCRYPTION, Component, Severity
from services.core.inventory.checks import duration, inventory_findings, inventory_findings_many
from services.core.inventory.models import BackupJob, BackupJobSystem, Link, System
from tests.factories_inventory import create_job, create_link, create_system, well_prepared


async def findings(db, tenant, practice=None):
    practice = practice or tenant.practice
    async with db.transaction(Scope(tenant.msp_id)) as s:
        return await inventory_findings(s, tenant.msp_id, practice.id, utcnow())


async def set_values(db, tenant, model, object_id, **values):
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.execute(update(model).where(model.msp_id == tenant.msp_id, model.id == object_id).values(**values))


# Systems whose plan needs no backup copy (hosted or stateless), for tests about other rules.
NO_COPIES = {"requires_onsite_copy": False, "requires_offsite_copy": False}


def rules(found):
    return sorted((f.rule_id, f.subject_id) for f in found)


async def test_a_well_prepared_practice_has_no_inventory_findings(db, tenant):
    await well_prepared(db, tenant.practice, tenant.site)
    assert await findings(db, tenant) == []


async def test_ephi_system_without_backup_is_critical_until_a_job_protects_it(db, tenant):
    inv = await well_prepared(db, tenant.practice, tenant.site)
    billing = await create_system(db, tenant.practice, "Billing", holds_ephi=True, requires_onsite_copy=False)
    f, missing_copy = await findings(db, tenant)
    assert (f.rule_id, f.subject_type, f.subject_id) == ("inventory.ephi_without_backup", "system", str(billing.id))
    assert (f.severity, f.component, f.hipaa) == (Severity.critical, Component.backups, HIPAA_DATA_BACKUP)
    assert f.measured == "no backup job" and f.remediation
    # The copy its plan requires is missing too: the Systems page shows that copy's gauge.
    assert (missing_copy.rule_id, missing_copy.subject_id) == ("inventory.no_offsite_copy", str(billing.id))
    async with db.transaction(Scope(tenant.msp_id)) as s:
        s.add(BackupJobSystem(msp_id=tenant.msp_id, practice_id=tenant.practice.id, backup_job_id=inv["cloud"].id, system_id=billing.id))
    assert await findings(db, tenant) == []


async def test_tier_one_system_with_only_onsite_copies_lacks_an_offsite_copy(db, tenant):
    inv = await well_prepared(db, tenant.practice, tenant.site)
    phones = await create_system(db, tenant.practice, "Phones", tier=1)
    await create_job(db, tenant.practice, "Phone config to NAS", systems=[phones], location="onsite")
    (f,) = await findings(db, tenant)
    assert (f.rule_id, f.subject_id, f.severity) == ("inventory.no_offsite_copy", str(phones.id), Severity.high)
    assert f.measured == "1 on-site job(s), 0 off-site"
    async with db.transaction(Scope(tenant.msp_id)) as s:
        s.add(BackupJobSystem(msp_id=tenant.msp_id, practice_id=tenant.practice.id, backup_job_id=inv["cloud"].id, system_id=phones.id))
    assert await findings(db, tenant) == []


async def test_a_tier_two_ephi_system_with_only_an_onsite_job_lacks_the_offsite_copy_its_plan_requires(db, tenant):
    inv = await well_prepared(db, tenant.practice, tenant.site)
    billing = await create_system(db, tenant.practice, "Billing", tier=2, holds_ephi=True)
    await create_job(db, tenant.practice, "Billing to NAS", systems=[billing], location="onsite", immutable=True)
    (f,) = await findings(db, tenant)
    assert (f.rule_id, f.subject_id, f.severity) == ("inventory.no_offsite_copy", str(billing.id), Severity.high)
    assert f.title == "Billing holds patient data but has no off-site or cloud copy"
    async with db.transaction(Scope(tenant.msp_id)) as s:
        s.add(BackupJobSystem(msp_id=tenant.msp_id, practice_id=tenant.practice.id, backup_job_id=inv["cloud"].id, system_id=billing.id))
    assert await findings(db, tenant) == []


async def test_a_system_with_only_a_cloud_job_lacks_the_onsite_copy_its_plan_requires(db, tenant):
    await well_prepared(db, tenant.practice, tenant.site)
    scheduling = await create_system(db, tenant.practice, "Scheduling", tier=3)
    await create_job(db, tenant.practice, "Scheduling to B2", systems=[scheduling], location="cloud")
    (f,) = await findings(db, tenant)
    assert (f.rule_id, f.subject_id, f.severity) == ("inventory.no_onsite_copy", str(scheduling.id), Severity.medium)
    assert f.title == "Scheduling has no on-site copy, which its plan requires"
    assert f.measured == "0 on-site job(s), 1 off-site"
    await set_values(db, tenant, System, scheduling.id, requires_onsite_copy=False)
    assert await findings(db, tenant) == []


async def test_a_system_without_any_job_lacks_every_copy_its_plan_requires(db, tenant):
    await well_prepared(db, tenant.practice, tenant.site)
    imaging = await create_system(db, tenant.practice, "Imaging", tier=2)
    assert rules(await findings(db, tenant)) == [("inventory.no_offsite_copy", str(imaging.id)),
                                                 ("inventory.no_onsite_copy", str(imaging.id))]


async def test_a_tier_one_system_whose_plan_needs_no_offsite_copy_is_not_flagged(db, tenant):
    await well_prepared(db, tenant.practice, tenant.site)
    await create_system(db, tenant.practice, "Hosted VoIP", tier=1, requires_onsite_copy=False, requires_offsite_copy=False)
    assert await findings(db, tenant) == []


async def test_unencrypted_job_is_flagged_high_offsite_and_medium_onsite(db, tenant):
    inv = await well_prepared(db, tenant.practice, tenant.site)
    usb = await create_job(db, tenant.practice, "USB drive", location="onsite", encrypted=False)
    await set_values(db, tenant, BackupJob, inv["cloud"].id, encrypted=False)
    found = {f.subject_id: f for f in await findings(db, tenant)}
    assert {f.rule_id for f in found.values()} == {"inventory.backup_not_encrypted"}
    assert found[str(inv["cloud"].id)].severity is Severity.high
    assert found[str(usb.id)].severity is Severity.medium
    assert found[str(usb.id)].hipaa == HIPAA_ENCRYPTION
    await set_values(db, tenant, BackupJob, inv["cloud"].id, encrypted=True)
    await set_values(db, tenant, BackupJob, usb.id, encrypted=True)
    assert await findings(db, tenant) == []


async def test_cloud_copy_of_ephi_without_a_baa_is_flagged_until_the_baa_is_on_file(db, tenant):
    inv = await well_prepared(db, tenant.practice, tenant.site)
    await set_values(db, tenant, BackupJob, inv["cloud"].id, baa_on_file=False)
    (f,) = await findings(db, tenant)
    assert (f.rule_id, f.subject_type, f.subject_id, f.hipaa) == ("inventory.no_baa", "backup_job", str(inv["cloud"].id), HIPAA_BAA)
    assert "Backblaze B2" in f.title
    await set_values(db, tenant, BackupJob, inv["cloud"].id, baa_on_file=True)
    assert await findings(db, tenant) == []


async def test_offsite_provider_needs_a_baa_but_a_drive_taken_home_by_staff_does_not(db, tenant):
    inv = await well_prepared(db, tenant.practice, tenant.site)
    drive = await create_job(db, tenant.practice, "USB drive home", systems=[inv["ehr"]], location="offsite")
    vault = await create_job(db, tenant.practice, "Iron vault tapes", systems=[inv["ehr"]], location="offsite", provider="Iron Vault")
    assert rules(await findings(db, tenant)) == [("inventory.no_baa", str(vault.id))]
    await set_values(db, tenant, BackupJob, drive.id, provider="Courier Co")
    assert set(rules(await findings(db, tenant))) == {("inventory.no_baa", str(drive.id)), ("inventory.no_baa", str(vault.id))}


async def test_offsite_copy_without_patient_data_needs_no_baa(db, tenant):
    await well_prepared(db, tenant.practice, tenant.site)
    wiki = await create_system(db, tenant.practice, "Staff wiki", tier=3, requires_onsite_copy=False)
    await create_job(db, tenant.practice, "Wiki to cloud", systems=[wiki], location="cloud", provider="Wasabi", baa_on_file=False)
    assert await findings(db, tenant) == []


async def test_site_without_backup_link_or_hotspot_is_a_single_link(db, tenant):
    inv = await well_prepared(db, tenant.practice, tenant.site)
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.delete(await s.get(Link, (tenant.msp_id, inv["backup"].id)))
    (f,) = await findings(db, tenant)
    assert (f.rule_id, f.subject_type, f.subject_id) == ("inventory.single_link", "site", str(tenant.site.id))
    assert (f.component, f.measured) == (Component.connectivity, "1 link(s), none backup or hotspot")
    await create_link(db, tenant.site, "Front-desk hotspot", "hotspot", medium="5g_lte")
    assert await findings(db, tenant) == []


async def test_site_with_no_link_recorded_is_flagged_too(db, tenant):
    (f,) = [f for f in await findings(db, tenant) if f.rule_id == "inventory.single_link"]
    assert f.measured == "no internet link recorded"


async def test_a_practice_that_recorded_nothing_is_flagged_not_ready_by_default(db, tenant):
    from services.core.practices.models import Site

    rules = {f.rule_id: f for f in await findings(db, tenant)}
    assert rules["inventory.no_systems"].severity.value == "critical"
    assert "inventory.no_sites" not in rules
    async with db.transaction(Scope(tenant.msp_id)) as s:
        await s.delete(await s.get(Site, (tenant.msp_id, tenant.site.id)))
    rules = {f.rule_id for f in await findings(db, tenant)}
    assert {"inventory.no_systems", "inventory.no_sites"} <= rules
    await well_prepared(db, tenant.practice, await _site(db, tenant))
    rules = {f.rule_id for f in await findings(db, tenant)}
    assert not {"inventory.no_systems", "inventory.no_sites"} & rules


async def _site(db, tenant):
    from services.core.practices.models import Site

    async with db.transaction(Scope(tenant.msp_id)) as s:
        site = Site(msp_id=tenant.msp_id, practice_id=tenant.practice.id, name="New site")
        s.add(site)
        await s.flush()
        return site


async def test_practice_holding_ephi_without_an_immutable_copy_is_flagged(db, tenant):
    inv = await well_prepared(db, tenant.practice, tenant.site)
    await set_values(db, tenant, BackupJob, inv["cloud"].id, immutable=False)
    (f,) = await findings(db, tenant)
    assert (f.rule_id, f.subject_type, f.subject_id) == ("inventory.no_immutable_copy", "practice", str(tenant.practice.id))
    await set_values(db, tenant, BackupJob, inv["cloud"].id, immutable=True)
    assert await findings(db, tenant) == []


async def test_dependency_whose_rto_exceeds_the_systems_mtd_is_flagged_through_the_chain(db, tenant):
    await well_prepared(db, tenant.practice, tenant.site)
    network = await create_system(db, tenant.practice, "Network core", tier=3, rto_minutes=600, mtd_minutes=1440, **NO_COPIES)
    server = await create_system(db, tenant.practice, "App server", tier=3, rto_minutes=60, mtd_minutes=1440, **NO_COPIES, depends_on=[network.id])
    booking = await create_system(db, tenant.practice, "Online booking", tier=3, rto_minutes=60, mtd_minutes=240, **NO_COPIES,
                                  depends_on=[server.id])
    (f,) = await findings(db, tenant)
    assert (f.rule_id, f.subject_id, f.hipaa) == ("inventory.dependency_rto_above_mtd", str(booking.id), HIPAA_CRITICALITY)
    assert (f.measured, f.target) == ("Network core RTO 10 h", "≤ 4 h (MTD of Online booking)")
    await set_values(db, tenant, System, network.id, rto_minutes=240)
    assert await findings(db, tenant) == []


async def test_findings_are_limited_to_the_practice_asked_about(db, tenant):
    await well_prepared(db, tenant.practice, tenant.site)
    await create_system(db, tenant.sibling, "Sibling EHR", holds_ephi=True)
    assert await findings(db, tenant) == []
    assert {"inventory.ephi_without_backup", "inventory.no_immutable_copy", "inventory.single_link"} <= {
        f.rule_id for f in await findings(db, tenant, tenant.sibling)}


def test_durations_read_the_way_people_say_them():
    assert [duration(m) for m in (45, 120, 150, 600, 1440, 2880)] == ["45 min", "2 h", "2.5 h", "10 h", "1 d", "2 d"]


async def test_demo_inventory_is_idempotent_and_some_practices_are_better_prepared_than_others(db):
    from sqlalchemy import func, select

    from services.core.inventory.models import Contact
    from services.core.practices.models import Practice
    from services.demo import SEEDERS, inventory, tenancy

    assert SEEDERS.index(inventory.seed) == SEEDERS.index(tenancy.seed) + 1
    msp_id = await tenancy.seed(db)
    await inventory.seed(db)

    async def snapshot():
        async with db.transaction(Scope(msp_id)) as s:
            sizes = [await s.scalar(select(func.count()).select_from(m).where(m.msp_id == msp_id))
                     for m in (System, BackupJob, BackupJobSystem, Link, Contact)]
            practices = {p.name: p.id for p in await s.scalars(select(Practice).where(Practice.msp_id == msp_id))}
            found = {name: {f.rule_id for f in await inventory_findings(s, msp_id, pid, utcnow())} for name, pid in practices.items()}
            # The readiness pass reads all the practices at once: the same findings, in the same order.
            one_by_one = {pid: await inventory_findings(s, msp_id, pid, utcnow()) for pid in practices.values()}
            assert await inventory_findings_many(s, msp_id, list(practices.values()), utcnow()) == one_by_one
            phones = set(await s.scalars(select(Contact.phone).where(Contact.msp_id == msp_id)))
        return sizes, found, phones

    sizes, found, phones = await snapshot()
    await inventory.seed(db)
    assert (await snapshot())[0] == sizes  # a second run adds nothing
    assert all(p.startswith("555-01") for p in phones)
    assert found["Bayside Family Clinic"] == set() and found["Northside Dental Studio"] == set()
    assert found["Cedar Dental Group"] == {"inventory.single_link"}  # its Northgate site
    assert found["Maple Pediatrics"] == {"inventory.no_baa"}
    assert found["Greenfield Women's Health"] == {"inventory.dependency_rto_above_mtd", "inventory.no_immutable_copy"}
    # Its unprotected ePHI system also lacks both copies its plan requires.
    assert found["Summit Orthopedics"] == {"inventory.ephi_without_backup", "inventory.no_onsite_copy", "inventory.no_offsite_copy"}
    assert {"inventory.no_offsite_copy", "inventory.backup_not_encrypted", "inventory.single_link",
            "inventory.no_immutable_copy"} <= found["Riverside Physiotherapy"]
    # Harbor's only off-site copy is an unencrypted drive a staff member takes home.
    assert found["Harbor Dermatology"] == {"inventory.backup_not_encrypted", "inventory.single_link", "inventory.no_immutable_copy"}
    assert "inventory.ephi_without_backup" in found["Willow Creek Chiropractic"]


async def test_the_sql_and_python_definitions_of_an_offsite_copy_agree_for_every_location(db, tenant):
    from sqlalchemy import text

    from services.core.inventory.copies import OFFSITE_SQL, is_offsite
    from services.core.inventory.models import BackupLocation

    async with db.transaction(Scope(tenant.msp_id)) as s:
        for location in BackupLocation:
            in_sql = await s.scalar(text(f"SELECT {OFFSITE_SQL} FROM (SELECT CAST(:loc AS text) AS location) j"), {"loc": location.value})
            assert in_sql is is_offsite(location.value), location
    assert [loc.value for loc in BackupLocation if is_offsite(loc.value)] == ["offsite", "cloud"]
