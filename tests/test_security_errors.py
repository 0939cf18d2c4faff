"""No value a person, a link or a kiosk sends makes a 500, and a librarian never gets raw JSON.

A table of the cases found by hand, then a walk over every page route with
hostile values in every parameter it declares. The kiosks' API is walked by
schemathesis (tests/test_central_schema.py) and by a table here.
"""

import html
from urllib.parse import quote

import httpx
import pytest
from fastapi.routing import APIRoute

from sync.protocol import API
from tests.test_pages import central, csrf_of, login  # noqa: F401  (the fixture)

HOSTILE = ["abc", "-1", "0", str(2**70), "9" * 23, "a|b|c", "\x00", "'; DROP TABLE log; --", "%", "<script>",
           "2026-13-45", " ", "\ud7ff\ufffe", "x" * 5000]

PAGE_CASES = [
    ("GET", "/log?before=abc", 400, "is not a place in the log"),
    ("GET", "/log?before=a|b|c", 400, "is not a place in the log"),
    ("GET", "/log?before=2026-11-20T01:00:00%2B00:00|door|" + "9" * 23, 400, "is not a place in the log"),
    ("GET", "/loans?overdue=abc", 400, "overdue='abc': 1 shows the overdue books only"),
    ("GET", "/stats?since=abc", 200, "Reading against the school"),
    ("GET", "/rules?saved=abc", 200, "Circulation rules"),
    ("GET", "/login?failed=abc", 200, "Log in"),
    ("POST", "/flagged", 422, "no record nowhere #2"),
    ("POST", "/flagged", 422, "-1' is not a record number"),
    ("POST", "/flagged", 422, f"{2**70}' is not a record number"),
    ("POST", "/flagged", 422, "resolution 'shred' is not one of accept, reverse, lost"),
    ("POST", "/patrons/status", 400, "row_id: Field required"),
]
FLAG_FORMS = {"no record nowhere #2": {"kiosk_id": "nowhere", "seq": "2", "resolution": "accept"},
              "-1' is not a record number": {"kiosk_id": "door", "seq": "-1", "resolution": "accept"},
              f"{2**70}' is not a record number": {"kiosk_id": "door", "seq": str(2**70), "resolution": "accept"},
              "resolution 'shred' is not one of accept, reverse, lost": {"kiosk_id": "door", "seq": "2",
                                                                         "resolution": "shred"},
              "row_id: Field required": {"status": "blocked"}}


@pytest.mark.parametrize("method, path, status, message", PAGE_CASES)
def test_a_bad_value_on_a_page_is_a_page_with_a_message(central, method, path, status, message):  # noqa: F811
    client, _ = login(central)
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data={"csrf": csrf_of(client.get("/").text), **FLAG_FORMS[message]})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert message in html.unescape(response.text)
    if method == "POST":
        assert central.db.execute("SELECT COUNT(*) FROM merge_flags WHERE resolution IS NOT NULL").fetchone()[0] == 0


def api_routes(routes):
    """Every route, through routers included whole (newer FastAPI keeps them as one route each)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def page_routes(app):
    for route in api_routes(app.routes):
        if not route.path.startswith(API):
            for method in route.methods:
                yield method, route


def filled(path: str, value: str) -> str:
    """A route's path with every {parameter} set: tables stay tables, so the route's own code runs."""
    for name in ("table",):
        path = path.replace("{" + name + "}", "items")
    for name in ("row_id", "what"):
        path = path.replace("{" + name + "}", quote(value, safe="") or "x")
    return path


def test_every_page_route_takes_hostile_values_without_a_server_error(central):  # noqa: F811
    client, _ = login(central)
    token = csrf_of(client.get("/").text)
    walked = []
    for method, route in page_routes(central.app):
        if route.path in ("/logout", "/login"):
            continue  # they end the session and count failed logins: their own tests
        names = [p.name for p in route.dependant.query_params + route.dependant.body_params if p.name != "csrf"]
        for value in HOSTILE:
            fields = {name: value for name in names}
            path = filled(route.path, value)
            if method == "GET":
                response = client.get(path, params=fields)
            else:
                response = client.post(path, data={"csrf": token, **fields})
            walked.append((method, route.path))
            assert response.status_code < 500, (method, path, fields, response.text[:300])
            assert not response.headers.get("content-type", "").startswith("application/json"), (method, path)
    assert len(set(walked)) >= 17  # every GET and POST of the pages but logging in and out


API_CASES = [
    ("GET", "/api/v1/changes?since=99999999999999999999", 422),
    ("GET", "/api/v1/changes?since=9223372036854775808", 422),
    ("GET", "/api/v1/changes?since=-1", 422),
    ("GET", "/api/v1/changes?since=%00", 422),
    ("GET", "/api/v1/changes?limit=99999999999999999999", 422),
    ("GET", "/api/v1/changes?limit=abc", 422),
    ("GET", "/api/v1/changes?since=9223372036854775807", 200),
]


@pytest.mark.parametrize("method, path, status", API_CASES)
def test_a_hostile_cursor_is_a_422_naming_it(central, method, path, status):  # noqa: F811
    from sync.server import db as store

    token = store.add_kiosk(central.db, "cabinet-hostile")
    response = httpx.request(method, central.url + path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
