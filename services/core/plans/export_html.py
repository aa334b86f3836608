"""The binder as one self-contained HTML file: inline CSS, no scripts, nothing fetched from anywhere.

It is what a practice keeps on a laptop or a USB stick for the day the internet is gone, so it must
open with no network at all. Plan text is escaped (autoescape), so nothing typed into a section can
add a tag, a script or a link to the file.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.core.plans.binder import Binder

TEMPLATES = Path(__file__).parent / "templates"


def _day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(timezone.utc).date()
    return f"{value:%B} {value.day}, {value.year}"


def _moment(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["j2", "html"], default=True),
                      undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False)
    env.filters["day"] = _day
    env.filters["moment"] = _moment
    return env


def render_html(binder: Binder) -> str:
    return environment().get_template("binder.html.j2").render(b=binder)
