"""A stocktake of class 3A's book corner, through `kiosk simulate` and `kiosk sync` at two cabinets.

The central store runs on loopback; each cabinet is a kiosk database with a
config naming its home. Between them: a book of 4B misplaced in 3A's
cabinet, one of 3A's found in 4B's, one on loan found on the shelf, one
withdrawn found, one missing. The report puts every book in its state, and
closing the stocktake marks the missing book lost until a kiosk sees it.
"""

import json

import pytest
from click.testing import CliRunner

from kiosk import store
from kiosk.store import reading
from kiosk.cli import main as kiosk_cli
from sync.server import db as central_db
from sync.server.cli import main as central_cli

DAY = "2026-11-23"
EXTRA = ("id,title,author,call_number,tag_uid,barcode,home,status\n"
         "B0101,Owl at Home,Arnold Lobel,E LOB,04010101010101,,class-3a,available\n"
         "B0102,Old Atlas,Map Maker,912 OLD,04010101010102,,class-3a,withdrawn\n"
         "B0103,Lost Mittens,Ann Wool,E WOO,04010101010103,,class-3a,available\n"
         "B0104,Stone Soup,Jon Muth,E MUT,04010101010104,,class-3a,available\n")
CARD_SAM, CARD_MIA = "5F607182", "04A1B2C3"
CATERPILLAR, FROG, STARS = "048899AABBCCDD", "0499AABBCCDDEE", "04FF0011223344"
OWL, ATLAS, MITTENS, SOUP = "04010101010101", "04010101010102", "04010101010103", "04010101010104"


def kiosk(*args):
    return CliRunner().invoke(kiosk_cli, [str(a) for a in args])


def central(*args):
    return CliRunner().invoke(central_cli, [str(a) for a in args])


@pytest.fixture
def school(demo_central, tmp_path):
    """The demo's central store with four more books in 3A's corner, two homes named and 5C's cabinet."""
    db = demo_central.db
    central_db.import_csv(db, "items", EXTRA, "extra.csv")
    central_db.set_home(db, "wu", "class-3a", "Class 3A", "3A")
    central_db.set_home(db, "wu", "class-4b", "三年级一班")
    demo_central.tokens["cabinet-5c"] = central_db.add_kiosk(db, "cabinet-5c")
    demo_central.tmp = tmp_path
    return demo_central


class Cabinet:
    """One class cabinet's kiosk, driven through the `kiosk` command line."""

    def __init__(self, school, home):
        self.id = f"cabinet-{home.split('-')[1]}"
        self.db_path = school.tmp / f"{self.id}.db"
        self.config = school.tmp / f"{self.id}.toml"
        self.config.write_text(f'[kiosk]\nid = "{self.id}"\nrole = "cabinet"\nhome = "{home}"\n'
                               f'[central]\nurl = "{school.url}"\ntoken = "{school.tokens[self.id]}"\n')
        assert kiosk("init", "--db", self.db_path, "--kiosk-id", self.id).exit_code == 0

    def simulate(self, script: str) -> list[dict]:
        path = self.db_path.with_suffix(".script")
        path.write_text(script, encoding="utf-8")
        result = kiosk("simulate", path, "--db", self.db_path, "--config", self.config)
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]

    def sync(self):
        result = kiosk("sync", "--db", self.db_path, "--config", self.config, "--once")
        assert result.exit_code == 0, result.output

    def db(self):
        return store.open_db(self.db_path)


def taps(lines):
    """The outcome of each inventory tap: (item, reason, message)."""
    return [(o["item"], o["reason"], o["message"]) for o in lines if o["input"].startswith("tap ") and o["item"]]


def test_a_stocktake_of_a_cabinet_with_two_kiosks(school):
    cab3, cab4 = Cabinet(school, "class-3a"), Cabinet(school, "class-4b")
    for cabinet in (cab3, cab4):
        cabinet.sync()
    assert reading.homes(cab3.db())["class-4b"] == "三年级一班"  # the names came with the catalog

    # Mia borrows Owl at Home from her class's cabinet; it goes back on the shelf untapped.
    lent = cab3.simulate(f"at {DAY}T08:00:00+08:00\ntap {CARD_MIA}\ntap {OWL}\npress done\n")
    assert lent[1]["outcome"] == "checkout"
    cab3.sync()

    # Class 4B's volunteer counts 4B's cabinet: Stone Soup of 3A is there.
    counted4 = cab4.simulate(f"at {DAY}T09:00:00+08:00\ntap {CARD_SAM}\npress inventory\ntap {SOUP}\ntap {STARS}\n"
                             "press done\n")
    assert taps(counted4) == [("B0104", "belongs_elsewhere", "Stone Soup: belongs in Class 3A. Put it in the box."),
                              ("B0015", "belongs_here", "Number the Stars: belongs here.")]

    # 3A's cabinet: its own book, 4B's book, the book on loan, a withdrawn one, the same book again.
    counted3 = cab3.simulate(f"at {DAY}T10:00:00+08:00\ntap {CARD_SAM}\npress inventory\ntap {CATERPILLAR}\n"
                             f"tap {STARS}\ntap {OWL}\ntap {ATLAS}\nwait 3\ntap {CATERPILLAR}\npress done\n")
    assert taps(counted3) == [
        ("B0008", "belongs_here", "The Very Hungry Caterpillar: belongs here."),
        ("B0015", "belongs_elsewhere", "Number the Stars: belongs in 三年级一班. Put it in the box."),
        ("B0101", "on_loan_returned", "Owl at Home was on loan: now returned. It belongs here."),
        ("B0102", "unavailable", "Old Atlas is withdrawn: give it to the librarian."),
        ("B0008", "belongs_here", "The Very Hungry Caterpillar: counted already."),
    ]
    assert counted3[-1]["reason"] == "inventory_done" and "Books counted: 4" in counted3[-1]["message"]
    owl = next(o for o in counted3 if o["item"] == "B0101")
    assert owl["outcome"] == "info" and owl["flagged"] is True and owl["record"]
    assert dict(cab3.db().execute("SELECT item_id, patron_id FROM loans").fetchall()) == {}  # returned at once
    for cabinet in (cab4, cab3):
        cabinet.sync()

    # The central store closed the loan and put it before the librarian.
    assert central_db.current_loans(school.db, central_db.utc_now().date()) == []
    flags = [(f["item_id"], f["reason"]) for f in central_db.flagged(school.db)]
    assert flags == [("B0101", "seen_in_stocktake")]

    report = central("report", "stocktake", "--db", school.path, "--home", "class-3a", "--since", DAY, "--json")
    assert report.exit_code == 0, report.output
    rows = [json.loads(line) for line in report.stdout.splitlines()]
    assert all(list(row) == ["item", "title", "home", "state", "kiosk", "seen_at"] for row in rows)
    states = {row["item"]: (row["state"], row["kiosk"]) for row in rows}
    assert states == {"B0103": ("missing", ""), "B0015": ("misplaced", "cabinet-3a"),
                      "B0104": ("seen_elsewhere", "cabinet-4b"), "B0101": ("on_loan_seen", "cabinet-3a"),
                      "B0102": ("unavailable_seen", "cabinet-3a"), "B0008": ("seen", "cabinet-3a"),
                      "B0009": ("missing", "")}  # Frog and Toad: in 3A's corner, not on loan, not counted
    seen = next(row for row in rows if row["item"] == "B0008")
    assert seen["seen_at"].startswith(f"{DAY}T02:00:00") and seen["home"] == "class-3a"
    assert next(row for row in rows if row["item"] == "B0015")["home"] == "class-4b"

    as_csv = central("report", "stocktake", "--db", school.path, "--home", "class-3a", "--since", DAY, "--csv")
    lines = as_csv.stdout.splitlines()
    assert lines[0] == "item,title,home,state,kiosk,seen_at" and len(lines) == 1 + len(rows)
    assert "B0103,Lost Mittens,class-3a,missing,," in lines

    # The loan's end reached the other cabinet too.
    cab4.sync()
    assert cab4.db().execute("SELECT COUNT(*) FROM loans").fetchone()[0] == 0


def test_closing_a_stocktake_marks_the_missing_books_lost_until_a_kiosk_sees_one(school):
    cab3 = Cabinet(school, "class-3a")
    cab3.sync()
    cab3.simulate(f"at {DAY}T10:00:00+08:00\ntap {CARD_SAM}\npress inventory\ntap {CATERPILLAR}\ntap {OWL}\n"
                  f"tap {SOUP}\ntap {FROG}\npress done\n")
    cab3.sync()
    missing = [r["item"] for r in central_db.reconcile(school.db, "class-3a", DAY) if r["state"] == "missing"]
    assert missing == ["B0103"]
    with pytest.raises(central_db.CentralError, match="missing books now 1, not the 2 you confirmed"):
        central_db.close_stocktake(school.db, "wu", "class-3a", DAY, confirmed=2)  # she saw another count
    number, marked = central_db.close_stocktake(school.db, "wu", "class-3a", DAY, confirmed=1)
    assert marked == 1
    status = school.db.execute("SELECT status FROM items WHERE id = 'B0103'").fetchone()[0]
    assert status == "lost"
    register = [(e["action"], e["target"]) for e in central_db.register(school.db, "items")]
    assert ("item lost", "B0103") in register
    assert [m["item_id"] for m in central_db.still_missing(school.db)] == ["B0103"]
    one = central_db.still_missing(school.db, "B0103")  # what a book's page shows of it
    assert [(m["stocktake_id"], m["title"]) for m in one] == [(number, "Lost Mittens")]
    assert central_db.still_missing(school.db, "B0008") == []

    # The kiosk hears the book is lost; a child finds it and brings it to the cabinet.
    cab3.sync()
    found = cab3.simulate(f"at 2026-11-25T08:00:00+08:00\ntap {MITTENS}\n")
    assert found[-1]["reason"] == "found_lost" and found[-1]["flagged"] is True
    cab3.sync()
    status = school.db.execute("SELECT status FROM items WHERE id = 'B0103'").fetchone()[0]
    assert status == "available" and central_db.still_missing(school.db) == []
    assert ("item found", "B0103") in [(e["action"], e["target"]) for e in central_db.register(school.db, "items")]
    closed = central_db.stocktakes(school.db)[0]
    assert (closed["id"], closed["missing"], closed["found"]) == (number, 1, 1)
    cab3.sync()
    assert store.item_by_uid(cab3.db(), MITTENS).status == "available"


def test_the_homes_report(school):
    cab3 = Cabinet(school, "class-3a")
    cab3.sync()
    cab3.simulate(f"at {DAY}T08:00:00+08:00\ntap {CARD_MIA}\ntap {OWL}\npress done\n")
    cab3.sync()
    result = central("report", "homes", "--db", school.path, "--json")
    rows = {r["home"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["class-3a"] == {"home": "class-3a", "name": "Class 3A", "items": 6, "on_loan": 1, "available": 4}
    assert rows["class-4b"]["name"] == "三年级一班" and rows["library"]["name"] == "library"
    as_csv = central("report", "homes", "--db", school.path, "--csv").stdout.splitlines()
    assert as_csv[0] == "home,name,items,on_loan,available"


@pytest.mark.parametrize("args, message", [
    (["--home", "class-3a"], "needs --home (like class-3a) and --since"),
    (["--home", "class-3a", "--since", "23/11/2026"], "'23/11/2026' is not a date like 2026-11-23"),
    (["--home", "class-9z", "--since", DAY], "--home 'class-9z': no book belongs there"),
])
def test_a_stocktake_report_without_its_home_or_day_says_what_is_missing(school, args, message):
    result = central("report", "stocktake", "--db", school.path, *args)
    assert result.exit_code == 1 and message in result.output and len(result.output.splitlines()) == 1
