"""An MSP's alerting configuration as one snapshot: policy and every override, maintenance windows,
notification routes and channels — what an evaluation reads besides the facts.

The telemetry worker keeps one snapshot per MSP in memory and reuses it while the MSP's
configuration version stays the same (services/core/config_version.py); the version comes with
the batch (StateChange.config_version), read in the statement that takes the MSP's lock. Every
other caller (the API, one-off evaluations) passes no version and reads the configuration afresh.

The snapshot's ORM objects are detached from any session and only ever read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts import maintenance, policy
from services.core.alerts.models import MaintenanceWindow
from services.core.alerts.outbox import Router
from services.core.base import utcnow
from services.core import config_version
from services.core.config_version import PerMspCache


@dataclass(frozen=True)
class AlertConfig:
    view: policy.PolicyView
    # Weekly windows, and one-off windows that had not ended when loaded: maintenance.active_for
    # decides at each use whether one covers the moment.
    windows: list[MaintenanceWindow]
    router: Router


async def load(session: AsyncSession, msp_id: uuid.UUID, now: datetime | None = None) -> AlertConfig:
    """The MSP's whole alerting configuration, read now."""
    return AlertConfig(await policy.load(session, msp_id, None),
                       await maintenance.load(session, msp_id, None, now or utcnow()),
                       await Router.load(session, msp_id))


CACHE: PerMspCache[AlertConfig] = PerMspCache(load)


async def current(session: AsyncSession, msp_id: uuid.UUID, version: int | None) -> AlertConfig:
    """The MSP's configuration at `version` (from this process's cache when it holds that version);
    None reads it afresh."""
    return await CACHE.get(session, msp_id, version)


async def current_in(session: AsyncSession, msp_id: uuid.UUID) -> AlertConfig:
    """For a worker transaction that has no batch's version (the periodic passes): reads the
    version, then takes the snapshot at it."""
    return await current(session, msp_id, await config_version.read(session, msp_id))
