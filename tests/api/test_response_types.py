"""Every JSON response field has a type in the OpenAPI document, so nothing the server returns can
leave as an untyped value (a database decimal serialised as "100.0000000000000000", for one)."""

from __future__ import annotations

from typing import Any

from services.api.app import create_app

# Free-form on purpose, each for a reason a type cannot hold:
FREE_FORM = {
    # The before/after of whatever object the event is about: its shape is that object's, for every
    # kind of object the audit log records, and it must read back exactly as it was hashed.
    "AuditEventOut.changes",
    # What a timeline entry carries depends on its kind (a note, a suppression naming a window, a
    # grouping under an outage…); it is stored as JSON and read back as such, never from SQL numerics.
    "IncidentEventOut.data",
}


def untyped_response_fields(doc: dict[str, Any]) -> list[str]:
    """Paths to JSON response properties without a type, or with a free-form object or array."""
    schemas = doc["components"]["schemas"]
    found: list[str] = []
    seen: set[str] = set()

    def walk(s: dict[str, Any], path: str) -> None:
        if "$ref" in s:
            name = s["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                walk(schemas[name], name)
            return
        for key in ("anyOf", "oneOf", "allOf"):
            if key in s:
                for sub in s[key]:
                    walk(sub, path)
                return
        kind = s.get("type")
        if kind is None and "enum" not in s and "const" not in s:
            found.append(f"{path}: no type")
        elif kind == "object":
            extra = s.get("additionalProperties")
            if "properties" not in s and not (isinstance(extra, dict) and extra):
                found.append(f"{path}: free-form object")
            for name, prop in s.get("properties", {}).items():
                walk(prop, f"{path}.{name}")
            if isinstance(extra, dict) and extra:
                walk(extra, f"{path}.*")
        elif kind == "array":
            if not s.get("items"):
                found.append(f"{path}: array of anything")
            else:
                walk(s["items"], f"{path}[]")

    for route, operations in doc["paths"].items():
        for method, op in operations.items():
            for status, response in op.get("responses", {}).items():
                for media_type, content in (response.get("content") or {}).items():
                    if "json" in media_type and "schema" in content:
                        walk(content["schema"], f"{method.upper()} {route} {status}")
    return found


def test_every_json_response_field_has_a_type():
    found = untyped_response_fields(create_app().openapi())
    unexpected = [f for f in found if f.split(":")[0] not in FREE_FORM]
    assert unexpected == [], "type these response fields (or justify them in FREE_FORM):\n" + "\n".join(unexpected)


def test_the_allow_list_names_only_fields_that_are_still_free_form():
    found = {f.split(":")[0] for f in untyped_response_fields(create_app().openapi())}
    assert FREE_FORM <= found, f"no longer free-form, take them off the list: {sorted(FREE_FORM - found)}"


def test_the_walk_finds_an_untyped_field():
    doc = {"paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/X"}}}}}}}},
        "components": {"schemas": {"X": {"type": "object", "properties": {
            "free": {"type": "object", "additionalProperties": True}, "anything": {},
            "rows": {"type": "array", "items": {"type": "object"}}, "ok": {"type": "number"}}}}}}
    assert untyped_response_fields(doc) == ["X.free: free-form object", "X.anything: no type", "X.rows[]: free-form object"]
