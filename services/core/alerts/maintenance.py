"""Maintenance windows: one-off or weekly, for a whole practice or one site.

During a window incidents still open (the timeline stays true) but nobody is notified, and the
incident names the window. When the window ends and the condition is still there, the incident is
notified then (services/core/alerts/incidents.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts.models import MaintenanceWindow
from services.core.errors import FieldError, ValidationFailed

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed("Unknown time zone.", errors=[FieldError("timezone", f"{name!r} is not an IANA time zone")])


def weekday_mask(days: Iterable[str]) -> int:
    mask = 0
    for d in days:
        if d not in WEEKDAYS:
            raise ValidationFailed("Unknown weekday.", errors=[FieldError("weekdays", f"{d!r} is not one of {', '.join(WEEKDAYS)}")])
        mask |= 1 << WEEKDAYS.index(d)
    return mask


def weekday_names(mask: int | None) -> list[str]:
    return [d for i, d in enumerate(WEEKDAYS) if mask and mask & (1 << i)]


def occurrence(w: MaintenanceWindow, now: datetime) -> tuple[datetime, datetime] | None:
    """The occurrence of the window that contains now, if any."""
    # The table's "shape" check guarantees each kind its columns: starts_at and ends_at for one-off
    # windows, weekdays, start_time and duration_minutes for weekly ones.
    if w.kind == "once":
        assert w.starts_at is not None and w.ends_at is not None
        return (w.starts_at, w.ends_at) if w.starts_at <= now < w.ends_at else None
    assert w.start_time is not None
    tz = zone(w.timezone)
    local_today = now.astimezone(tz).date()
    # A weekly window lasts at most a week, so one that covers now started within the last 7 days.
    for back in range(0, 8):
        day = local_today - timedelta(days=back)
        if not (w.weekdays or 0) & (1 << day.weekday()):
            continue
        start = datetime.combine(day, w.start_time, tzinfo=tz)
        end = start + timedelta(minutes=w.duration_minutes or 0)
        if start <= now < end:
            return start, end
    return None


def applies(w: MaintenanceWindow, practice_id: uuid.UUID, site_id: uuid.UUID | None) -> bool:
    return w.practice_id == practice_id and (w.site_id is None or w.site_id == site_id)


def active_for(windows: Iterable[MaintenanceWindow], practice_id: uuid.UUID, site_id: uuid.UUID | None,
               now: datetime) -> tuple[MaintenanceWindow, datetime] | None:
    """The active window covering this practice/site, and when it ends."""
    for w in windows:
        if applies(w, practice_id, site_id) and (occ := occurrence(w, now)):
            return w, occ[1]
    return None


async def load(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Iterable[uuid.UUID] | None,
               now: datetime) -> list[MaintenanceWindow]:
    """The windows of these practices (None: of every practice) that may cover `now` or later:
    weekly ones, and one-off ones not yet ended."""
    where = [MaintenanceWindow.msp_id == msp_id, or_(MaintenanceWindow.kind == "weekly", MaintenanceWindow.ends_at > now)]
    if practice_ids is not None:
        ids = list(practice_ids)
        if not ids:
            return []
        where.append(MaintenanceWindow.practice_id.in_(ids))
    return list((await session.scalars(select(MaintenanceWindow).where(*where))).all())
