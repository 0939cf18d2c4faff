"""The central store's reading counts, showcase lists and recommendations (sync.server.db.showcase), and the
goals, terms and names on the rules page: what they hold, what they never give away, and what a pull sends."""

import html
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kiosk.domain.model import Policy
from sync.server import db as store
from tests.test_pages import central, csrf_of, login  # noqa: F401  (the fixture)

DEMO = Path(__file__).resolve().parent.parent / "kiosk" / "demo" / "files"
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)
STAMP = {"trusted": True, "boot_id": "b", "monotonic": 1.0}


@pytest.fixture
def db(tmp_path):
    db = store.init_db(tmp_path / "central.db")
    store.import_csv(db, "patrons", (DEMO / "patrons.csv").read_text(), "patrons.csv")
    store.import_csv(db, "items", (DEMO / "items.csv").read_text(), "items.csv")
    for kiosk in ("door", "cabinet-3a"):
        store.add_kiosk(db, kiosk)
    return db


def lend(db, kiosk, *loans):
    """Push checkouts (patron, item, ISO time) as `kiosk`'s next records."""
    first = db.execute("SELECT COALESCE(MAX(seq), 0) FROM log WHERE kiosk_id = ?", [kiosk]).fetchone()[0] + 1
    records = [{"seq": first + n, "kind": "checkout", "at": at, "patron_id": patron, "item_id": item,
                "details": {"due": "2026-12-20"}, **STAMP} for n, (patron, item, at) in enumerate(loans)]
    store.push(db, kiosk, {"sent_at": NOW.isoformat(), "boot_id": "b", "monotonic": 2.0, "records": records})


def pulled(db, since=0):
    return store.changes(db, since, 5000)


def test_reading_is_counted_per_student_and_kiosk_this_term_only(db):
    lend(db, "door", ("S1001", "B0001", "2026-11-02T01:00:00+00:00"), ("S1001", "B0002", "2026-11-20T01:00:00+00:00"),
         ("S1001", "B0003", "2026-08-20T01:00:00+00:00"), ("T2001", "B0004", "2026-11-20T01:00:00+00:00"))
    lend(db, "cabinet-3a", ("S1001", "B0008", "2026-11-21T01:00:00+00:00"))
    assert store.refresh_showcase(db, NOW)
    rows = {(r["patron_id"], r["kiosk_id"]): (r["term"], r["books"]) for r in pulled(db)["reading"]}
    assert rows == {("S1001", "door"): ("2026-09-01", 2), ("S1001", "cabinet-3a"): ("2026-09-01", 1)}
    classes = {(r["class_name"], r["kiosk_id"]): (r["month"], r["books"]) for r in pulled(db)["class_reading"]}
    assert classes == {("3A", "door"): ("2026-11", 2), ("3A", "cabinet-3a"): ("2026-11", 1)}


def test_a_refresh_with_nothing_new_changes_nothing_and_a_kiosk_pulls_only_what_moved(db):
    lend(db, "door", ("S1001", "B0001", "2026-11-02T01:00:00+00:00"))
    store.refresh_showcase(db, NOW)
    cursor = int(pulled(db)["cursor"])
    assert not store.refresh_showcase(db, NOW)
    assert pulled(db, cursor)["reading"] == []
    lend(db, "door", ("S1002", "B0002", "2026-11-22T01:00:00+00:00"))
    store.refresh_showcase(db, NOW)
    again = pulled(db, cursor)
    assert [(r["patron_id"], r["books"]) for r in again["reading"]] == [("S1002", 1)]


def test_the_terms_come_from_the_rules(db):
    store.set_rules(db, Policy(term_starts=(datetime(2026, 11, 15).date(),)))
    lend(db, "door", ("S1001", "B0001", "2026-11-02T01:00:00+00:00"), ("S1001", "B0002", "2026-11-20T01:00:00+00:00"))
    store.refresh_showcase(db, NOW)
    assert [(r["term"], r["books"]) for r in pulled(db)["reading"]] == [("2026-11-15", 1)]


def test_recommendations_need_two_readers_and_carry_only_book_ids(db):
    lend(db, "door", ("S1001", "B0001", "2026-11-02T01:00:00+00:00"), ("S1001", "B0003", "2026-11-03T01:00:00+00:00"),
         ("S1002", "B0001", "2026-11-04T01:00:00+00:00"), ("S1002", "B0003", "2026-11-05T01:00:00+00:00"),
         ("S1002", "B0005", "2026-11-06T01:00:00+00:00"))
    store.refresh_showcase(db, NOW)
    also = {r["item_id"]: r["also"] for r in pulled(db)["recommendations"]}
    assert also == {"B0001": ["B0003"], "B0003": ["B0001"]}  # B0005 was read by one student only
    assert set(pulled(db)["recommendations"][0]) == {"item_id", "also"}


def test_showcase_lists_new_books_and_most_borrowed_and_names_only_when_allowed(db):
    lend(db, "door", ("S1001", "B0001", "2026-11-02T01:00:00+00:00"), ("S1002", "B0001", "2026-11-04T01:00:00+00:00"),
         ("S1003", "B0006", "2026-11-05T01:00:00+00:00"))
    store.refresh_showcase(db, NOW)
    lists = {r["list"]: r for r in pulled(db)["showcase"]}
    assert [e["item_id"] for e in lists["popular:3A"]["entries"]] == ["B0001"]
    assert lists["popular:"]["entries"][0] == {"item_id": "B0001", "count": 2}
    assert lists["popular:3A"]["month"] == "2026-11"
    assert {e["item_id"] for e in lists["new:class-3a"]["entries"]} == {"B0008", "B0009"}
    assert lists["stars:3A"]["entries"] == [] and lists["stars:"]["entries"] == []
    cursor = int(pulled(db)["cursor"])
    store.set_rules(db, Policy(showcase_names=True))
    store.refresh_showcase(db, NOW)
    stars = {r["list"]: r["entries"] for r in pulled(db, cursor)["showcase"]}
    assert stars["stars:3A"] == [{"name": "Ben", "class": "3A", "books": 1}, {"name": "Mia", "class": "3A", "books": 1}]
    assert {"name": "小龙", "class": "4B", "books": 1} in stars["stars:"]
    assert not any("Chen" in str(entries) or "李" in str(entries) for entries in stars.values())


def test_chinese_titles_get_pinyin_initials_at_import(db):
    rows = {r["id"]: r["initials"] for r in pulled(db)["items"]}
    assert rows["B0006"] == "CFZ CWX" and rows["B0013"] == "XYJ WCE" and rows["B0001"] == ""


def test_the_rules_page_sets_goals_terms_and_names_within_sane_ranges(central):  # noqa: F811
    client, _ = login(central)
    token = csrf_of(client.get("/rules").text)
    data = {"csrf": token, "block_overdue_days": "14", "closed_weekdays": ["sat", "sun"], "holidays": "",
            "term_goal": "20", "class_month_goal": "3", "term_starts": "2026-09-01\n2027-02-20",
            "showcase_names": "on"}
    for ptype in ("student", "teacher", "volunteer", "librarian"):
        data.update({f"{ptype}.loan_days": "14", f"{ptype}.max_loans": "3", f"{ptype}.renewals": "2"})
    for key, value, said in (("term_goal", "0", "term_goal: must be from 1 to 200, not 0"),
                             ("student.loan_days", "1000", "loan_days: must be from 1 to 365, not 1000"),
                             ("term_starts", "1926-09-01", "'1926-09-01' is not between 2000 and 2100")):
        refused = client.post("/rules", data=dict(data, **{key: value}))
        assert refused.status_code == 422 and said in html.unescape(refused.text), key
    assert central.db.execute("SELECT COUNT(*) FROM rules").fetchone()[0] == 0
    assert "Saved." in client.post("/rules", data=data, follow_redirects=True).text
    rules = store.changes(central.db, 0, 5000)["rules"]
    assert (rules["term_goal"], rules["class_month_goal"], rules["term_starts"], rules["showcase_names"]) == \
        (20, 3, ["2026-09-01", "2027-02-20"], True)
    form = client.get("/rules").text
    assert 'name="term_goal" value="20"' in form and "2027-02-20" in form
