"""POST /api/v1/ingest — the agents' telemetry, validated and durably recorded, never processed here.

In the running app, services/api/hotpath.py answers this path before FastAPI's own stack (it is
most of the traffic); this route documents the operation in the OpenAPI document and serves it
when the app is used without that front. Both call the same ingest.receive_batch.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.core.json_limits import MAX_DEPTH
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


_PROBLEMS: dict[int | str, dict[str, Any]] = {status: {"description": words, "content": {"application/problem+json": {}}} for status, words in (
    (401, "Missing, unknown or revoked agent credential"), (413, "Body over 1 MiB, or over 8 MiB decompressed"),
    (415, "Content-Type other than application/json, or Content-Encoding other than gzip"),
    (422, f"An event is invalid, or the body nests deeper than {MAX_DEPTH} levels; nothing was stored"),
    (429, "Rate limit; retry after Retry-After seconds"))}


@router.post("/api/v1/ingest/", include_in_schema=False, status_code=202)  # curl exits 0 on a redirect: the batch would be lost
@router.post("/api/v1/ingest", operation_id="ingest_events", status_code=202, response_model=IngestResult, responses=_PROBLEMS,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": _inline(IngestBatch.model_json_schema())}}}})
async def ingest_events(request: Request) -> Response:
    """Record a batch of agent events (at most 1,000; gzip allowed); duplicates by event id are ignored."""
    result = await ingest.receive_batch(request.app.state.db, request.headers, request.stream())
    return Response(result.model_dump_json(), status_code=202, media_type="application/json")
