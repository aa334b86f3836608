"""The demo MSP, a dozen practices with their sites, and people to sign in as.

Demo users get a known password and a known TOTP secret, printed by `seawall demo`, so that a
newcomer can sign in at once. They exist only where someone ran `seawall demo`, which refuses to
run in production; nothing about them weakens a real deployment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pyotp
from sqlalchemy import select

from services.core.base import utcnow
from services.core.db import Database, Scope, set_scope
from services.core.identity.models import Membership, Role, TechnicianAssignment, User
from services.core.identity.service import create_msp, find_user, get_or_create_user
from services.core.practices.models import Msp, Practice, Site
from services.core.secrets import encrypt

DEMO_MSP = "Harborview IT (demo)"
DEMO_PASSWORD = "seawall-demo-password"
# Fixed base32 secrets for the demo users' authenticator (never used for real accounts).
DEMO_TOTP = {
    "owner@demo.seawall.local": "JBSWY3DPEHPK3PXPOWNERAAA",
    "admin@demo.seawall.local": "JBSWY3DPEHPK3PXPADMINAAA",
    "tech@demo.seawall.local": "JBSWY3DPEHPK3PXPTECHAAAA",
    "junior.tech@demo.seawall.local": "JBSWY3DPEHPK3PXPJUNIORAA",
}

PRACTICES = [
    ("Bayside Family Clinic", "clinic", ["Main office"]),
    ("Cedar Dental Group", "dental", ["Downtown", "Northgate"]),
    ("Riverside Physiotherapy", "physio", ["Clinic"]),
    ("Maple Pediatrics", "clinic", ["Main office"]),
    ("Lakeshore Eye Care", "clinic", ["Main office"]),
    ("Summit Orthopedics", "clinic", ["Main office", "Imaging center"]),
    ("Harbor Dermatology", "clinic", ["Main office"]),
    ("Northside Dental Studio", "dental", ["Studio"]),
    ("Greenfield Women's Health", "clinic", ["Main office"]),
    ("Oakridge Sports Physio", "physio", ["Clinic"]),
    ("Pinecrest Hospital – East Satellite", "satellite", ["Satellite"]),
    ("Willow Creek Chiropractic", "clinic", ["Main office"]),
]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: str
    practice: str | None
    totp_secret: str | None


def demo_logins() -> list[DemoLogin]:
    return [
        DemoLogin("owner@demo.seawall.local", "msp_owner", None, DEMO_TOTP["owner@demo.seawall.local"]),
        DemoLogin("admin@demo.seawall.local", "msp_admin", None, DEMO_TOTP["admin@demo.seawall.local"]),
        DemoLogin("tech@demo.seawall.local", "msp_technician", None, DEMO_TOTP["tech@demo.seawall.local"]),
        DemoLogin("junior.tech@demo.seawall.local", "msp_technician (assigned practices)", None, DEMO_TOTP["junior.tech@demo.seawall.local"]),
        DemoLogin("dr.lee@bayside.demo", "practice_owner", PRACTICES[0][0], None),
        DemoLogin("frontdesk@bayside.demo", "practice_staff", PRACTICES[0][0], None),
        DemoLogin("dr.patel@cedar.demo", "practice_owner", PRACTICES[1][0], None),
    ]


def current_code(email: str) -> str:
    return pyotp.TOTP(DEMO_TOTP[email]).now()


async def demo_msp_id(db: Database) -> uuid.UUID | None:
    async with db.transaction() as s:
        owner = await find_user(s, "owner@demo.seawall.local")
        if owner is None:
            return None
        await set_scope(s, Scope(user_id=owner.id))
        return await s.scalar(select(Msp.id).where(Msp.name == DEMO_MSP))


async def _user(s, email: str, name: str) -> User:
    user = await get_or_create_user(s, email, name, DEMO_PASSWORD)
    if email in DEMO_TOTP and user.mfa_enabled_at is None:
        user.mfa_secret_encrypted = encrypt(DEMO_TOTP[email])
        user.mfa_enabled_at = utcnow()
    return user


async def seed(db: Database) -> uuid.UUID:
    msp_id = await demo_msp_id(db)
    async with db.transaction() as s:
        if msp_id is None:
            msp, _ = await create_msp(s, DEMO_MSP, "owner@demo.seawall.local", "Olivia Owner", DEMO_PASSWORD)
            msp_id = msp.id
        await set_scope(s, Scope(msp_id))
        owner = await _user(s, "owner@demo.seawall.local", "Olivia Owner")
        del owner
        practices: dict[str, Practice] = {p.name: p for p in await s.scalars(select(Practice).where(Practice.msp_id == msp_id))}
        for name, kind, sites in PRACTICES:
            if name not in practices:
                p = Practice(msp_id=msp_id, name=name, kind=kind)
                s.add(p)
                await s.flush()
                practices[name] = p
                for site in sites:
                    s.add(Site(msp_id=msp_id, practice_id=p.id, name=site))
        await s.flush()

        async def member(email: str, name: str, role: Role, practice: str | None = None, all_practices: bool = True) -> Membership:
            user = await _user(s, email, name)
            pid = practices[practice].id if practice else None
            existing = await s.scalar(select(Membership).where(Membership.msp_id == msp_id, Membership.user_id == user.id,
                                                                 Membership.practice_id.is_(None) if pid is None else Membership.practice_id == pid))
            if existing:
                return existing
            m = Membership(msp_id=msp_id, user_id=user.id, role=role.value, practice_id=pid, all_practices=all_practices)
            s.add(m)
            await s.flush()
            return m

        await member("admin@demo.seawall.local", "Aaron Admin", Role.msp_admin)
        await member("tech@demo.seawall.local", "Tess Technician", Role.msp_technician)
        junior = await member("junior.tech@demo.seawall.local", "Jordan Junior", Role.msp_technician, all_practices=False)
        for name in PRACTICES[3][0], PRACTICES[4][0]:
            pid = practices[name].id
            if not await s.get(TechnicianAssignment, (msp_id, junior.id, pid)):
                s.add(TechnicianAssignment(msp_id=msp_id, membership_id=junior.id, practice_id=pid))
        await member("dr.lee@bayside.demo", "Dr. Dana Lee", Role.practice_owner, PRACTICES[0][0])
        await member("frontdesk@bayside.demo", "Frankie Front-Desk", Role.practice_staff, PRACTICES[0][0])
        await member("dr.patel@cedar.demo", "Dr. Priya Patel", Role.practice_owner, PRACTICES[1][0])
    return msp_id
