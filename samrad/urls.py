"""Absolute links for e-mails, built from PUBLIC_URL rather than the request's Host header."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


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
