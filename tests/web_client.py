"""A small HTTP client for tests and benchmarks that talk to a real server (gunicorn) over loopback:
one person's browser with its own cookies, redirects not followed, and the forms they post."""

from __future__ import annotations

import http.client
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@dataclass
class Browser:
    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None):
        """(status, headers, body text); cookies the server sets are kept for the next request."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **(headers or {})}
        body = None
        if data is not None:
            body = urlencode(data, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, value = cookie.split(";", 1)[0].partition("=")
                self.cookies[name] = value
            return response.status, response.headers, text
        finally:
            connection.close()

    def get(self, path: str):
        return self.request("GET", path)

    def post_form(self, path: str, page: str, data: dict):
        """Post ``data`` with the CSRF token of ``page`` (the form's page as the server rendered it)."""
        return self.request("POST", path, {**data, "csrf_token": CSRF.search(page).group(1)})

    def copy(self) -> Browser:
        """Another tab of the same browser: the same cookies from now on, kept apart."""
        return Browser(self.port, dict(self.cookies))

    def login(self, email: str, password: str) -> Browser:
        _, _, page = self.get("/login")
        status, _, _ = self.post_form("/login", page, {"email": email, "password": password})
        assert status == 303, (email, status)
        return self


def case_form(municipality_id: int, submission_key: str) -> dict:
    """A complete new-case form that passes the guard and is submitted at once."""
    return {
        "acute": "no",
        "submission_key": submission_key,
        "categories": ["honour_violence"],
        "sex": "female",
        "age_band": "13-17",
        "municipality": str(municipality_id),
        "exposers": ["parent"],
        "questions": "Hur kan vi stötta den unga utan att öka risken?",
        "background": "Den unga berättar om kontroll i hemmet och oro för en resa.",
        "risk_assessment": "patriark",
        "report_of_concern": "yes",
        "requested_meeting": "0",
        "presentation_minutes": "15",
        "presenter": "self",
        "presenter_email": "",
        "warnings_digest": "",
        "attest": "y",
        "action": "submit",
    }
