"""The MSP portfolio: every practice the caller may see, ranked by readiness and open incidents."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from services.api.deps import DbSession, MspReader
from services.core.base import utcnow
from services.core.readiness.portfolio import SORTS, PortfolioQuery, portfolio
from services.core.readiness.schemas import PortfolioPage

router = APIRouter(prefix="/api/v1/portfolio", tags=["portfolio"])

# Built from SORTS at run time, so the sort names are written once; mypy cannot evaluate it, hence Any.
SortName: Any = Literal[tuple(SORTS)]


@router.get("", operation_id="get_portfolio", response_model=PortfolioPage)
async def get_portfolio(
    principal: MspReader,
    db: DbSession,
    sort: Annotated[SortName, Query(description="score (worst first), -score, name, -name, open_incidents (most urgent "
                                                "first) or -open_incidents")] = "score",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000, description="next_cursor of the previous page")] = None,
    status: Annotated[list[Literal["ready", "at_risk", "not_ready"]], Query(max_length=3)] = [],  # noqa: B006
    has_critical: Annotated[bool | None, Query(description="only practices with (true) or without (false) an open "
                                                           "critical incident")] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=200, description="search in practice names")] = None,
    include_inactive: bool = False,
):
    """Every practice the caller may see, with score, status, open incidents and a 30-day trend; worst first."""
    query = PortfolioQuery(sort=sort, limit=limit, cursor=cursor, statuses=tuple(status), has_critical=has_critical,
                           kind=kind, q=q or None, include_inactive=include_inactive)
    return await portfolio(db, principal.msp_id, principal.visible_practices, query, utcnow())
