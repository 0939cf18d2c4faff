"""The staff tasks of the state machine, table-driven: a stocktake (Inventory) and receiving books.

Rows as in tests/test_machine.py: (seconds after 09:00, event) steps and
what the LAST event amounts to; the kiosk is a cabinet of class 3A whose
home the central store has named.
"""

from dataclasses import replace

import pytest

from kiosk.domain.events import Press, Record, Tap
from kiosk.domain.machine import MachineConfig
from kiosk.domain.model import Item
from tests.test_machine import BOOK, CABINET, LIB, LOST, MIA, REPAIR, VOL, WITHDRAWN, book, card, loan, run, summary

HOMES = {"class-3a": "Class 3A", "class-4b": "三年级一班", "library": "The library"}
CAB = replace(CABINET, homes=HOMES)
OURS = Item("c1", "Frog and Toad", tag_uid="04AABBCCDDEEF1", home="class-3a")
OURS2 = Item("c2", "Owl at Home", tag_uid="04AABBCCDDEEF2", home="class-3a")
THEIRS = Item("d1", "Number the Stars", tag_uid="04AABBCCDDEEF3", home="class-4b")
COUNT = [(0, card(VOL)), (2, Press("inventory"))]
RECEIVE = [(0, card(VOL)), (2, Press("receive"))]

CASES = {
    "inventory starts with a word and a count of nothing": (
        COUNT,
        dict(outcome="staff", reason="inventory", records=[], screen="inventory",
             message="Tap every book on the shelf."),
    ),
    "a book of this shelf: belongs here": (
        COUNT + [(4, book(OURS))],
        dict(outcome="info", reason="belongs_here", item="c1", records=[("inventory", "v1", "c1", False)],
             light=["ok"], sound=["ok"], tone="ok", screen="inventory", message="Frog and Toad: belongs here."),
    ),
    "a book of another class: belongs there, by its name": (
        COUNT + [(4, book(THEIRS))],
        dict(outcome="info", reason="belongs_elsewhere", records=[("inventory", "v1", "d1", False)], tone="info",
             message="Number the Stars: belongs in 三年级一班. Put it in the box."),
    ),
    "a book on loan found on the shelf: returned, flagged": (
        COUNT + [(4, book(OURS, loan(OURS, MIA)))],
        dict(outcome="info", reason="on_loan_returned", flagged=True, records=[("inventory", "v1", "c1", True)],
             message="Frog and Toad was on loan: now returned. It belongs here."),
    ),
    "a book of another class on loan: returned, and where it goes": (
        COUNT + [(4, book(THEIRS, loan(THEIRS, MIA)))],
        dict(outcome="info", reason="on_loan_returned", records=[("inventory", "v1", "d1", True)],
             message="Number the Stars was on loan: now returned. It belongs in 三年级一班: put it in the box."),
    ),
    "a withdrawn book: to the librarian": (
        COUNT + [(4, book(WITHDRAWN))],
        dict(outcome="info", reason="unavailable", records=[("inventory", "v1", "w1", False)], light=["error"],
             sound=["librarian"], tone="error", message="Old is withdrawn: give it to the librarian."),
    ),
    "a lost book: to the librarian": (
        COUNT + [(4, book(LOST))],
        dict(reason="unavailable", message="Gone was marked lost: give it to the librarian."),
    ),
    "a book in repair: to the librarian": (
        COUNT + [(4, book(REPAIR))],
        dict(reason="unavailable", message="Torn is being repaired: give it to the librarian."),
    ),
    "the same book twice counts once": (
        COUNT + [(4, book(OURS)), (9, book(OURS))],
        dict(outcome="info", reason="belongs_here", records=[], message="Frog and Toad: counted already."),
    ),
    "a book scanned by its barcode is counted like a tap": (
        COUNT + [(4, book(OURS)), (6, Tap("04AABBCCDDEEF2", found=OURS2))],
        dict(reason="belongs_here", item="c2", records=[("inventory", "v1", "c2", False)]),
    ),
    "done ends the inventory with its count, back on the staff menu": (
        COUNT + [(4, book(OURS)), (6, book(OURS2)), (8, book(OURS)), (10, Press("done"))],
        dict(outcome="staff", reason="inventory_done", records=[], screen="staff",
             message="Inventory finished. Books counted: 2."),
    ),
    "done on the staff menu then leaves": (
        COUNT + [(4, Press("done")), (6, Press("done"))],
        dict(outcome="staff", screen="idle"),
    ),
    "receive starts": (
        RECEIVE,
        dict(outcome="staff", reason="receive", screen="receive", message="Tap each book from the box."),
    ),
    "a received book now belongs here": (
        RECEIVE + [(4, book(THEIRS))],
        dict(outcome="info", reason="rehomed", item="d1", records=[("rehome", "v1", "d1", False)], sound=["ok"],
             screen="receive", message="Number the Stars now belongs in Class 3A."),
    ),
    "a book that already belongs here is not moved": (
        RECEIVE + [(4, book(OURS))],
        dict(outcome="info", reason="already_here", records=[], message="Frog and Toad already belongs here."),
    ),
    "done ends receiving with its count": (
        RECEIVE + [(4, book(THEIRS)), (6, book(OURS)), (8, Press("done"))],
        dict(outcome="staff", reason="receive_done", screen="staff", message="Receiving finished. Books received: 1."),
    ),
    "a book tapped on the staff menu shows its details, by its home's name": (
        [(0, card(VOL)), (2, book(THEIRS))],
        dict(outcome="info", reason="item_details", records=[],
             message="Number the Stars: on the shelf. It belongs in 三年级一班."),
    ),
    "a student's card during a stocktake starts a session": (
        COUNT + [(4, card(MIA))],
        dict(outcome="session_start", screen="session"),
    ),
    "a cabinet's book returned at idle says the home's name": (
        [(0, book(THEIRS, loan(THEIRS, MIA)))],
        dict(outcome="return", message="Returned: Number the Stars. Please put it in 三年级一班."),
    ),
    "a cabinet's book not on loan at idle says the home's name": (
        [(0, book(THEIRS))],
        dict(outcome="info", reason="not_on_loan", message="Number the Stars is not on loan. It belongs in 三年级一班."),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_rule(name):
    got = summary(*run(CASES[name][0], CAB))
    expected = CASES[name][1]
    assert {k: got[k] for k in expected} == expected


def test_the_count_on_screen_counts_each_book_once():
    state, _ = run(COUNT + [(4, book(OURS)), (6, book(THEIRS)), (9, book(OURS))], CAB)
    assert (state.view.screen, state.view.counted, state.view.shelf) == ("inventory", 2, "Class 3A")
    assert state.view.heading.render() == "Inventory: Class 3A" and state.view.buttons == ("done", "lang")
    assert state.view.message.render() == "Frog and Toad: counted already."


def test_an_inventory_record_says_where_the_book_was_seen_and_which_loan_it_closed():
    _, effects = run(COUNT + [(4, book(THEIRS, loan(THEIRS, MIA)))], CAB)
    record = next(e for e in effects if isinstance(e, Record))
    assert record.details == {"shelf": "class-3a", "home": "class-4b", "status": "available", "on_loan": True,
                              "from_patron": "s1", "due": "2026-11-30", "seen_in_stocktake": True}


def test_a_rehome_record_names_the_old_and_the_new_home():
    _, effects = run(RECEIVE + [(4, book(THEIRS))], CAB)
    record = next(e for e in effects if isinstance(e, Record))
    assert record.details == {"from": "class-4b", "to": "class-3a"}


def test_without_names_from_the_central_store_a_home_is_read_from_its_id_never_shown_raw():
    state, effects = run(COUNT + [(4, book(THEIRS))], CABINET)
    assert summary(state, effects)["message"] == "Number the Stars: belongs in Class 4B. Put it in the box."


def test_the_staff_menu_offers_both_tasks_and_a_librarian_also_exit():
    state, _ = run([(0, card(VOL))], CAB)
    assert state.view.buttons == ("inventory", "receive", "sync", "done", "lang")
    state, _ = run([(0, card(LIB))], CAB)
    assert state.view.buttons == ("inventory", "receive", "sync", "done", "lang", "exit")


def test_a_library_book_at_the_door_belongs_here():
    door = MachineConfig(homes=HOMES)
    state, effects = run(COUNT + [(4, book(BOOK))], door)
    assert summary(state, effects)["reason"] == "belongs_here" and state.view.shelf == "The library"
