"""POST /api/v1/ingest: read a bounded body, validate every event, resolve what it names, record.

The tenant, practice and site come from the credential only. A batch with any invalid event is
refused whole, so an agent never has to guess which of its events were kept. The request path
opens no transaction of its own: identities and inventory names are read through short caches
and the rows go to the inbox writer (inbox.py), which re-checks the credential in the
transaction that stores them.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import text

from services.core import ratelimit, secret_index
from services.core.audit.service import Actor, record
from services.core.db import Database, Scope, set_scope
from services.core.errors import DomainError, FieldError, PayloadTooLarge, Unauthorized, ValidationFailed, validation_message
from services.core.json_limits import check_depth, check_media_type
from services.core.secrets import hash_token
from services.core.settings import get_settings
from services.core.telemetry import refusals
from services.core.telemetry.events import REFERENCES, IngestBatch, IngestResult, outside_window, payload_of
from services.core.telemetry.inbox import Row, Submission, writer_for
from services.core.telemetry.site_scope import JOBS_OF_SITE, LINKS_OF_SITE, SYSTEMS_OF_SITE, WORDS

MAX_BODY = 1024 * 1024  # as sent (compressed or not)
MAX_DECOMPRESSED = 8 * 1024 * 1024
MAX_REPORTED_ERRORS = 50
IDENTITY_TTL = 600.0  # the facts cached never change for an agent; validity is checked per request
REFERENCE_TTL = 5.0


class UnsupportedEncoding(DomainError):
    status, code, title = 415, "unsupported-encoding", "Unsupported content encoding"


class RefusedReferences(ValidationFailed):
    """Events name jobs, systems or links the agent may not report on; `foreign` lists those that exist elsewhere in the MSP."""

    def __init__(self, detail: str, *, errors: list[FieldError], foreign: list[dict[str, Any]]):
        super().__init__(detail, errors=errors)
        self.foreign = foreign


# --- the body ---------------------------------------------------------------------------------

async def read_body(headers: Any, stream: AsyncIterator[bytes], limit: int = MAX_BODY,
                    decompressed_limit: int = MAX_DECOMPRESSED) -> bytes:
    """The request body, refused with 413 as soon as it passes a limit (never buffered unbounded)."""
    check_media_type(headers.get("content-type", ""))
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is larger than {limit // 1024} KiB; send fewer events per request.")
    chunks, size = [], 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body is larger than {limit // 1024} KiB; send fewer events per request.")
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise UnsupportedEncoding("Send the body as is or with Content-Encoding: gzip.",
                                  errors=[FieldError("content-encoding", f"'{encoding[:40]}' is not gzip or identity")])
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(body, decompressed_limit + 1)
    except zlib.error as exc:
        raise ValidationFailed("The body is not valid gzip.", errors=[FieldError("body", "is not valid gzip")]) from exc
    if len(plain) > decompressed_limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"The body is larger than {decompressed_limit // (1024 * 1024)} MiB once decompressed.")
    if not inflater.eof:
        raise ValidationFailed("The gzip body is truncated.", errors=[FieldError("body", "gzip stream ends early")])
    return plain


# --- validation -------------------------------------------------------------------------------

_MESSAGES = {"extra_forbidden": "is not a field of this event type", "missing": "is required",
             "union_tag_invalid": "is not a known event type", "union_tag_not_found": "is required"}


def _event_ids(body: bytes) -> list[Any]:
    try:
        events = json.loads(body).get("events")
    except (ValueError, AttributeError):
        return []
    return [e.get("id") if isinstance(e, dict) else None for e in events] if isinstance(events, list) else []


def batch_errors(exc: ValidationError, body: bytes) -> list[FieldError]:
    """pydantic's errors as the protocol's errors[]: event_index, event_id, field, message."""
    ids = _event_ids(body)
    out: list[FieldError] = []
    for err in exc.errors()[:MAX_REPORTED_ERRORS]:
        loc, kind = tuple(err["loc"]), err["type"]
        message = _MESSAGES.get(kind) or validation_message(err)
        if kind == "json_invalid":
            out.append(FieldError("body", f"is not valid JSON: {err['msg']}"))
        elif len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
            rest = [str(p) for p in loc[2:]]
            if rest and rest[0] in REFERENCES:
                rest = rest[1:]
            field = ".".join(rest) or ("type" if kind.startswith("union_tag") else "job")
            index = loc[1]
            out.append(FieldError(field, message, {"event_index": index, "event_id": ids[index] if index < len(ids) else None}))
        else:
            out.append(FieldError(".".join(str(p) for p in loc) or "body", message))
    return out


def parse_batch(body: bytes) -> IngestBatch:
    check_depth(body)  # before any parser: json.loads below (_event_ids) recurses per level
    try:
        batch = IngestBatch.model_validate_json(body)
    except ValidationError as exc:
        errors = batch_errors(exc, body)
        raise ValidationFailed(_summary(errors), errors=errors) from exc
    if b"\\u0000" in body:  # cheap: NUL can only arrive escaped, as JSON forbids raw control characters
        nul = [FieldError(name, "must not contain the NUL character",
                          {"event_index": index, "event_id": None if name == "id" else event.id})
               for index, event in enumerate(batch.events) for name, value in event.__dict__.items()
               if isinstance(value, str) and "\x00" in value]
        if nul:
            raise ValidationFailed(_summary(nul[:MAX_REPORTED_ERRORS]), errors=nul[:MAX_REPORTED_ERRORS])
    late = outside_window(batch.events)
    if late:
        errors = [FieldError("occurred_at", why, {"event_index": index, "event_id": event_id})
                  for index, event_id, why in late[:MAX_REPORTED_ERRORS]]
        raise ValidationFailed(_summary(errors), errors=errors)
    return batch


def _summary(errors: list[FieldError]) -> str:
    first = errors[0]
    where = f"event {first.extra['event_index']} ({first.extra.get('event_id')}), " if first.extra else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"Nothing was stored: {where}{first.field} {first.message}{more}."


# --- who is calling ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AgentIdentity:
    msp_id: uuid.UUID
    agent_id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID
    credential_hash: bytes


_identities: dict[bytes, tuple[float, AgentIdentity]] = {}


def bearer_credential(authorization: str) -> str:
    if not authorization.lower().startswith("bearer ") or not authorization[7:].strip().startswith("swa_"):
        raise Unauthorized("Send the agent credential: Authorization: Bearer swa_…")
    return authorization[7:].strip()


async def identify_agent(database: Database, credential: str) -> AgentIdentity:
    """Who the credential belongs to. Whether it is still valid is decided where the rows are stored."""
    digest = hash_token(credential)
    hit = _identities.get(digest)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    async with database.transaction() as session:
        entry = await secret_index.lookup(session, credential, "agent")
        row = None
        if entry is not None:
            await set_scope(session, Scope(entry.tenant))
            row = (await session.execute(text(
                "SELECT practice_id, site_id FROM agent WHERE msp_id = :m AND id = :a AND revoked_at IS NULL"),
                {"m": entry.tenant, "a": entry.object_id})).first()
    if entry is None or row is None:
        _identities.pop(digest, None)
        raise Unauthorized("The agent credential is not valid or has been revoked.")
    identity = AgentIdentity(entry.tenant, entry.object_id, row[0], row[1], digest)
    if len(_identities) > 50_000:
        _identities.clear()
    _identities[digest] = (time.monotonic() + IDENTITY_TTL, identity)
    return identity


def forget_identity(identity: AgentIdentity) -> None:
    _identities.pop(identity.credential_hash, None)


async def still_valid(database: Database, identity: AgentIdentity) -> bool:
    async with database.transaction(Scope(identity.msp_id)) as session:
        return bool(await session.scalar(text(
            "SELECT 1 FROM agent WHERE msp_id = :m AND id = :a AND revoked_at IS NULL AND (credential_hash = :h"
            " OR (previous_credential_hash = :h AND previous_valid_until > now()))"),
            {"m": identity.msp_id, "a": identity.agent_id, "h": identity.credential_hash}))


# --- what the events name ---------------------------------------------------------------------

@dataclass
class Inventory:
    """The agent's site's jobs, links and systems (site_scope.py): name → id and id → id."""

    by_kind: dict[str, dict[str, str]]
    loaded_at: float

    def find(self, kind: str, ref: str) -> str | None:
        return self.by_kind[kind].get(ref)


_inventories: dict[tuple[uuid.UUID, uuid.UUID], Inventory] = {}

_inventories_loading: dict[tuple[uuid.UUID, uuid.UUID], asyncio.Future] = {}

# ids as text: the cache maps strings to strings, and UUID objects would be built only to be printed.
_INVENTORY = text(
    f"SELECT 'job', id::text, name FROM ({JOBS_OF_SITE}) j"
    f" UNION ALL SELECT 'system', id::text, name FROM ({SYSTEMS_OF_SITE}) y"
    f" UNION ALL SELECT 'link', id::text, name FROM ({LINKS_OF_SITE}) l"
)


async def _load_inventory(database: Database, identity: AgentIdentity) -> Inventory:
    async with database.transaction(Scope(identity.msp_id, frozenset({identity.practice_id}))) as session:
        rows = (await session.execute(_INVENTORY, {"m": identity.msp_id, "p": identity.practice_id, "s": identity.site_id})).all()
    by_kind: dict[str, dict[str, str]] = {"job": {}, "system": {}, "link": {}}
    for kind, object_id, name in rows:
        by_kind[kind][name] = object_id
    for kind, object_id, _ in rows:  # an id wins over a name that happens to look like one
        by_kind[kind][object_id] = object_id
    inventory = Inventory(by_kind, time.monotonic())
    _inventories[(identity.msp_id, identity.site_id)] = inventory
    return inventory


async def inventory_for(database: Database, identity: AgentIdentity, fresh: bool = False) -> Inventory:
    key = (identity.msp_id, identity.site_id)
    cached = _inventories.get(key)
    if not fresh and cached is not None and time.monotonic() - cached.loaded_at < REFERENCE_TTL:
        return cached
    # One load per site at a time: when the cache expires under load, every concurrent request of
    # the site would otherwise read the whole inventory itself. A caller that just missed a name
    # (`fresh`) loads for itself: a load already under way may have begun before that name existed.
    loop = asyncio.get_running_loop()
    loading = _inventories_loading.get(key)
    if not fresh and loading is not None and loading.get_loop() is loop:
        shared = await asyncio.shield(loading)
        if shared is not None:
            return shared
    loading = _inventories_loading[key] = loop.create_future()
    inventory = None
    try:
        inventory = await _load_inventory(database, identity)
        return inventory
    finally:
        loading.set_result(inventory)  # None: the load failed, and each waiter tries its own
        if _inventories_loading.get(key) is loading:
            del _inventories_loading[key]


async def resolve_references(database: Database, identity: AgentIdentity, batch: IngestBatch) -> list[dict[str, str]]:
    """For each event, wire field → resolved id. An unknown name refreshes the cache before it is refused."""
    if not any(REFERENCES[e.type] for e in batch.events):
        return [{} for _ in batch.events]
    inventory = await inventory_for(database, identity)
    for attempt in (0, 1):
        resolved, unknown = [], []
        for index, event in enumerate(batch.events):
            found: dict[str, str] = {}
            for wire, kind, _ in REFERENCES[event.type]:
                ref = getattr(event, wire)
                if ref is None:
                    continue
                object_id = inventory.find(kind, ref)
                if object_id is None:
                    unknown.append((index, event.id, wire, kind, ref))
                else:
                    found[wire] = object_id
            resolved.append(found)
        if not unknown:
            return resolved
        if attempt == 0:
            inventory = await inventory_for(database, identity, fresh=True)
    raise await _refusal(database, identity, unknown)


# Where an id the agent may not name belongs, to tell the agent why and to audit the attempt.
_OWNER = {
    "job": "SELECT practice_id, site_id FROM backup_job WHERE msp_id = :m AND id = :i",
    "system": "SELECT practice_id, NULL FROM system WHERE msp_id = :m AND id = :i",
    "link": "SELECT practice_id, site_id FROM link WHERE msp_id = :m AND id = :i",
}


def _why_not(identity: AgentIdentity, kind: str, practice_id: uuid.UUID, site_id: uuid.UUID | None) -> str:
    word = ("an " if WORDS[kind][0] in "aeiou" else "a ") + WORDS[kind]
    if practice_id != identity.practice_id:
        return f"names {word} of another practice"
    if kind == "system":
        return "names a system that no backup job of this agent's site protects"
    if site_id is None:
        return f"names {word} that is not assigned to any site; choose its site in Seawall first"
    return f"names {word} of another site of this practice"


async def _refusal(database: Database, identity: AgentIdentity, unknown: list[tuple]) -> RefusedReferences:
    """Refuse the batch, telling apart ids that belong to another site or practice of the MSP."""
    errors, foreign = [], []
    async with database.transaction(Scope(identity.msp_id)) as session:
        for index, event_id, wire, kind, ref in unknown[:MAX_REPORTED_ERRORS]:
            owner = None
            try:
                object_id = uuid.UUID(ref)
            except ValueError:
                object_id = None
            if object_id is not None:
                owner = (await session.execute(text(_OWNER[kind]), {"m": identity.msp_id, "i": object_id})).first()
            if owner is not None:
                foreign.append({"event_index": index, "event_id": event_id, "field": wire, "object_type": kind,
                                "object_id": ref, "object_practice_id": str(owner[0]),
                                "object_site_id": str(owner[1]) if owner[1] else None})
                message = _why_not(identity, kind, owner[0], owner[1])
            else:
                message = f"names no {WORDS[kind]} of this agent's site"
            errors.append(FieldError(wire, message, {"event_index": index, "event_id": event_id}))
    return RefusedReferences(_summary(errors), errors=errors, foreign=foreign)


async def _audit_foreign(database: Database, identity: AgentIdentity, foreign: list[dict[str, Any]]) -> None:
    # The batch is refused and nothing of it is stored, but the attempt is evidence: it is recorded
    # in a transaction of its own.
    async with database.transaction(Scope(identity.msp_id)) as session:
        await record(session, msp_id=identity.msp_id, actor=Actor("agent", identity.agent_id, f"agent:{identity.agent_id}"),
                     action="telemetry.foreign_object_refused", object_type="agent", object_id=identity.agent_id,
                     practice_id=identity.practice_id, changes={"refused": foreign})


# --- recording --------------------------------------------------------------------------------

async def receive_batch(database: Database, headers: Any, chunks: AsyncIterator[bytes]) -> IngestResult:
    """One POST /api/v1/ingest, whichever front serves it (services/api/hotpath.py, or the FastAPI route)."""
    identity = await identify_agent(database, bearer_credential(headers.get("authorization", "")))
    await ratelimit.hit(get_settings().ingest_rate_limit, "ingest", str(identity.agent_id))
    body = None
    try:
        body = await read_body(headers, chunks)
        return await ingest(database, identity, body)
    except DomainError as exc:
        # What the agent sent wrong is kept for the MSP to see on the agent's page; a revoked agent
        # (401) or one over its rate (429) is told so, and nothing is kept.
        if exc.status in refusals.KEPT_STATUSES:
            await refusals.record(database, identity.msp_id, identity.practice_id, identity.agent_id, exc, body)
        raise


async def ingest(database: Database, identity: AgentIdentity, body: bytes) -> IngestResult:
    """Validate and durably record one batch; answer how many events were new."""
    try:
        batch = parse_batch(body)
        resolved = await resolve_references(database, identity, batch)
    except ValidationFailed as exc:
        # A revoked agent learns it is revoked, not what was wrong with its events.
        if not await still_valid(database, identity):
            forget_identity(identity)
            raise Unauthorized("The agent credential is not valid or has been revoked.") from None
        if isinstance(exc, RefusedReferences) and exc.foreign:
            await _audit_foreign(database, identity, exc.foreign)
        raise
    rows = [Row(e.id, e.type, e.occurred_at, payload_of(e, refs)) for e, refs in zip(batch.events, resolved)]
    outcome = await writer_for(database).submit(Submission(
        "agent", identity.msp_id, identity.practice_id, identity.site_id, identity.agent_id, identity.credential_hash, rows))
    if not outcome.authorised:
        forget_identity(identity)
        raise Unauthorized("The agent credential is not valid or has been revoked.")
    return IngestResult(accepted=outcome.accepted, duplicates=outcome.duplicates)
