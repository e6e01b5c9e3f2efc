import logging

from samrad.logs import RedactTokens, redact


def test_tokens_in_request_lines_are_redacted():
    line = '127.0.0.1 - - "GET /invitation/9aB_x-12345678901234567890 HTTP/1.1" 200 -'
    assert redact(line) == '127.0.0.1 - - "GET /invitation/[redacted] HTTP/1.1" 200 -'
    assert redact("GET /admin/users/12 HTTP/1.1") == "GET /admin/users/12 HTTP/1.1"


def test_werkzeug_access_log_never_contains_an_invitation_token(app, client, caplog):
    token = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0"
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('"%s" %s', f"GET /invitation/{token} HTTP/1.1", 404)
    assert token not in caplog.text and "/invitation/[redacted]" in caplog.text
    assert any(isinstance(f, RedactTokens) for f in logging.getLogger("werkzeug").filters)


def test_rsvp_links_and_calendar_feed_addresses_are_redacted():
    assert redact('"GET /rsvp/12-0123456789abcdef0123456789abcdef01234567?answer=on_site HTTP/1.1" 200') == (
        '"GET /rsvp/[redacted]?answer=on_site HTTP/1.1" 200'
    )
    assert redact('"GET /feed/Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0_-x.ics HTTP/1.1" 200') == (
        '"GET /feed/[redacted].ics HTTP/1.1" 200'
    )
