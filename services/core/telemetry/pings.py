"""Healthchecks-compatible pings: one secret URL per backup job, each ping one inbox row.

Any tool that already reports to Healthchecks (borgmatic, cron wrappers, restic scripts) reports
to Seawall by changing one URL. Healthchecks does not deduplicate pings, so each ping gets a
server-generated event id and counts once.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import secret_index
from services.core.audit.service import Actor, record
from services.core.base import utcnow
from services.core.db import Database, Scope, set_scope
from services.core.errors import DomainError, FieldError, NotFound
from services.core.inventory.models import BackupJob
from services.core.secrets import decrypt, encrypt, hash_token, new_token
from services.core.settings import get_settings
from services.core.telemetry.inbox import Row, Submission, writer_for
from services.core.telemetry.models_ingest import PingKey
from services.core.telemetry.models_pings import PING_LOG_LIMIT
from services.core.telemetry.schemas_ingest import PingUrlOut

SECRET_KIND = "ping"
KEY_PREFIX = "swp"
MAX_BODY = PING_LOG_LIMIT  # of a ping's body, the first this many bytes are kept (as Healthchecks does)
SIGNALS = ("start", "fail", "log")
# Healthchecks takes a run id only as a UUID (and answers 400 otherwise); kept lower-case, so the
# start and the finish of one run pair however the tool spells it.
_RID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
IDENTITY_TTL = 600.0  # a key's job never changes; whether the key is current is checked per ping


# --- the URL, for people ------------------------------------------------------------------------

def ping_url(key: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/ping/{key}"


async def get_backup_job(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, job_id: uuid.UUID) -> BackupJob:
    job = await session.scalar(select(BackupJob).where(BackupJob.msp_id == msp_id, BackupJob.practice_id == practice_id,
                                                       BackupJob.id == job_id))
    if job is None:
        raise NotFound("No such backup job in this practice.")
    return job


def _out(row: PingKey, key: str) -> PingUrlOut:
    return PingUrlOut(backup_job_id=row.backup_job_id, url=ping_url(key), created_at=row.created_at, rotated_at=row.rotated_at)


async def _new_key(session: AsyncSession, job: BackupJob) -> tuple[str, bytes]:
    key = new_token(KEY_PREFIX, 24)
    digest = await secret_index.register(session, key, SECRET_KIND, job.msp_id, job.id)
    return key, digest


async def get_or_create_url(session: AsyncSession, job: BackupJob, actor: Actor) -> PingUrlOut:
    row = await session.scalar(select(PingKey).where(PingKey.msp_id == job.msp_id, PingKey.backup_job_id == job.id))
    if row is not None:
        return _out(row, decrypt(row.key_encrypted))
    key, digest = await _new_key(session, job)
    row = PingKey(msp_id=job.msp_id, practice_id=job.practice_id, backup_job_id=job.id, key_hash=digest, key_encrypted=encrypt(key),
                  created_at=utcnow())
    session.add(row)
    await session.flush()
    await record(session, msp_id=job.msp_id, actor=actor, action="ping_key.created", object_type="backup_job", object_id=job.id,
                 practice_id=job.practice_id)
    return _out(row, key)


async def rotate_url(session: AsyncSession, job: BackupJob, actor: Actor) -> PingUrlOut:
    """A new URL; the old one stops working at once (as Healthchecks does), so rotate after a leak."""
    row = await session.scalar(select(PingKey).where(PingKey.msp_id == job.msp_id, PingKey.backup_job_id == job.id))
    if row is None:
        return await get_or_create_url(session, job, actor)
    await secret_index.forget(session, SECRET_KIND, job.id)
    key, digest = await _new_key(session, job)
    row.key_hash, row.key_encrypted, row.rotated_at = digest, encrypt(key), utcnow()
    await session.flush()
    await record(session, msp_id=job.msp_id, actor=actor, action="ping_key.rotated", object_type="backup_job", object_id=job.id,
                 practice_id=job.practice_id)
    return _out(row, key)


# --- the pings, from tools ----------------------------------------------------------------------

@dataclass(frozen=True)
class PingTarget:
    msp_id: uuid.UUID
    job_id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID | None
    key_hash: bytes


_targets: dict[bytes, tuple[float, PingTarget]] = {}


async def find_target(database: Database, key: str) -> PingTarget | None:
    """The backup job behind a key. Whether the key is still current is checked when the ping is stored."""
    digest = hash_token(key)
    hit = _targets.get(digest)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    async with database.transaction() as session:
        entry = await secret_index.lookup(session, key, SECRET_KIND)
        if entry is None:
            return None
        await set_scope(session, Scope(entry.tenant))
        row = (await session.execute(text("SELECT practice_id, site_id FROM backup_job WHERE msp_id = :m AND id = :j"),
                                     {"m": entry.tenant, "j": entry.object_id})).first()
    if row is None:
        return None
    target = PingTarget(entry.tenant, entry.object_id, row[0], row[1], digest)
    if len(_targets) > 50_000:
        _targets.clear()
    _targets[digest] = (time.monotonic() + IDENTITY_TTL, target)
    return target


class UnknownPingKey(NotFound):
    def __init__(self) -> None:
        super().__init__("No backup job has this ping key; copy the job's current ping URL from Seawall.")


class UnknownSignal(NotFound):
    def __init__(self) -> None:
        super().__init__("A ping URL ends with the key, /start, /fail, /log or an exit code from 0 to 255.")


class InvalidRunId(DomainError):
    status, code, title = 400, "invalid-run-id", "Invalid run id"

    def __init__(self) -> None:
        super().__init__("The run id (rid) must be a UUID, such as 3f1c2a8e-0000-4000-8000-000000000001.",
                         errors=[FieldError("rid", "is not a UUID", {"in": "query"})])


def parse_signal(signal: str | None) -> tuple[str, int | None]:
    """(kind, exit code) for the URL's last segment; UnknownSignal when it is not a Healthchecks signal."""
    if signal is None:
        return "success", None
    if signal in SIGNALS:
        return signal, None
    if signal.isascii() and signal.isdigit() and len(signal) <= 3 and int(signal) <= 255:
        code = int(signal)
        return ("success" if code == 0 else "fail"), code
    raise UnknownSignal()


def parse_rid(rid: str | None) -> str | None:
    """The run id in its canonical (lower-case) form; InvalidRunId when it is given and not a UUID."""
    if rid is None:
        return None
    if not _RID.fullmatch(rid):
        raise InvalidRunId()
    return rid.lower()


async def record_ping(database: Database, target: PingTarget, kind: str, exit_code: int | None, rid: str | None, body: str,
                      user_agent: str, remote_addr: str | None) -> bool:
    """Store one ping; False when the key was rotated away meanwhile."""
    payload: dict[str, object] = {"job_id": str(target.job_id), "kind": kind, "body": body, "user_agent": user_agent[:300]}
    if exit_code is not None:
        payload["exit_code"] = exit_code
    if rid:
        payload["rid"] = rid
    if remote_addr:
        payload["remote_addr"] = remote_addr
    row = Row(uuid.uuid4().hex, "ping", utcnow(), payload)
    outcome = await writer_for(database).submit(Submission(
        "ping", target.msp_id, target.practice_id, target.site_id, target.job_id, target.key_hash, [row]))
    if not outcome.authorised:
        _targets.pop(target.key_hash, None)
    return outcome.authorised
