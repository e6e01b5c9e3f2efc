"""Abuse limits on the pages anyone can reach without logging in (issue J 3).

Each group of pages has two limits from the settings: one per client address (a keyed HMAC of it, never
the address itself, is what the counters store) and one for everyone together, so a flood from many
addresses is capped too. The counters live in the app's database by default (samrad.ratelimits), shared
by every worker; ``RATE_LIMIT_STORAGE_URI`` can point Flask-Limiter at Redis or Memcached instead.
A refused request gets the Swedish "too many attempts" page (429) with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request
from flask_limiter import Limiter

from samrad import ratelimits
from samrad.tokens import keyed_digest

#: The groups and the settings that hold their limits (RATE_LIMIT_<GROUP> and RATE_LIMIT_<GROUP>_ALL).
GROUPS = ("login", "join", "links", "evaluation")


def _client_address() -> str:
    return keyed_digest(current_app.config["SECRET_KEY"], request.remote_addr or "unknown")


limiter = Limiter(key_func=_client_address, strategy="fixed-window", headers_enabled=True)


def init_app(app: Flask) -> None:
    app.config["RATELIMIT_ENABLED"] = app.config["RATE_LIMIT_ENABLED"]
    app.config["RATELIMIT_STORAGE_URI"] = app.config["RATE_LIMIT_STORAGE_URI"] or f"{ratelimits.SCHEME}://"
    limiter.init_app(app)


def limited(group: str, *, methods: tuple[str, ...] = ("POST",)) -> Callable:
    """Decorate a view (below its route decorator) with its group's two limits."""
    assert group in GROUPS, group
    setting = f"RATE_LIMIT_{group.upper()}"
    per_address = limiter.shared_limit(
        lambda: current_app.config[setting], scope=group, methods=list(methods)
    )
    everyone = limiter.shared_limit(
        lambda: current_app.config[f"{setting}_ALL"],
        scope=f"{group}-all",
        key_func=lambda: "everyone",
        methods=list(methods),
    )

    def decorate(view: Callable) -> Callable:
        return per_address(everyone(view))

    return decorate
