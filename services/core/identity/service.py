"""Creating people and their access: users, memberships, API tokens."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import secret_index
from services.core.audit.service import Actor, record
from services.core.base import utcnow
from services.core.db import Scope, set_scope
from services.core.errors import Conflict, NotFound
from services.core.identity.models import ApiToken, Membership, Role, User
from services.core.identity.passwords import hash_password
from services.core.practices.models import Msp
from services.core.secrets import new_token


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "msp"


async def find_user(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(func.lower(User.email) == email.lower()))


async def get_or_create_user(session: AsyncSession, email: str, name: str = "", password: str | None = None) -> User:
    user = await find_user(session, email)
    if user is None:
        user = User(email=email.strip(), name=name, password_hash=hash_password(password) if password else None)
        session.add(user)
        await session.flush()
    return user


async def create_msp(session: AsyncSession, name: str, owner_email: str, owner_name: str = "", owner_password: str | None = None,
                     actor: Actor | None = None) -> tuple[Msp, User]:
    """A new tenant with its first owner (who must then set up MFA)."""
    msp_id = uuid.uuid4()
    await set_scope(session, Scope(msp_id))
    slug = slugify(name)
    if await session.scalar(select(func.count()).select_from(Msp).where(Msp.slug == slug)):
        slug = f"{slug}-{msp_id.hex[:6]}"
    msp = Msp(id=msp_id, name=name, slug=slug)
    session.add(msp)
    await session.flush()
    owner = await get_or_create_user(session, owner_email, owner_name, owner_password)
    session.add(Membership(msp_id=msp_id, user_id=owner.id, role=Role.msp_owner.value))
    await session.flush()
    await record(session, msp_id=msp_id, actor=actor or Actor("system", label="seawall admin"), action="msp.created",
                 object_type="msp", object_id=msp_id, changes={"name": name, "owner": owner_email})
    return msp, owner


async def add_membership(session: AsyncSession, msp_id: uuid.UUID, user: User, role: Role, practice_id: uuid.UUID | None = None,
                         all_practices: bool = True) -> Membership:
    if role.is_msp_role != (practice_id is None):
        raise Conflict("MSP roles apply to the whole MSP; practice roles need a practice.")
    m = Membership(msp_id=msp_id, user_id=user.id, role=role.value, practice_id=practice_id, all_practices=all_practices)
    session.add(m)
    await session.flush()
    return m


async def create_api_token(session: AsyncSession, msp_id: uuid.UUID, user: User, name: str, read_only: bool, actor: Actor) -> tuple[ApiToken, str]:
    """A personal token; the secret is returned once and only its keyed hash is kept."""
    secret = new_token("swt")
    token = ApiToken(msp_id=msp_id, user_id=user.id, name=name, prefix=secret[:10], read_only=read_only, token_hash=b"")
    session.add(token)
    await session.flush()
    token.token_hash = await secret_index.register(session, secret, "api_token", msp_id, token.id)
    await record(session, msp_id=msp_id, actor=actor, action="api_token.created", object_type="api_token", object_id=token.id,
                 changes={"name": name, "read_only": read_only, "user": user.email})
    return token, secret


async def revoke_api_token(session: AsyncSession, msp_id: uuid.UUID, token_id: uuid.UUID, user_id: uuid.UUID | None, actor: Actor) -> ApiToken:
    q = select(ApiToken).where(ApiToken.msp_id == msp_id, ApiToken.id == token_id)
    if user_id is not None:
        q = q.where(ApiToken.user_id == user_id)
    token = await session.scalar(q)
    if token is None:
        raise NotFound("No such API token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await secret_index.forget(session, "api_token", token.id)
        await record(session, msp_id=msp_id, actor=actor, action="api_token.revoked", object_type="api_token", object_id=token.id)
    return token
