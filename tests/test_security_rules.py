"""Every circulation rule has a sane range, checked on every way in, and a kiosk never lends by rules it cannot use.

A loan period of 1180591620717411303424 days was saved, pulled, and crashed
every kiosk's next checkout with OverflowError in `due_date`. Now: loan days
1-365, books 0-100, renewals 0-20, the overdue block 0-365 days, at most 366
holidays; the rules page, a kiosk's config file and a pulled page refuse
anything else, and a kiosk keeps its last good rules and reports the bad ones.
"""

import html
import json
from datetime import date, datetime, timezone

import pytest

from kiosk import store
from kiosk.app import Kiosk
from kiosk.clock import ScriptClock
from kiosk.config import parse_config
from kiosk.domain.errors import ConfigError
from kiosk.domain.model import Policy
from kiosk.domain.policy import parse_policy
from kiosk.domain.rules import due_date
from sync.server import db as central_db
from tests.test_pages import central as pages_central, csrf_of, login  # noqa: F401  (the fixture)
from tests.test_sync import Site, central  # noqa: F401  (the fixture)

OUT_OF_RANGE = [
    ({"student": {"loan_days": 1180591620717411303424}}, "[policy.student] loan_days: must be from 1 to 365"),
    ({"student": {"loan_days": 99_999_999}}, "[policy.student] loan_days: must be from 1 to 365"),
    ({"student": {"loan_days": 0}}, "[policy.student] loan_days: must be from 1 to 365"),
    ({"teacher": {"max_loans": 101}}, "[policy.teacher] max_loans: must be from 0 to 100"),
    ({"teacher": {"max_loans": -1}}, "[policy.teacher] max_loans: must be from 0 to 100"),
    ({"volunteer": {"renewals": 21}}, "[policy.volunteer] renewals: must be from 0 to 20"),
    ({"block_overdue_days": 366}, "[policy] block_overdue_days: must be from 0 to 365"),
    ({"holidays": [date.fromordinal(738000 + n).isoformat() for n in range(367)]},
     "[policy] holidays: at most 366 dates, not 367"),
]


@pytest.mark.parametrize("table, problem", OUT_OF_RANGE)
def test_a_rule_out_of_its_range_is_refused_naming_where_and_the_range(table, problem):
    with pytest.raises(ConfigError) as refused:
        parse_policy(table, "(central rules)")
    assert str(refused.value).startswith(f"(central rules): {problem}")


def test_the_edges_of_every_range_are_rules_a_school_may_set():
    edges = {"block_overdue_days": 365, "holidays": [date.fromordinal(738000 + n).isoformat() for n in range(366)]}
    edges.update({t: {"loan_days": 365, "max_loans": 100, "renewals": 20} for t in ("student", "teacher")})
    edges.update({t: {"loan_days": 1, "max_loans": 0, "renewals": 0} for t in ("volunteer", "librarian")})
    policy = parse_policy(edges)
    assert due_date(policy, "student", date(2026, 11, 23)) >= date(2027, 11, 23)


def test_a_kiosks_config_file_with_a_rule_out_of_range_names_file_and_key():
    with pytest.raises(ConfigError, match=r"kiosk.toml: \[policy.student\] loan_days: must be from 1 to 365"):
        parse_config({"kiosk": {"id": "door"}, "policy": {"student": {"loan_days": 99_999_999}}}, "kiosk.toml")


def rules_form(token, **changes):
    data = {"csrf": token, "block_overdue_days": "14", "closed_weekdays": ["sat", "sun"], "holidays": "",
            "term_goal": "15", "class_month_goal": "2"}  # the reading goals the rules page has too
    for ptype in ("student", "teacher", "volunteer", "librarian"):
        data.update({f"{ptype}.loan_days": "14", f"{ptype}.max_loans": "3", f"{ptype}.renewals": "2"})
    data.update(changes)
    return data


@pytest.mark.parametrize("field, value, problem", [
    ("student.loan_days", "1180591620717411303424", "loan_days: must be from 1 to 365"),
    ("student.loan_days", "99999999", "loan_days: must be from 1 to 365"),
    ("teacher.max_loans", "1000", "max_loans: must be from 0 to 100"),
    ("librarian.renewals", "-1", "renewals: must be from 0 to 20"),
    ("block_overdue_days", "400", "block_overdue_days: must be from 0 to 365"),
])
def test_the_rules_page_refuses_a_rule_out_of_range_and_saves_nothing(pages_central, field, value,  # noqa: F811
                                                                      problem):
    client, _ = login(pages_central)
    token = csrf_of(client.get("/rules").text)
    refused = client.post("/rules", data=rules_form(token, **{field: value}))
    assert refused.status_code == 422 and problem in html.unescape(refused.text)
    assert pages_central.db.execute("SELECT COUNT(*) FROM rules").fetchone()[0] == 0


def test_rules_stored_out_of_range_by_an_older_version_show_on_the_page_to_be_fixed(pages_central):  # noqa: F811
    stored = json.dumps({"block_overdue_days": 14, "closed_weekdays": ["sat", "sun"], "holidays": [],
                         "student": {"loan_days": 1180591620717411303424, "max_loans": 3, "renewals": 2}})
    with pages_central.db.atomic():
        pages_central.db.execute("INSERT INTO rules (key, value, rev) VALUES ('policy', ?, ?)",
                                 [stored, central_db.next_revs(pages_central.db, 1)])
    client, _ = login(pages_central)
    page = client.get("/rules")
    assert page.status_code == 200
    assert "loan_days: must be from 1 to 365" in html.unescape(page.text) and "1180591620717411303424" in page.text
    saved = client.post("/rules", data=rules_form(csrf_of(page.text), **{"student.loan_days": "21"}),
                        follow_redirects=True)
    assert "Saved." in saved.text and central_db.get_rules(pages_central.db).rule_for("student").loan_days == 21


def store_raw_rules(central, table):
    """Rules written past every check, as the central store of an older version kept them."""
    with central.db.atomic():
        central.db.execute("INSERT OR REPLACE INTO rules (key, value, rev) VALUES ('policy', ?, ?)",
                           [json.dumps(table), central_db.next_revs(central.db, 1)])


@pytest.mark.parametrize("bad", [
    {"student": {"loan_days": 1180591620717411303424}},
    {"student": {"loan_days": "fourteen"}},
    {"student": ["not", "a", "table"]},
    {"holidays": ["2026-13-45"]},
])
def test_a_kiosk_keeps_its_last_good_rules_reports_the_bad_ones_and_still_lends(tmp_path, central, bad):  # noqa: F811
    central_db.set_rules(central.db, parse_policy({"student": {"loan_days": 21}}))
    site = Site(tmp_path, central, "door")
    assert site.sync.run_once(), store.get_meta(site.db, "last_error")
    store_raw_rules(central, bad)
    assert site.sync.run_once(), store.get_meta(site.db, "last_error")  # the rest of the page is applied
    assert store.load_policy(site.db, Policy()).rule_for("student").loan_days == 21  # the last good rules

    clock = ScriptClock(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))
    kiosk = Kiosk(site.db, site.config, clock)
    kiosk.tap("04A1B2C3")
    lent = kiosk.tap("04112233445566")
    assert lent["outcome"] == "checkout" and lent["due"] == "2026-12-14"  # 21 days, not a crash

    assert site.sync.run_once()
    reported = central.db.execute("SELECT last_error FROM kiosks WHERE id = 'door'").fetchone()[0]
    assert reported.startswith("rules from the central store refused, the last good ones kept: (central rules): ")


def test_a_kiosk_whose_stored_rules_are_bad_lends_by_its_config_instead(tmp_path):
    db = store.init_db(tmp_path / "door.db", "door")
    with db.atomic():
        db.execute("INSERT INTO rules (key, value) VALUES ('policy', ?)",
                   [json.dumps({"student": {"loan_days": 99_999_999}})])
    fallback = parse_policy({"student": {"loan_days": 10}})
    assert store.load_policy(db, fallback) == fallback


@pytest.mark.parametrize("page", [
    {"patrons": ["not a row"]},
    {"items": [17]},
    {"loans": [{"item_id": "B1", "patron_id": "S1", "due": "2026-12-01", "checked_out": "2026-11-17T09:00:00+08:00",
                "renewals": 2 ** 70}]},
    {"loans": "B1"},
    {"rules": ["a", "list"]},
])
def test_a_pulled_page_of_any_kind_fails_the_round_with_a_message_never_the_process(tmp_path, page):
    from tests.test_sync_client import ContractServer, client_for

    with ContractServer({"door": "k-door-0123456789abcdef-secret"}) as server:
        db, client = client_for(tmp_path, server)
        server.pages = [page]
        ok = client.run_once()
        problem = store.get_meta(db, "last_error") or store.get_meta(db, "rules_error")
        assert ok is False or page.get("rules"), problem
        assert problem and "Traceback" not in problem
