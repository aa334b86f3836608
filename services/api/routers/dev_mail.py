"""Development mail: what the local SMTP sink of `seawall run` received (services/core/dev_mail.py).

Mounted only outside production (services/api/app.py), so in production the path does not exist
(404). No sign-in: whoever forgot their password must be able to read the reset email, and the
sink itself accepts mail from anyone on the machine.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from services.core import dev_mail
from services.core.settings import get_settings

router = APIRouter(tags=["development"])


class DevMailMessageOut(BaseModel):
    id: str
    received_at: datetime
    to: str
    subject: str
    text: str
    links: list[str]


class DevMailOut(BaseModel):
    messages: list[DevMailMessageOut]
    kept: int


@router.get("/api/v1/dev/mail", operation_id="list_dev_mail", response_model=DevMailOut)
async def list_dev_mail() -> DevMailOut:
    """Development only: the newest emails the local mail sink received, with their links."""
    # The process-wide settings, as the mail sender (services/core/mail.py) reads: the sink's
    # directory and the mail server it fills are one configuration.
    messages = dev_mail.kept_messages(dev_mail.mail_dir(get_settings()))
    return DevMailOut(messages=[DevMailMessageOut(**m.__dict__) for m in messages], kept=dev_mail.KEEP)
