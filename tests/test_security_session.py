"""A session that ends in the middle of a form: the login page with a message, then the form again as typed.

The form used to answer raw JSON ("log in again") and lose what was typed.
A form from another site, or one whose CSRF token is not its session's,
changes nothing and is never lined up to be sent again.
"""

import html
import json
import re

import httpx
import pytest

from sync.server import db as store
from tests.test_pages import PASSWORD, central, csrf_of, login  # noqa: F401  (the fixture)
from tests.test_security_rules import rules_form


def end_sessions(central):  # noqa: F811
    with central.db.atomic():
        central.db.execute("UPDATE sessions SET expires = '2000-01-01T00:00:00+00:00'")


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    return html.unescape(found.group(1)) if found else None


def log_in_again(client, page):
    """The login form of `page`, filled in and sent as a browser would, with what it carries."""
    data = {"name": "wu", "password": PASSWORD, "csrf": csrf_of(page.text)}
    for name in ("carried", "next", "back"):
        if hidden(page.text, name) is not None:
            data[name] = hidden(page.text, name)
    return client.post("/login", data=data)


def test_a_form_sent_after_the_session_ended_comes_back_after_the_login(central):  # noqa: F811
    client, _ = login(central)
    form = client.get("/rules")
    end_sessions(central)
    here = {"Origin": central.url, "Referer": central.url + "/rules"}
    ended = client.post("/rules", data=rules_form(csrf_of(form.text), **{"student.loan_days": "21",
                                                                         "holidays": "2026-12-25\n2027-01-01"}),
                        headers=here)
    assert ended.status_code == 403 and ended.headers["content-type"].startswith("text/html")
    assert "Your session ended before this form was sent, so nothing was changed" in ended.text
    assert "what you typed is kept" in ended.text
    assert central.db.execute("SELECT COUNT(*) FROM rules").fetchone()[0] == 0
    carried = json.loads(hidden(ended.text, "carried"))
    assert ["student.loan_days", "21"] in carried and not [f for f in carried if f[0] == "csrf"]

    again = log_in_again(client, ended)
    assert again.status_code == 200 and "Logged in again" in again.text
    assert 'action="/rules"' in again.text and "2026-12-25\n2027-01-01" in html.unescape(again.text)
    fields: dict[str, list] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', again.text):
        fields.setdefault(name, []).append(html.unescape(value))
    assert fields["csrf"] != [csrf_of(form.text)]  # the new session's token
    saved = client.post("/rules", data=fields, headers=here, follow_redirects=True)
    assert "Saved." in saved.text
    rules = store.get_rules(central.db)
    assert rules.rule_for("student").loan_days == 21 and len(rules.holidays) == 2


def test_a_file_form_asks_for_the_file_again_and_goes_back_to_it(central):  # noqa: F811
    client, _ = login(central)
    form = client.get("/import")
    end_sessions(central)
    ended = client.post("/import", data={"kind": "items", "csrf": csrf_of(form.text)},
                        files={"file": ("b.csv", b"id,title\nB1,Holes\n", "text/csv")},
                        headers={"Origin": central.url, "Referer": central.url + "/import"})
    assert ended.status_code == 403 and "then choose the file again" in ended.text
    again = log_in_again(client, ended)
    assert again.status_code == 303 and again.headers["location"] == "/import"


@pytest.mark.parametrize("headers", [{}, {"Origin": "https://evil.example", "Referer": "https://evil.example/"},
                                     {"Referer": "https://evil.example/form"}])
def test_a_form_from_elsewhere_is_not_carried(central, headers):  # noqa: F811
    client = httpx.Client(base_url=central.url)  # no session: a forged post from another site
    ended = client.post("/flagged", data={"kiosk_id": "door", "seq": "2", "resolution": "reverse"}, headers=headers)
    assert ended.status_code == 403 and "Log in again." in ended.text
    assert hidden(ended.text, "carried") is None
    again = log_in_again(client, ended)
    assert again.status_code == 303 and again.headers["location"] == "/"
    assert central.db.execute("SELECT COUNT(*) FROM merge_flags WHERE resolution IS NOT NULL").fetchone()[0] == 0


def test_a_carried_form_cannot_be_pointed_at_another_site_or_the_logout(central):  # noqa: F811
    client = httpx.Client(base_url=central.url)
    page = client.get("/login")
    for target in ("https://evil.example/steal", "//evil.example/x", "/logout"):
        sent = client.post("/login", data={"name": "wu", "password": PASSWORD, "csrf": csrf_of(page.text),
                                           "carried": '[["resolution", "reverse"]]', "next": target, "back": target})
        assert sent.status_code == 303 and sent.headers["location"] == "/", target
        page = client.get("/login")


def test_a_form_with_another_sessions_token_is_a_page_saying_so(central):  # noqa: F811
    client, _ = login(central)
    refused = client.post("/flagged", data={"kiosk_id": "door", "seq": "2", "resolution": "lost", "csrf": "old"})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert "This form came from an older page or from another site" in refused.text
    assert central.db.execute("SELECT status FROM items WHERE id = 'B0004'").fetchone()[0] != "lost"
