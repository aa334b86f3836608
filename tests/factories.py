"""Small factories: each creates what a test needs, committed, inside its own fresh tenant."""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass, field

import httpx
import pyotp

from services.core.base import utcnow
from services.core.db import Database, Scope, set_scope
from services.core.identity.models import Membership, Role, TechnicianAssignment, User
from services.core.identity.passwords import hash_password
from services.core.identity.service import create_api_token, create_msp, get_or_create_user
from services.core.audit.service import SYSTEM
from services.core.practices.models import Practice, Site
from services.core.secrets import encrypt

PASSWORD = "correct horse battery staple"


@functools.cache
def password_hash() -> str:
    """argon2 is slow by design: hash the shared test password once per run, not once per person."""
    return hash_password(PASSWORD)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@dataclass
class Person:
    user_id: uuid.UUID
    email: str
    role: Role
    totp_secret: str | None = None
    password: str = PASSWORD

    def code(self) -> str:
        assert self.totp_secret
        return pyotp.TOTP(self.totp_secret).now()

    def fresh_code(self) -> str:
        """A code of a time step no earlier sign-in in this process used: the server refuses a step
        twice, so two sign-ins of one person within 30 s would otherwise fail on the clock."""
        assert self.totp_secret
        totp = pyotp.TOTP(self.totp_secret)
        step = int(time.time()) // totp.interval
        if _USED_STEPS.get(self.user_id, -1) >= step:
            time.sleep((step + 1) * totp.interval - time.time() + 0.2)
            step = int(time.time()) // totp.interval
        _USED_STEPS[self.user_id] = step
        return totp.at(step * totp.interval)


_USED_STEPS: dict[uuid.UUID, int] = {}  # the newest TOTP step handed out per person (fresh_code)


@dataclass
class Tenant:
    msp_id: uuid.UUID
    practice: Practice  # the "own" practice
    sibling: Practice  # another practice of the same MSP
    site: Site
    sibling_site: Site
    people: dict[str, Person] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Person:
        return self.people[key]


async def create_practice(db: Database, msp_id: uuid.UUID, name: str | None = None, sites: int = 1) -> tuple[Practice, list[Site]]:
    async with db.transaction(Scope(msp_id)) as s:
        p = Practice(msp_id=msp_id, name=name or unique("Practice"))
        s.add(p)
        await s.flush()
        created = []
        for i in range(sites):
            site = Site(msp_id=msp_id, practice_id=p.id, name=f"Site {i + 1}")
            s.add(site)
            created.append(site)
        await s.flush()
        return p, created


async def create_person(db: Database, msp_id: uuid.UUID, role: Role, practice_id: uuid.UUID | None = None,
                        all_practices: bool = True, assigned: list[uuid.UUID] | None = None, mfa: bool | None = None) -> Person:
    email = f"{unique(role.value)}@example.test"
    mfa = role.is_msp_role if mfa is None else mfa
    secret = pyotp.random_base32() if mfa else None
    async with db.transaction(Scope(msp_id)) as s:
        user = await get_or_create_user(s, email, role.value.replace("_", " ").title())
        user.password_hash = password_hash()
        if secret:
            user.mfa_secret_encrypted = encrypt(secret)
            user.mfa_enabled_at = utcnow()
        m = Membership(msp_id=msp_id, user_id=user.id, role=role.value, practice_id=practice_id, all_practices=all_practices)
        s.add(m)
        await s.flush()
        for pid in assigned or []:
            s.add(TechnicianAssignment(msp_id=msp_id, membership_id=m.id, practice_id=pid))
        return Person(user.id, email, role, secret)


async def build_tenant(db: Database) -> Tenant:
    async with db.transaction() as s:
        msp, owner = await create_msp(s, unique("MSP"), f"{unique('owner')}@example.test", "Owner")
        owner.password_hash = password_hash()
        secret = pyotp.random_base32()
        owner.mfa_secret_encrypted = encrypt(secret)
        owner.mfa_enabled_at = utcnow()
        msp_id, owner_person = msp.id, Person(owner.id, owner.email, Role.msp_owner, secret)
    practice, (site,) = await create_practice(db, msp_id)
    sibling, (sibling_site,) = await create_practice(db, msp_id)
    t = Tenant(msp_id, practice, sibling, site, sibling_site, {"msp_owner": owner_person})
    t.people["msp_admin"] = await create_person(db, msp_id, Role.msp_admin)
    t.people["msp_technician"] = await create_person(db, msp_id, Role.msp_technician)
    t.people["assigned_technician"] = await create_person(db, msp_id, Role.msp_technician, all_practices=False, assigned=[practice.id])
    t.people["practice_owner"] = await create_person(db, msp_id, Role.practice_owner, practice.id)
    t.people["practice_staff"] = await create_person(db, msp_id, Role.practice_staff, practice.id)
    return t


async def sign_in(client: httpx.AsyncClient, person: Person) -> str:
    """Sign in through the real API (password, then TOTP when enabled); returns the CSRF token."""
    r = await client.post("/api/v1/auth/login", json={"email": person.email, "password": person.password})
    assert r.status_code == 200, r.text
    body = r.json()
    if body["status"] == "mfa_required":
        r = await client.post("/api/v1/auth/mfa/verify", json={"code": person.code()}, headers={"X-CSRF-Token": body["csrf_token"]})
        assert r.status_code == 200, r.text
    # Completing MFA renews the session and its CSRF token; the web app reads the new one from its cookie.
    csrf = client.cookies.get("seawall_csrf") or body["csrf_token"]
    client.headers["X-CSRF-Token"] = csrf
    return csrf


async def api_token(db: Database, msp_id: uuid.UUID, person: Person, read_only: bool = False) -> str:
    async with db.transaction(Scope(msp_id, frozenset(), person.user_id)) as s:
        user = await s.get(User, person.user_id)
        await set_scope(s, Scope(msp_id, frozenset(), person.user_id))
        _, secret = await create_api_token(s, msp_id, user, "test", read_only, SYSTEM)
        return secret
