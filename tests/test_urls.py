"""Links that leave the app are built from PUBLIC_URL, whatever host a request came in on."""

from samrad import urls


def test_external_links_follow_public_url_and_never_the_request_host(app):
    with app.test_request_context("/", base_url="http://forged.example:8080"):
        assert urls.external_url("pages.privacy") == "https://samrad.test/privacy"
        assert urls.public_domain() == "samrad.test"
        # A changed PUBLIC_URL (a path prefix behind a proxy) is followed at once, not the first one kept.
        app.config["PUBLIC_URL"] = "https://region.example/samrad"
        assert urls.external_url("pages.privacy") == "https://region.example/samrad/privacy"
        assert urls.public_domain() == "region.example"
    with app.app_context():  # a job or a command: no request at all
        assert (
            urls.external_url("meetings.show", slug="una", public_id="a1b2")
            == "https://region.example/samrad/c/una/meetings/a1b2"
        )
        assert urls.evaluation_link("t0k") == urls.external_url("evaluations.land", token="t0k")
        assert urls.evaluation_link("t0k").startswith("https://region.example/samrad/")
