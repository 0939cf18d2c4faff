"""Stocktake and rehome records in the central store's merge, whichever kiosk syncs first."""

import itertools
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sync.server import db as store
from sync.server.merge import ItemFacts, Rec, replay
from tests.test_central_merge import at, back, out

DEMO = Path(__file__).resolve().parent.parent / "kiosk" / "demo" / "files"


def counted(kiosk, seq, minute):
    return Rec(kiosk, seq, "inventory", at(minute))


CASES = [
    ("lent, then counted on a shelf", [out("cab", 1, 0, "S1"), counted("door", 9, 30)], None,
     {("door", 9): "seen_in_stocktake"}),
    ("counted, then lent", [counted("door", 9, 0), out("cab", 1, 30, "S1")], "S1", {}),
    ("counted, never lent", [counted("door", 9, 0)], None, {}),
    ("lent, returned, then counted", [out("cab", 1, 0, "S1"), back("cab", 2, 10), counted("door", 9, 30)], None,
     {}),
    ("lent, counted, returned by the student who did not know", [out("cab", 1, 0, "S1"), counted("door", 9, 30),
                                                                 back("cab", 2, 40)],
     None, {("door", 9): "seen_in_stocktake", ("cab", 2): "return_not_on_loan"}),
]


@pytest.mark.parametrize("what, records, holder, flags", CASES, ids=[c[0] for c in CASES])
def test_a_count_on_the_shelf_closes_the_loan_open_then_in_every_arrival_order(what, records, holder, flags):
    for order in itertools.permutations(records):
        result = replay(order, {}, ItemFacts())
        assert (result.loan.patron_id if result.loan else None) == holder, order
        assert {k: reason for k, (reason, _) in result.flags.items()} == flags, order


STAMP = {"trusted": True, "boot_id": "b", "monotonic": 1.0}


def push(db, kiosk, *records):
    return store.push(db, kiosk, {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "b",
                                  "monotonic": 2.0, "records": [dict(r, **STAMP) for r in records]})


@pytest.fixture
def db(tmp_path):
    db = store.init_db(tmp_path / "central.db")
    store.import_csv(db, "patrons", (DEMO / "patrons.csv").read_text(), "patrons.csv")
    store.import_csv(db, "items", (DEMO / "items.csv").read_text(), "items.csv")
    for kiosk in ("door", "cabinet-3a", "cabinet-4b"):
        store.add_kiosk(db, kiosk)
    return db


def count(seq, item, minute, shelf="library", **details):
    return {"seq": seq, "kind": "inventory", "at": f"2026-11-23T09:{minute:02d}:00+00:00", "patron_id": "V3001",
            "item_id": item, "details": {"shelf": shelf, "home": "library", "status": "available", **details}}


def test_a_count_that_arrives_before_the_loan_it_closes_still_closes_it(db):
    push(db, "door", count(1, "B0001", 30))  # the door syncs first
    assert store.current_loans(db, datetime(2026, 11, 23).date()) == []
    push(db, "cabinet-3a", {"seq": 1, "kind": "checkout", "at": "2026-11-23T09:00:00+00:00", "patron_id": "S1001",
                            "item_id": "B0001", "details": {"due": "2026-12-07"}})
    assert store.current_loans(db, datetime(2026, 11, 23).date()) == []
    assert [(f["kiosk_id"], f["reason"]) for f in store.flagged(db)] == [("door", "seen_in_stocktake")]


def test_a_stocktake_of_books_on_the_shelf_sends_the_kiosks_nothing_new(db):
    before = store.changes(db, 0, 5000)["cursor"]
    push(db, "door", *[count(n, f"B{n:04d}", n) for n in range(1, 15)])
    after = store.changes(db, int(before), 5000)
    assert after["cursor"] == before and after["loans_removed"] == [] and after["items"] == []


def rehome(seq, item, minute, to, was="class-3a"):
    return {"seq": seq, "kind": "rehome", "at": f"2026-11-23T09:{minute:02d}:00+00:00", "patron_id": "V3001",
            "item_id": item, "details": {"from": was, "to": to}}


def test_the_newest_rehome_wins_whichever_kiosk_syncs_first_and_every_kiosk_pulls_it(db):
    cursor = int(store.changes(db, 0, 5000)["cursor"])
    push(db, "cabinet-4b", rehome(1, "B0008", 30, "class-4b"))
    push(db, "door", rehome(1, "B0008", 10, "library"))  # earlier, arrived later: does not win
    assert db.execute("SELECT home FROM items WHERE id = 'B0008'").fetchone()[0] == "class-4b"
    page = store.changes(db, cursor, 5000)
    assert [(i["id"], i["home"]) for i in page["items"]] == [("B0008", "class-4b")]
    register = [(e["action"], e["target"], e["detail"]) for e in store.register(db, "items")]
    assert ("item rehomed", "B0008", "class-3a -> library") in register
    assert ("item rehomed", "B0008", "class-3a -> class-4b") in register


def test_a_home_named_on_the_pages_reaches_the_kiosks_with_the_next_pull(db):
    cursor = int(store.changes(db, 0, 5000)["cursor"])
    store.set_home(db, "wu", "class-3a", "三年级一班", "3A")
    page = store.changes(db, cursor, 5000)
    assert page["homes"] == [{"id": "class-3a", "name": "三年级一班"}]
    named = db.execute("SELECT librarian, action, target, detail FROM audit").fetchall()
    assert named == [("wu", "home named", "class-3a", "三年级一班 (class 3A)")]
    with pytest.raises(store.CentralError, match="a name of 1 to 100 characters"):
        store.set_home(db, "wu", "class-3a", "  ")
    with pytest.raises(store.CentralError, match="home ' class-3a'"):
        store.set_home(db, "wu", " class-3a", "Class 3A")
