"""Password hashing (argon2id through pwdlib) and the minimum a password must be."""

from __future__ import annotations

from pwdlib import PasswordHash

from services.core.errors import FieldError, ValidationFailed

_hasher = PasswordHash.recommended()
# Verifying against this keeps the time of a login for an unknown email the same as for a known one.
_DUMMY_HASH = _hasher.hash("seawall-timing-equaliser")

MIN_LENGTH = 12


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


def check_strength(password: str, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"The password must have at least {MIN_LENGTH} characters.",
                               errors=[FieldError(field, f"must have at least {MIN_LENGTH} characters")])
    if len(password) > 1024:
        raise ValidationFailed("The password is too long.", errors=[FieldError(field, "must have at most 1024 characters")])
