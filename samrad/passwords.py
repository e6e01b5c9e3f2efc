"""Password hashing (argon2id) and the password rules. Pure functions, no Flask."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

_hasher = PasswordHasher()  # argon2id with the RFC 9106 low-memory profile
#: Verified against when the account does not exist, so that both cases take the same time.
_DUMMY_HASH = _hasher.hash("no such account - timing equaliser")

MAX_LENGTH = 256


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check ``password``; with no hash, spend the same time and return False."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _swedish_common_words() -> frozenset[str]:
    text = resources.files("samrad").joinpath("data/common_passwords_sv.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#")


def password_problems(password: str, *, min_length: int = 12, user_inputs: tuple[str, ...] = ()) -> list:
    """Return what is wrong with a new password (empty when it is acceptable).

    zxcvbn knows common English passwords and patterns; a shipped list adds the Swedish words people
    actually use ("Sommar2024!"), which zxcvbn rates as strong.
    """
    problems = []
    if len(password) < min_length:
        problems.append(_l("Use at least %(n)s characters.", n=min_length))
        return problems
    if len(password) > MAX_LENGTH:
        problems.append(_l("Use at most %(n)s characters.", n=MAX_LENGTH))
        return problems
    core = re.sub(r"[\W\d_]+", "", password.lower())
    inputs = [part for value in user_inputs for part in re.split(r"[\W_]+", value.lower()) if len(part) > 2]
    lowered = password.lower()
    if any(
        value.lower() in lowered or value.lower().split("@")[0] in lowered for value in user_inputs if value
    ):
        problems.append(_l("Do not use your name or e-mail address in the password."))
    elif core in _swedish_common_words() or len(set(password)) < 5:
        problems.append(_l("This password is too common. Choose a phrase of several unusual words."))
    elif (
        _zxcvbn()(password, user_inputs=[*inputs, *(v.lower() for v in user_inputs), "samrad", "samråd"])[
            "score"
        ]
        < 3
    ):
        problems.append(_l("This password is too easy to guess. Choose a phrase of several unusual words."))
    return problems


def _zxcvbn():
    # Imported when a password is chosen, not when a web worker starts: its word lists are ~25 MB of every
    # worker's memory, and most workers never see a new password.
    from zxcvbn import zxcvbn  # noqa: PLC0415

    return zxcvbn
