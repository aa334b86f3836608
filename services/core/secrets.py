"""Secrets we hand out (tokens, credentials) and secrets we must keep (TOTP seeds).

Handed-out secrets are stored only as an HMAC-SHA256 keyed with the server secret, so a copy of the
database alone cannot be used to forge a lookup. Kept secrets are encrypted with AES-GCM under a key
derived from the same server secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets as _secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.core.settings import get_settings


def new_token(prefix: str, nbytes: int = 32) -> str:
    """A fresh secret with a readable prefix (`swa_` agent, `swt_` API token…); ≥ 256 random bits."""
    return f"{prefix}_{_secrets.token_urlsafe(nbytes)}"


def _key(purpose: bytes) -> bytes:
    secret = get_settings().secret_key.get_secret_value().encode()
    return hmac.new(secret, b"seawall:" + purpose, hashlib.sha256).digest()


def hash_token(token: str) -> bytes:
    """Keyed hash used to store and look up a handed-out secret."""
    return hmac.new(_key(b"token-hash"), token.encode(), hashlib.sha256).digest()


def tokens_equal(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


def encrypt(plaintext: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_key(b"encryption")).encrypt(nonce, plaintext.encode(), None)


def decrypt(blob: bytes) -> str:
    return AESGCM(_key(b"encryption")).decrypt(blob[:12], blob[12:], None).decode()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")
