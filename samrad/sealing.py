"""Sealing: encrypt a short value so that only this installation can read it, and keyed markers.

Used where a value must be kept but not be readable from a copy of the database or from the browser:
an evaluation answer waiting to be counted (``services.evaluations.pool``) and the answer token the
browser carries between the e-mail link and the form (``web.evaluations.answering``).

A :class:`Sealer` derives one AES-256-GCM key per purpose from the installation's secret (HKDF-SHA256),
so a sealed answer cannot be opened as a cookie or the other way round. Each sealed value has a fresh
random nonce and carries no time (unlike Fernet, whose tokens show when they were made: that would
order the answers). Associated data binds a value to where it belongs (an evaluation), so it cannot be
moved. The first secret seals; every secret opens, so the secret can be rotated (Flask's
``SECRET_KEY_FALLBACKS``) without losing what was sealed under the old one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def _derive(secret: str | bytes, info: str) -> bytes:
    material = secret.encode("utf-8") if isinstance(secret, str) else secret
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info.encode("utf-8")).derive(material)


class Sealer:
    def __init__(self, secrets: Sequence[str | bytes], purpose: str):
        if not secrets or not all(secrets):
            raise ValueError("a sealer needs at least one non-empty secret")
        self._ciphers = [AESGCM(_derive(s, f"samrad seal {purpose}")) for s in secrets]
        self._mac_keys = [_derive(s, f"samrad marker {purpose}") for s in secrets]

    def seal(self, plaintext: bytes, *, bound_to: str = "") -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self._ciphers[0].encrypt(nonce, plaintext, bound_to.encode("utf-8"))
        return base64.urlsafe_b64encode(sealed).decode("ascii")

    def unseal(self, sealed: str, *, bound_to: str = "") -> bytes | None:
        """The plaintext, or None if the value was not sealed here (for this purpose and binding)."""
        try:
            raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            return None
        nonce, body = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        if len(nonce) < NONCE_BYTES:
            return None
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(nonce, body, bound_to.encode("utf-8"))
            except InvalidTag:
                continue
        return None

    def markers(self, value: str) -> list[str]:
        """Keyed digests of ``value`` (HMAC-SHA256), the current secret's first: store the first, look
        for any. Without the secret a marker cannot be matched to the value or to its plain hash."""
        return [hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest() for key in self._mac_keys]
