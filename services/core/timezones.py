"""Time zones as the API accepts them: IANA names only (zoneinfo), refused at the schema with the field named."""

from __future__ import annotations

from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from pydantic import AfterValidator, Field


@cache
def iana_names() -> frozenset[str]:
    # "localtime" is the server's own zone file where the system keeps one, not an IANA name.
    return frozenset(available_timezones() - {"localtime"})


def _iana(name: str) -> str:
    if name not in iana_names():
        raise ValueError("is not an IANA time zone name, such as America/New_York or Europe/London")
    return name


TimeZoneName = Annotated[str, Field(min_length=1, max_length=64, description="An IANA time zone name, such as America/New_York"),
                        AfterValidator(_iana)]
