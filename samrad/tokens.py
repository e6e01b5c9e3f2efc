"""Random single-use tokens and keyed digests. Only digests are ever stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> str:
    """A 256-bit random token, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def keyed_digest(secret: str, value: str) -> str:
    """An HMAC, so a stored digest of a low-entropy value (an e-mail address) cannot be brute-forced."""
    return hmac.new(secret.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()
