"""Links that leave the app (e-mails, calendar files): absolute URLs built from PUBLIC_URL rather than the
request's Host header, the host name that identifies this installation, and signatures for links that
carry no secret of their own. The services call these instead of reading the app's configuration."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from samrad.calendar import domain_of
from samrad.tokens import keyed_digest


def external_url(endpoint: str, **values) -> str:
    """Build an absolute URL for ``endpoint`` that works in requests, jobs and commands alike.

    Using the configured PUBLIC_URL means a forged Host header can never redirect an invitation link.
    """
    public = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        public.netloc, script_name=public.path or "/", url_scheme=public.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def evaluation_link(token: str) -> str:
    """The single-use link to an evaluation form, as mailed to an attendee."""
    return external_url("evaluations.land", token=token)


def public_domain() -> str:
    """The installation's host name (e.g. in calendar UIDs), from PUBLIC_URL."""
    return domain_of(current_app.config["PUBLIC_URL"])


def link_signature(purpose: str, value: str) -> str:
    """A keyed signature (HMAC under SECRET_KEY) that makes a link unforgeable, e.g. an RSVP link."""
    return keyed_digest(current_app.config["SECRET_KEY"], f"{purpose}:{value}")
