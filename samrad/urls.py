"""Links that leave the app (e-mails, calendar files): absolute URLs built from PUBLIC_URL rather than the
request's Host header, the host name that identifies this installation, and signatures for links that
carry no secret of their own. The services call these instead of reading the app's configuration."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter

from samrad.calendar import domain_of
from samrad.tokens import keyed_digest


def external_url(endpoint: str, **values) -> str:
    """Build an absolute URL for ``endpoint`` that works in requests, jobs and commands alike.

    Using the configured PUBLIC_URL means a forged Host header can never redirect an invitation link.
    """
    return _public_adapter().build(endpoint, values, force_external=True)


_ADAPTER = "samrad.public_url_adapter"


def _public_adapter() -> MapAdapter:
    """The URL map bound to PUBLIC_URL, kept while PUBLIC_URL stays the same: a calendar feed builds a link
    for every meeting, and binding the map anew for each was a tenth of the feed's time."""
    public_url = current_app.config["PUBLIC_URL"]
    kept = current_app.extensions.get(_ADAPTER)
    if kept is None or kept[0] != public_url:
        public = urlsplit(public_url)
        adapter = current_app.url_map.bind(
            public.netloc, script_name=public.path or "/", url_scheme=public.scheme
        )
        kept = current_app.extensions[_ADAPTER] = (public_url, adapter)
    return kept[1]


def evaluation_link(token: str) -> str:
    """The single-use link to an evaluation form, as mailed to an attendee."""
    return external_url("evaluations.land", token=token)


def public_domain() -> str:
    """The installation's host name (e.g. in calendar UIDs), from PUBLIC_URL."""
    return domain_of(current_app.config["PUBLIC_URL"])


def link_signature(purpose: str, value: str) -> str:
    """A keyed signature (HMAC under SECRET_KEY) that makes a link unforgeable, e.g. an RSVP link."""
    return keyed_digest(current_app.config["SECRET_KEY"], f"{purpose}:{value}")
