"""The OpenAPI document the web app's client is generated from is the server's, as committed."""

import json

from services.api.app import create_app
from services.core.settings import PROJECT_ROOT


def test_the_committed_openapi_document_matches_the_server():
    committed = json.loads((PROJECT_ROOT / "frontend" / "openapi.json").read_text())
    current = json.loads(json.dumps(create_app().openapi(), sort_keys=True))
    assert committed == current, "frontend/openapi.json is stale: run `make openapi` and commit the result"


def test_operation_ids_are_unique_snake_case_and_documented():
    spec = create_app().openapi()
    seen = set()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            oid = op["operationId"]
            assert oid == oid.lower() and " " not in oid, oid
            assert oid not in seen, oid
            seen.add(oid)
            assert op.get("summary") or op.get("description"), f"{method.upper()} {path} has no docstring"
