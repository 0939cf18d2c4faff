"""What held when the store was tried as an attacker, kept held: the login wall, CSRF, SQL, paths.

Every page route is found by walking the app, so a page added later is
behind the same walls or this test says which is not.
"""

import httpx
import pytest

from tests.test_pages import central, csrf_of, login  # noqa: F401  (the fixture)
from tests.test_security_errors import filled, page_routes

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/lang/{code}")}  # the language: a cookie, no data


def state(central):  # noqa: F811
    """Everything a form could change, to compare before and after."""
    db = central.db
    return [db.execute(f"SELECT COUNT(*), {extra} FROM {table}").fetchone()
            for table, extra in (("audit", "MAX(id)"), ("rules", "MAX(rev)"), ("patrons", "MAX(rev)"),
                                 ("items", "MAX(rev)"), ("merge_flags", "COUNT(resolution)"), ("sessions", "0"))]


def forms(central):  # noqa: F811
    """Every page route but the public ones, with values that would change something if let through."""
    values = {"row_id": "B0003", "status": "withdrawn", "uid": "04CAFE0000BEEF", "kind": "items", "target": "B0002",
              "kiosk_id": "door", "seq": "2", "resolution": "lost", "student.loan_days": "30", "title": "Changed",
              "item": "B0002", "due": "2026-12-20", "what": "lost", "home": "library", "since": "2026-11-01",
              "confirmed": "1", "school": "1"}
    for method, route in page_routes(central.app):
        if (method, route.path) not in PUBLIC:
            path = filled(route.path, "B0001").replace("/x", "").replace("{charge_id}", "1").replace("{number}", "1")
            yield method, path.replace("{patron_id}", "S1001").replace("{item_id}", "B0001").replace("{home}", "library"), values


def test_every_page_and_form_needs_a_login(central):  # noqa: F811
    before, walked = state(central), 0
    for method, path, values in forms(central):
        response = httpx.request(method, central.url + path, data=values if method == "POST" else None)
        if method == "GET":
            assert response.status_code == 303 and response.headers["location"] == "/login", path
        else:
            assert response.status_code == 403 and "Log in again" in response.text, path
        walked += 1
    assert walked >= 18 and state(central) == before


def test_every_form_refuses_a_forged_csrf_token(central):  # noqa: F811
    client, _ = login(central)
    before, walked = state(central), 0
    for method, path, values in forms(central):
        if method == "POST":
            for token in ("", "forged", csrf_of(client.get("/login").text)):
                response = client.post(path, data={**values, "csrf": token})
                assert response.status_code == 403, (path, token)
                walked += 1
    assert walked >= 21 and state(central) == before


@pytest.mark.parametrize("value", ["' OR 1=1 --", "%", "_", "\" OR \"\"=\"", "1; DROP TABLE log"])
def test_every_filter_takes_sql_as_text(central, value):  # noqa: F811
    client, _ = login(central)
    for name in ("since", "until", "kiosk", "klass", "patron", "item", "kind"):
        page = client.get("/log", params={name: value})
        assert page.status_code == 200, name
        if name not in ("since", "until"):  # those compare as text: earlier or later than any time
            assert "No records match." in page.text, name
    found = client.get("/patrons", params={"q": value}).text
    assert 'href="/patrons/S1001"' not in found  # not even LIKE's own wildcards: a % or _ is a letter searched for
    assert central.db.execute("SELECT COUNT(*) FROM log").fetchone()[0] == 3


@pytest.mark.parametrize("path", ["/static/../app.py", "/static/%2e%2e/auth.py", "/static/..%2fauth.py",
                                  "/export/..%2f..%2fcentral.db.csv", "/static/pages.css/../../db/schema.py"])
def test_no_path_leaves_the_pages_own_files(central, path):  # noqa: F811
    client, _ = login(central)
    response = client.get(path)
    assert response.status_code == 404 and "import" not in response.text and "CREATE TABLE" not in response.text
