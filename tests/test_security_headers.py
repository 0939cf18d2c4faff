"""Security headers on every answer; cookies `Secure` over HTTPS, directly or through a proxy named as trusted.

Pages run no inline script and are never framed (Content-Security-Policy),
browsers guess no content type, links leak no address, nothing with
personal data is cached, and `/docs` (which would load scripts from a
public CDN) is not served.
"""

import re
import ssl

import httpx
import pytest

from sync.server.settings import Settings
from tests.servers import CentralServer
from tests.test_pages import PASSWORD, central, csrf_of, login, seed  # noqa: F401  (the fixture)
from tests.test_sync_https import pki  # noqa: F401  (the fixture)

PAGES = ["/", "/log", "/loans", "/loans?overdue=1", "/import", "/unknown-tags", "/flagged", "/patrons", "/items",
         "/items/B0001", "/stats", "/rules"]


def assert_security_headers(response, cached=False):
    csp = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert csp["script-src"] == "'self'" and csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'self'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert (response.headers.get("cache-control") == "no-store") is not cached


def test_every_page_export_and_api_answer_carries_the_headers(central):  # noqa: F811
    client, _ = login(central)
    for path in PAGES + ["/export/loans.csv", "/export/patrons.csv", "/login"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)
        assert "strict-transport-security" not in response.headers  # plain HTTP: no promise of HTTPS
    assert_security_headers(httpx.get(central.url + "/api/v1/health"))
    assert_security_headers(httpx.get(central.url + "/nowhere"))
    assert_security_headers(httpx.get(central.url + "/static/pages.css"), cached=True)


def test_no_page_has_inline_script_or_style_and_none_calls_out(central):  # noqa: F811
    client, _ = login(central)
    for path in PAGES + ["/login"]:
        text = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert not re.search(r"<style|\sstyle=|\son[a-z]+=", text), path
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path  # nothing from another site


def test_the_docs_that_would_load_a_cdn_are_not_served(central):  # noqa: F811
    assert httpx.get(central.url + "/docs").status_code == 404
    assert httpx.get(central.url + "/redoc").status_code == 404
    assert httpx.get(central.url + "/openapi.json").json()["info"]["title"] == "Library kiosk central store"


def cookies_set(response):
    return [v for k, v in response.headers.multi_items() if k == "set-cookie"]


def test_over_https_cookies_are_secure_and_the_browser_is_told_to_stay(tmp_path, pki):  # noqa: F811
    seed(tmp_path / "central.db")
    with CentralServer(tmp_path / "central.db", ssl_certfile=str(pki / "central.pem"),
                       ssl_keyfile=str(pki / "central.key")) as server:
        client = httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=str(pki / "school-ca.pem")))
        form = client.get("/login")
        assert all("Secure" in c for c in cookies_set(form)) and cookies_set(form)
        assert form.headers["strict-transport-security"].startswith("max-age=")
        logged_in = client.post("/login", data={"name": "wu", "password": PASSWORD, "csrf": csrf_of(form.text)})
        session = [c for c in cookies_set(logged_in) if c.startswith("kiosk_session=")]
        assert session and "Secure" in session[0] and "HttpOnly" in session[0] and "SameSite=strict" in session[0]


@pytest.mark.parametrize("trusted, secure", [(("127.0.0.1",), True), (("10.0.0.0/8",), False), ((), False)])
def test_behind_a_proxy_https_counts_only_when_the_proxy_is_trusted(tmp_path, trusted, secure):
    seed(tmp_path / "central.db")
    with CentralServer(tmp_path / "central.db", settings=Settings(trusted_proxies=trusted)) as server:
        form = httpx.get(server.url + "/login", headers={"X-Forwarded-Proto": "https"})
        assert cookies_set(form) and all(("Secure" in c) is secure for c in cookies_set(form))
        assert ("strict-transport-security" in form.headers) is secure


def test_a_trusted_proxy_must_be_an_address_or_a_network():
    with pytest.raises(ValueError, match="trusted proxy 'proxy.school' is not an address or a network"):
        Settings(trusted_proxies=("proxy.school",))
