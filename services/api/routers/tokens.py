"""Personal API tokens of the signed-in user, for scripts: shown once, stored hashed, revocable."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from services.api.deps import CurrentPrincipal, DbSession, actor_of
from services.core.errors import Forbidden, Unauthorized
from services.core.identity.models import ApiToken, User
from services.core.identity.principal import Principal
from services.core.identity.service import create_api_token, revoke_api_token

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120, description="What the token is for, e.g. `nightly report script`")
    read_only: bool = Field(default=False, description="A read-only token can read but never change anything")


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The first characters of the secret, to recognise it")
    read_only: bool
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="The secret, shown this once: send it as `Authorization: Bearer …`")


def _signed_in_user(principal: Principal, action: str) -> None:
    if principal.kind != "user":
        # A token that could mint or manage tokens would let a stolen one outlive its revocation.
        raise Forbidden(f"API tokens cannot {action} tokens; sign in to the web app to do this.")
    if principal.read_only:
        raise Forbidden("This session is read-only.")


@router.get("", operation_id="list_tokens", response_model=list[TokenOut])
async def list_tokens(principal: CurrentPrincipal, db: DbSession) -> list[ApiToken]:
    """Your API tokens in this MSP (never their secrets), newest first."""
    return list(await db.scalars(select(ApiToken).where(ApiToken.msp_id == principal.msp_id, ApiToken.user_id == principal.user_id)
                                 .order_by(ApiToken.created_at.desc())))


@router.post("", operation_id="create_token", response_model=NewTokenOut, status_code=201,
             responses={403: {"description": "Called with an API token: tokens cannot create tokens"}})
async def create_token(body: TokenIn, principal: CurrentPrincipal, db: DbSession) -> NewTokenOut:
    """Create a token acting with your rights in this MSP; the secret is in this response only."""
    _signed_in_user(principal, "create")
    user = await db.get(User, principal.user_id)
    if user is None:  # the account was deleted since this request signed in
        raise Unauthorized("Your session has ended; sign in again.")
    token, secret = await create_api_token(db, principal.msp_id, user, body.name, body.read_only, actor_of(principal))
    return NewTokenOut(**TokenOut.model_validate(token).model_dump(), token=secret)


@router.delete("/{token_id}", operation_id="revoke_token", status_code=204)
async def revoke_token(token_id: uuid.UUID, principal: CurrentPrincipal, db: DbSession) -> Response:
    """Revoke one of your tokens; it stops working on its next request."""
    if principal.read_only:
        raise Forbidden("A read-only token cannot revoke tokens.")
    await revoke_api_token(db, principal.msp_id, token_id, principal.user_id, actor_of(principal))
    return Response(status_code=204)
