"""The span of time the API accepts in a date or time it is given (filters, ranges, windows).

Seawall records and plans a practice's continuity in this century: nothing it stores is older than
2000 or planned past 2100. Outside that span a value is a typing slip or a probe, and left through
it would reach Python's date arithmetic (year 1 minus a day, year 9999 plus an offset) or a
PostgreSQL value that cannot be read back (year 0 once converted to UTC). It is refused at the
edge, naming the field. Plans use the same span for their dates (services/core/plans/schemas.py).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
# Included, so that "up to the end of 31 December 2100" can be asked as an exclusive `to`.
END = datetime(2101, 1, 1, tzinfo=timezone.utc)
SPAN_WORDS = "between the years 2000 and 2100"


def within_span(value: datetime) -> datetime:
    """The value unchanged when its UTC instant falls in the span; a naive value is left to the
    caller's own check (it needs a zone before it is an instant)."""
    if value.tzinfo is None:
        return value
    try:
        ok = EARLIEST <= value.astimezone(timezone.utc) <= END
    except OverflowError:  # year 1 east of UTC, or year 9999 west of it
        ok = False
    if not ok:
        # A custom error rather than ValueError: its message reaches errors[].message as written.
        raise PydanticCustomError("outside_span", f"must be {SPAN_WORDS}")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(within_span)]
"""A time with its offset, in the span."""

SpannedDatetime = Annotated[datetime, AfterValidator(within_span)]
"""A time in the span; where the caller reports a missing offset itself, with its own words."""
