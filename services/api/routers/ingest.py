"""POST /api/v1/ingest — the agents' telemetry, validated and durably recorded, never processed here.

The route takes the raw Request instead of a pydantic body so that it can bound the body while
reading it (FastAPI would buffer and parse any size) and skip dependencies it does not need.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.core import ratelimit
from services.core.settings import get_settings
from services.core.telemetry import ingest
from services.core.telemetry.events import IngestBatch, IngestResult

router = APIRouter(tags=["telemetry"])


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """The batch's JSON schema with its $defs inlined, for the OpenAPI document."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(dict(defs[node["$ref"].rsplit("/", 1)[-1]]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


_PROBLEMS = {status: {"description": words, "content": {"application/problem+json": {}}} for status, words in (
    (401, "Missing, unknown or revoked agent credential"), (413, "Body over 1 MiB, or over 8 MiB decompressed"),
    (415, "Content-Encoding other than gzip"), (422, "An event is invalid; nothing was stored"),
    (429, "Rate limit; retry after Retry-After seconds"))}


@router.post("/api/v1/ingest", operation_id="ingest_events", status_code=202, response_model=IngestResult, responses=_PROBLEMS,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": _inline(IngestBatch.model_json_schema())}}}})
async def ingest_events(request: Request) -> Response:
    """Record a batch of agent events (at most 1,000; gzip allowed); duplicates by event id are ignored."""
    database = request.app.state.db
    identity = await ingest.identify_agent(database, ingest.bearer_credential(request.headers.get("authorization", "")))
    await ratelimit.hit(get_settings().ingest_rate_limit, "ingest", str(identity.agent_id))
    body = await ingest.read_body(request.headers, request.stream())
    result = await ingest.ingest(database, identity, body)
    return Response(result.model_dump_json(), status_code=202, media_type="application/json")
