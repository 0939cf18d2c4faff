"""A rotation of the book corners between three cabinets: planned centrally, received at the kiosks.

3A's books go to 4B, 4B's to 5C and 5C's to 3A. The packing lists say what
goes in each box; a book is done when the receiving cabinet has tapped it in
"Receive books", and every kiosk learns its new home at its next pull.
"""

import json

import pytest

from kiosk import store
from sync.server import db as central_db
from tests.test_stocktake import CARD_SAM, CATERPILLAR, DAY, FROG, STARS, Cabinet, central, kiosk, school  # noqa: F401

CORNER_5C = ("B0201,Little Bear,Else Minarik,E MIN,04020202020201,,class-5c,available\n"
             "B0202,Mouse Soup,Arnold Lobel,E LOB,04020202020202,,class-5c,available\n")
BEAR, MOUSE = "04020202020201", "04020202020202"


@pytest.fixture
def corners(school):  # noqa: F811
    central_db.import_csv(school.db, "items", "id,title,author,call_number,tag_uid,barcode,home,status\n" + CORNER_5C,
                          "5c.csv")
    central_db.set_home(school.db, "wu", "class-5c", "Class 5C", "5C")
    cabinets = {home: Cabinet(school, home) for home in ("class-3a", "class-4b", "class-5c")}
    for cabinet in cabinets.values():
        cabinet.sync()
    return school, cabinets


def received(lines):
    return [(o["item"], o["reason"]) for o in lines if o["input"].startswith("tap ") and o["item"]]


def test_a_rotation_between_three_cabinets(corners):
    school, cab = corners
    number = central_db.create_rotation(school.db, "wu", ["class-3a", "class-4b", "class-5c"], ring=True)
    boxes = {box["from_home"]: box for box in central_db.packing_lists(school.db, number)}
    assert {home: (box["to_home"], [b["item_id"] for b in box["books"]]) for home, box in boxes.items()} == {
        "class-3a": ("class-4b", ["B0008", "B0009", "B0101", "B0104", "B0103"]),  # by call number; not withdrawn
        "class-4b": ("class-5c", ["B0015"]),
        "class-5c": ("class-3a", ["B0202", "B0201"]),
    }

    # 4B's cabinet receives 3A's box; 5C's receives 4B's; 3A's has only one of 5C's books yet.
    got = cab["class-4b"].simulate(f"at {DAY}T12:00:00+08:00\ntap {CARD_SAM}\npress receive\ntap {CATERPILLAR}\n"
                                   f"tap {FROG}\ntap {STARS}\npress done\n")
    assert received(got) == [("B0008", "rehomed"), ("B0009", "rehomed"), ("B0015", "already_here")]
    assert got[2]["message"] == "The Very Hungry Caterpillar now belongs in 三年级一班."
    assert store.item_by_uid(cab["class-4b"].db(), CATERPILLAR).home == "class-4b"  # at once, offline too
    assert got[-1]["reason"] == "receive_done" and "Books received: 2" in got[-1]["message"]
    cab["class-5c"].simulate(f"at {DAY}T12:10:00+08:00\ntap {CARD_SAM}\npress receive\ntap {STARS}\npress done\n")
    cab["class-3a"].simulate(f"at {DAY}T12:20:00+08:00\ntap {CARD_SAM}\npress receive\ntap {BEAR}\npress done\n")
    for cabinet in cab.values():
        cabinet.sync()

    lists = central_db.packing_lists(school.db, number)
    done = {b["item_id"]: b["received_by"] for box in lists for b in box["books"] if b["received_at"]}
    assert done == {"B0008": "cabinet-4b", "B0009": "cabinet-4b", "B0015": "cabinet-5c", "B0201": "cabinet-3a"}
    plan = central_db.rotations(school.db)[0]
    assert (plan["id"], plan["books"], plan["received"], plan["order"]) == (number, 8, 4,
                                                                          ["class-3a", "class-4b", "class-5c"])

    # Every kiosk learns the new homes: 3A's cabinet now sends the caterpillar to 4B's corner.
    cab["class-3a"].sync()
    at_3a = cab["class-3a"].simulate(f"at {DAY}T13:00:00+08:00\ntap {CATERPILLAR}\n")
    assert at_3a[-1]["message"] == "The Very Hungry Caterpillar is not on loan. It belongs in 三年级一班."
    homes = central("report", "homes", "--db", school.path, "--json").stdout.splitlines()
    counts = {r["home"]: r["items"] for r in map(json.loads, homes)}
    assert counts == {"class-3a": 5, "class-4b": 2, "class-5c": 2, "library": 12}

    # The history of 3A's corner: what it had, and since and until when.
    history = {r["item"]: (r["since"][:10], r["until"][:10]) for r in central_db.home_history(school.db, "class-3a")}
    assert history["B0008"] == ("", DAY) and history["B0201"] == (DAY, "") and history["B0101"] == ("", "")


def test_reading_from_the_class_corner_and_from_elsewhere(corners):
    school, cab = corners
    cab["class-4b"].simulate(f"at {DAY}T08:00:00+08:00\ntap {CARD_SAM}\npress receive\ntap {CATERPILLAR}\n"
                             "press done\n")
    # Mia (class 3A) borrows Frog and Toad from her corner, then the caterpillar, now 4B's.
    cab["class-3a"].simulate(f"at {DAY}T09:00:00+08:00\ntap 04A1B2C3\ntap {FROG}\nwait 3\ntap {CATERPILLAR}\n"
                             "press done\n")
    for cabinet in (cab["class-4b"], cab["class-3a"]):
        cabinet.sync()
    assert central_db.corner_reading(school.db, "class-3a", DAY) == {"class_name": "3A", "own_corner": 1,
                                                                      "elsewhere": 1}


@pytest.mark.parametrize("order, message", [
    (["class-3a"], "two or more different homes"),
    (["class-3a", "class-3a"], "two or more different homes"),
    (["class-3a", "class-9z"], "no home 'class-9z'"),
])
def test_a_rotation_needs_real_homes(corners, order, message):
    school, _ = corners
    with pytest.raises(central_db.CentralError, match=message):
        central_db.create_rotation(school.db, "wu", order)
    assert central_db.rotations(school.db) == []
