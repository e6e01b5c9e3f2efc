"""Logging that never records secrets or personal data carried in URLs."""

from __future__ import annotations

import logging
import re

#: Path segments that carry tokens (invitation, RSVP and evaluation links, calendar feed addresses).
_TOKEN_PATH = re.compile(r"(/(?:invitation|rsvp|evaluation|e|feed)/)[A-Za-z0-9_\-]{16,}")


def redact(text: str) -> str:
    return _TOKEN_PATH.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Replace tokens in logged request lines: an access log must not hand out working links."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_redaction() -> None:
    for name in ("werkzeug", "gunicorn.access", "samrad"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
