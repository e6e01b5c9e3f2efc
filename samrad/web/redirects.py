"""The one rule for where a redirect may go after a login or an action: a path on this site.

Used by every view that takes a ``next`` address from the request (the login, the language switch), so
that a link such as ``/login?next=//evil.example`` cannot borrow samrad's address for phishing. A target
is accepted only as a same-origin path after the normalisations a browser applies: no scheme or host,
no second leading slash or backslash (``//host``, ``/\\host``), no control character anywhere, also
percent-encoded (browsers drop a tab or newline, so ``/%09/host`` would become ``//host``).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from flask import url_for

#: ASCII control characters and DEL, which browsers drop or treat as separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_safe_path(target: object) -> bool:
    if not isinstance(target, str) or not target or len(target) > 2000:
        return False
    for form in {target, unquote(target)}:
        if _CONTROL.search(form) or "\\" in form:
            return False
        if not form.startswith("/") or form.startswith("//"):
            return False
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return False
    return True


def safe_path(target: object, default_endpoint: str = "pages.index") -> str:
    """``target`` if it is a path on this site, else the address of ``default_endpoint``."""
    return target if is_safe_path(target) and isinstance(target, str) else url_for(default_endpoint)
