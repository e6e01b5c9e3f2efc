"""htmx helpers: one decision about full page vs partial, and redirects that htmx follows."""

from __future__ import annotations

from flask import Response, make_response, redirect, render_template, request
from werkzeug.wrappers import Response as ResponseBase


def is_htmx() -> bool:
    headers = request.headers
    return headers.get("HX-Request") == "true" and headers.get("HX-History-Restore-Request") != "true"


def render(page: str, partial: str, status: int = 200, **context) -> Response:
    """Render ``partial`` for htmx requests and ``page`` (which includes it) otherwise."""
    response = make_response(render_template(partial if is_htmx() else page, **context), status)
    response.vary.add("HX-Request")
    return response


def hx_redirect(url: str) -> ResponseBase:
    """Navigate away: htmx needs ``HX-Redirect``; a plain browser gets a 303."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)
