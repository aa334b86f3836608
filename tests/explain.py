"""Walking an EXPLAIN (FORMAT JSON) plan, for tests that check how a hot statement is planned."""

from __future__ import annotations

from collections.abc import Iterator


def plan_nodes(node: dict, subplans: bool = True) -> Iterator[dict]:
    """The node and every node below it; without `subplans`, not into InitPlans and SubPlans."""
    yield node
    for child in node.get("Plans", []):
        if subplans or child.get("Parent Relationship") not in ("InitPlan", "SubPlan"):
            yield from plan_nodes(child, subplans)
