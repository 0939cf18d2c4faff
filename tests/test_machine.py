"""The kiosk state machine, table-driven: one row per rule of BRIEF section 3.

Each row is a list of (seconds after 09:00 on Monday 2026-11-23, event) and
what the LAST event must amount to.
"""

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from kiosk.domain.events import (
    Door, ExitKiosk, Light, Outcome, Press, ReaderFault, ReaderOk, Record, Scan, Show, Sound,
    StatusUpdate, SyncNow, Tap, Tick, Unlock,
)
from kiosk.domain.machine import MachineConfig, initial_state, step
from kiosk.domain.model import Item, Loan, LoanRule, Patron, Policy

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # a Monday
TODAY = T0.date()

MIA = Patron("s1", "Mia", "student", "3A", "04A1B2C3")
BEN = Patron("s2", "Ben", "student", "3A", "0A0B0C0D")
LI = Patron("t1", "Ms Li", "teacher", "", "1A2B3C4D")
VOL = Patron("v1", "Sam", "volunteer", "5B", "5A5B5C5D")
LIB = Patron("l1", "Mrs Wu", "librarian", "", "6A6B6C6D")
STOPPED = replace(MIA, id="s3", name="Zoe", card_uid="7A7B7C7D", status="blocked")
EXPIRED = replace(MIA, id="s4", name="Tom", card_uid="8A8B8C8D", expires=date(2026, 7, 1))

BOOK = Item("b1", "Charlotte's Web", tag_uid="04112233445566", home="library")
BOOK2 = Item("b2", "Matilda", tag_uid="04223344556677", home="library")
BOOK3 = Item("b3", "The Hobbit", tag_uid="04334455667788", home="library")
BOOK4 = Item("b4", "Holes", tag_uid="04445566778899", home="library")
CABINET_BOOK = Item("c1", "Frog and Toad", tag_uid="04AABBCCDDEEFF", home="class-3a")
REPAIR = replace(BOOK, id="r1", title="Torn", tag_uid="04000000000001", status="repair")
WITHDRAWN = replace(BOOK, id="w1", title="Old", tag_uid="04000000000002", status="withdrawn")
LOST = replace(BOOK, id="x1", title="Gone", tag_uid="04000000000003", status="lost")


def loan(item, patron, due=TODAY + timedelta(days=7), renewals=0):
    return Loan(item.id, patron.id, due, T0 - timedelta(days=7), renewals, item.title)


def card(patron, *loans):
    return Tap(patron.card_uid, found=patron, loans=tuple(loans))


def book(item, on_loan=None):
    return Tap(item.tag_uid, found=item, loan=on_loan)


MIA_HAS_BOOK = loan(BOOK, MIA)
BEN_HAS_BOOK = loan(BOOK, BEN)
VERY_LATE = loan(BOOK2, MIA, due=TODAY - timedelta(days=15))
A_BIT_LATE = loan(BOOK2, MIA, due=TODAY - timedelta(days=3))


def run(steps, config=MachineConfig()):
    state = initial_state(config, T0)
    effects = []
    for seconds, event in steps:
        state, effects = step(config, state, event, T0 + timedelta(seconds=seconds))
    return state, effects


def summary(state, effects):
    outcome = [e for e in effects if isinstance(e, Outcome)]
    assert len(outcome) <= 1
    o = outcome[0] if outcome else None
    return {
        "outcome": o.kind if o else None,
        "reason": o.reason if o else None,
        "patron": o.patron_id if o else None,
        "item": o.item_id if o else None,
        "due": o.due if o else None,
        "flagged": o.flagged if o else None,
        "records": [(e.kind, e.patron_id, e.item_id, e.flagged) for e in effects if isinstance(e, Record)],
        "light": [e.pattern for e in effects if isinstance(e, Light)],
        "sound": [e.name for e in effects if isinstance(e, Sound)],
        "unlock": [e.seconds for e in effects if isinstance(e, Unlock)],
        "screen": state.view.screen,
        "tone": state.view.tone,
        "message": o.message.render() if o else None,
    }


CABINET = MachineConfig(kiosk_id="cab-3a", role="cabinet", home="class-3a", has_lock=True, lock_seconds=5)
REFUSE = MachineConfig(on_loan_to_other="refuse")

CASES = {
    # --- a book at idle: a return
    "return at idle, on loan": (
        [(0, book(BOOK, MIA_HAS_BOOK))],
        dict(outcome="return", patron="s1", item="b1", records=[("return", "s1", "b1", False)],
             light=["ok"], sound=["ok"], screen="result", message="Returned: Charlotte's Web. Thank you!"),
    ),
    "return at idle, not on loan": (
        [(0, book(BOOK))],
        dict(outcome="info", reason="not_on_loan", records=[("not_on_loan", None, "b1", False)],
             sound=[], screen="result", tone="info"),
    ),
    "return at idle, belongs to another cabinet": (
        [(0, book(CABINET_BOOK, loan(CABINET_BOOK, MIA)))],
        dict(outcome="return", records=[("return", "s1", "c1", False)],
             message="Returned: Frog and Toad. Please put it in Class 3A."),
    ),
    "not on loan, belongs to another cabinet": (
        [(0, book(CABINET_BOOK))],
        dict(outcome="info", reason="not_on_loan", message="Frog and Toad is not on loan. It belongs in Class 3A."),
    ),
    "a lost book turns up at idle: flagged for the librarian": (
        [(0, book(LOST))],
        dict(outcome="info", reason="found_lost", flagged=True, records=[("not_on_loan", None, "x1", True)]),
    ),
    "unknown tag at idle": (
        [(0, Tap("04DEADBEEF0001"))],
        dict(outcome="unknown_tag", records=[("unknown_tag", None, None, False)], light=["error"],
             sound=["librarian"], screen="result", tone="error", message="Please give this to the librarian"),
    ),
    "unknown barcode": (
        [(0, Scan("9780000000000"))],
        dict(outcome="unknown_tag", records=[("unknown_tag", None, None, False)]),
    ),
    "a barcode scan returns a book like a tap": (
        [(0, Scan("9781234567897", found=BOOK, loan=MIA_HAS_BOOK))],
        dict(outcome="return", records=[("return", "s1", "b1", False)]),
    ),
    # --- a card at idle: a session
    "session start with loans and allowance": (
        [(0, card(MIA, MIA_HAS_BOOK))],
        dict(outcome="session_start", patron="s1", records=[], light=["ok"], screen="session",
             message="Hello, Mia"),
    ),
    "checkout with due date two weeks on": (
        [(0, card(MIA)), (3, book(BOOK))],
        dict(outcome="checkout", patron="s1", item="b1", due=date(2026, 12, 7),
             records=[("checkout", "s1", "b1", False)], light=["ok"], sound=["ok"], screen="session"),
    ),
    "teacher: 30 days": (
        [(0, card(LI)), (3, book(BOOK))],
        dict(outcome="checkout", due=date(2026, 12, 23)),
    ),
    "renewal of a book already on loan to the same patron": (
        [(0, card(MIA, MIA_HAS_BOOK)), (3, book(BOOK, MIA_HAS_BOOK))],
        dict(outcome="renew", due=date(2026, 12, 7), records=[("renew", "s1", "b1", False)]),
    ),
    "renewal limit counted": (
        [(0, card(MIA, loan(BOOK, MIA, renewals=2))), (3, book(BOOK, loan(BOOK, MIA, renewals=2)))],
        dict(outcome="refused", reason="renewal_limit", records=[("refused", "s1", "b1", False)],
             light=["error"], sound=["error"]),
    ),
    "on loan to another patron: returned from them and lent, both flagged": (
        [(0, card(MIA)), (3, book(BOOK, BEN_HAS_BOOK))],
        dict(outcome="checkout", flagged=True,
             records=[("return", "s2", "b1", True), ("checkout", "s1", "b1", True)]),
    ),
    "on loan to another patron, policy refuse": (
        [(0, card(MIA)), (3, book(BOOK, BEN_HAS_BOOK))],
        dict(outcome="refused", reason="on_loan_to_other", records=[("refused", "s1", "b1", False)]),
        REFUSE,
    ),
    "limit reached": (
        [(0, card(MIA, loan(BOOK2, MIA), loan(BOOK3, MIA), loan(BOOK4, MIA))), (3, book(BOOK))],
        dict(outcome="refused", reason="limit_reached", message="You already have 3 books. Please return one first."),
    ),
    "limit reached within the session": (
        [(0, card(MIA)), (2, book(BOOK)), (4, book(BOOK2)), (6, book(BOOK3)), (8, book(BOOK4))],
        dict(outcome="refused", reason="limit_reached"),
    ),
    "blocked: overdue more than 14 days": (
        [(0, card(MIA, VERY_LATE))],
        dict(outcome="session_start", reason="blocked_overdue", light=["error"], sound=["error"], screen="session",
             message="A book is very late. Please bring it back before borrowing more."),
    ),
    "a few days overdue is not blocked": (
        [(0, card(MIA, A_BIT_LATE)), (3, book(BOOK))],
        dict(outcome="checkout"),
    ),
    "blocked overdue patron refused a checkout": (
        [(0, card(MIA, VERY_LATE)), (3, book(BOOK))],
        dict(outcome="refused", reason="blocked_overdue"),
    ),
    "blocked overdue patron may still return": (
        [(0, card(MIA, VERY_LATE)), (3, book(BOOK2, VERY_LATE))],
        dict(outcome="return", records=[("return", "s1", "b2", False)]),
    ),
    "card blocked": (
        [(0, card(STOPPED)), (3, book(BOOK))],
        dict(outcome="refused", reason="card_blocked", message="Your card is stopped. Please see the librarian."),
    ),
    "card expired": (
        [(0, card(EXPIRED)), (3, book(BOOK))],
        dict(outcome="refused", reason="card_expired"),
    ),
    "blocked card may still return at idle": (
        [(0, book(BOOK, loan(BOOK, STOPPED)))],
        dict(outcome="return", patron="s3"),
    ),
    "item in repair": (
        [(0, card(MIA)), (3, book(REPAIR))],
        dict(outcome="refused", reason="item_unavailable",
             message="This book is being repaired. Please give it to the librarian."),
    ),
    "item withdrawn": (
        [(0, card(MIA)), (3, book(WITHDRAWN))],
        dict(outcome="refused", reason="item_unavailable"),
    ),
    "item lost": (
        [(0, card(MIA)), (3, book(LOST))],
        dict(outcome="refused", reason="item_unavailable"),
    ),
    "a second card ends the first session and starts the new one": (
        [(0, card(MIA)), (3, book(BOOK)), (6, card(BEN))],
        dict(outcome="session_start", patron="s2", screen="session", message="Hello, Ben"),
    ),
    "the same card again ends the session with a summary": (
        [(0, card(MIA)), (3, book(BOOK)), (6, card(MIA))],
        dict(outcome="session_end", reason="same_card", screen="summary",
             message="Books borrowed or renewed today: 1"),
    ),
    "the done button ends the session": (
        [(0, card(MIA)), (3, Press("done"))],
        dict(outcome="session_end", reason="done", screen="summary"),
    ),
    "20 seconds without a tap ends the session": (
        [(0, card(MIA)), (5, book(BOOK)), (24, Tick()), (25, Tick())],
        dict(outcome="session_end", reason="timeout", screen="summary"),
    ),
    "19 seconds is not yet the timeout": (
        [(0, card(MIA)), (5, book(BOOK)), (24, Tick())],
        dict(outcome=None, screen="session"),
    ),
    "the summary goes back to idle": (
        [(0, card(MIA)), (3, Press("done")), (10, Tick())],
        dict(outcome=None, screen="idle"),
    ),
    "the same UID within 2 s is ignored": (
        [(0, card(MIA)), (1.5, card(MIA))],
        dict(outcome="ignored", reason="debounce", records=[], light=[], screen="session"),
    ),
    "the same book within 2 s is not lent twice": (
        [(0, card(MIA)), (3, book(BOOK)), (4, book(BOOK, loan(BOOK, MIA)))],
        dict(outcome="ignored", records=[]),
    ),
    "a volunteer card opens the staff screen": (
        [(0, card(VOL))],
        dict(outcome="staff", records=[("staff_login", "v1", None, False)], screen="staff"),
    ),
    "inventory mode records every book": (
        [(0, card(VOL)), (2, Press("inventory")), (4, book(BOOK))],
        dict(outcome="info", reason="belongs_here", records=[("inventory", "v1", "b1", False)], screen="inventory"),
    ),
    "a volunteer may not exit the kiosk": (
        [(0, card(VOL)), (2, Press("exit"))],
        dict(outcome="ignored", records=[]),
    ),
    "a librarian may exit for maintenance, logged": (
        [(0, card(LIB)), (2, Press("exit"))],
        dict(outcome="staff", reason="exit", records=[("exit_maintenance", "l1", None, False)]),
    ),
    "a card where a book was expected is taken as a card": (
        [(0, card(MIA)), (3, card(BEN))],
        dict(outcome="session_start", patron="s2", records=[]),
    ),
    "an unknown tag in a session is never lent": (
        [(0, card(MIA)), (3, Tap("04DEADBEEF0001"))],
        dict(outcome="unknown_tag", records=[("unknown_tag", None, None, False)], screen="session"),
    ),
    "reader fault": (
        [(0, card(MIA)), (3, ReaderFault("no answer"))],
        dict(outcome="info", reason="reader_fault", records=[("reader_fault", None, None, False)],
             light=["fault"], screen="fault", message="Reader not working, please tell the librarian"),
    ),
    "reader recovers by itself": (
        [(0, ReaderFault("no answer")), (9, ReaderOk())],
        dict(outcome="info", reason="reader_ok", screen="idle", light=["off"]),
    ),
    "a valid card opens the cabinet lock": (
        [(0, card(MIA))],
        dict(outcome="session_start", unlock=[5]),
        CABINET,
    ),
    "a blocked card does not open the cabinet": (
        [(0, card(STOPPED))],
        dict(outcome="session_start", reason="card_blocked", unlock=[]),
        CABINET,
    ),
    "an overdue patron's card opens the cabinet, to return books": (
        [(0, card(MIA, VERY_LATE))],
        dict(unlock=[5]),
        CABINET,
    ),
    "a door left open too long is logged and shown": (
        [(0, Door(True)), (30, Tick()), (61, Tick())],
        dict(outcome="info", reason="door_open_too_long", records=[("door_open_too_long", None, None, False)],
             light=["error"], tone="error"),
        CABINET,
    ),
    "a door alarm is logged once": (
        [(0, Door(True)), (61, Tick()), (70, Tick())],
        dict(outcome=None, records=[]),
        CABINET,
    ),
    "the help button": (
        [(0, Press("help"))],
        dict(outcome="info", reason="help", screen="help"),
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_rule(name):
    steps, expected, *config = CASES[name]
    got = summary(*run(steps, *config))
    assert {k: got[k] for k in expected} == expected


def test_records_come_before_every_other_effect():
    for name, (steps, _expected, *config) in CASES.items():
        _state, effects = run(steps, *config)
        kinds = [isinstance(e, Record) for e in effects]
        assert kinds == sorted(kinds, reverse=True), name


def test_outcome_is_last_and_screen_follows_the_state():
    _state, effects = run([(0, card(MIA)), (3, book(BOOK))])
    assert isinstance(effects[-1], Outcome)
    shown = [e.view for e in effects if isinstance(e, Show)]
    assert shown and shown[-1].loans[0].title == "Charlotte's Web" and shown[-1].loans[0].new


def test_session_shows_overdue_books_and_allowance():
    state, _ = run([(0, card(MIA, MIA_HAS_BOOK, A_BIT_LATE))])
    lines = {line.item_id: line for line in state.view.loans}
    assert lines["b2"].overdue and not lines["b1"].overdue
    assert state.view.allowance == 1
    assert state.view.blocked is None


def test_blocked_patron_is_told_why_once_and_what_they_may_still_do():
    state, _ = run([(0, card(MIA, VERY_LATE))])
    view = state.view
    assert "very late" in view.message.render() and view.tone == "error"
    assert view.blocked == view.message  # the screen says it once, in the banner
    assert view.can_do.render() == "You can still return books."
    assert view.allowance is None  # no "You may borrow 0 more."


def test_due_date_on_a_closed_day_moves_to_the_next_open_day():
    # Friday 2026-11-27 + 14 days = Friday 2026-12-11; with that Friday a
    # holiday the due date moves past the weekend to Monday 2026-12-14.
    policy = Policy(holidays=(date(2026, 12, 11),))
    config = MachineConfig(policy=policy)
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)
    state = initial_state(config, friday)
    state, _ = step(config, state, card(MIA), friday)
    state, effects = step(config, state, book(BOOK), friday + timedelta(seconds=3))
    assert [e.due for e in effects if isinstance(e, Outcome)] == [date(2026, 12, 14)]


def test_rules_per_patron_type_come_from_the_policy():
    policy = Policy(types={**Policy().types, "student": LoanRule(loan_days=7, max_loans=1, renewals=0)})
    config = MachineConfig(policy=policy)
    state, effects = run([(0, card(MIA)), (3, book(BOOK))], config)
    assert summary(state, effects)["due"] == date(2026, 11, 30)
    state, effects = run([(0, card(MIA)), (3, book(BOOK)), (6, book(BOOK2))], config)
    assert summary(state, effects)["reason"] == "limit_reached"


def test_4_and_7_byte_uids_are_different_tags():
    """A book sticker whose UID starts with a card's 4 bytes is still the book."""
    sticker = Item("b9", "Wonder", tag_uid=MIA.card_uid + "112233")
    state, effects = run([(0, card(MIA)), (3, Tap(sticker.tag_uid, found=sticker))])
    assert summary(state, effects)["outcome"] == "checkout"
    # and the card itself, tapped while the sticker was last, is the card
    state, effects = run([(0, card(MIA)), (3, Tap(sticker.tag_uid, found=sticker)), (6, card(MIA))])
    assert summary(state, effects)["outcome"] == "session_end"


def test_language_button_switches_between_english_and_chinese():
    state, effects = run([(0, Press("lang"))])
    assert state.language == "zh_CN" and state.view.language == "zh_CN"
    state, _ = run([(0, Press("lang")), (1, Press("lang"))])
    assert state.language == "en"


def test_staff_screen_lists_unknown_tags_and_can_ask_for_a_sync():
    state, effects = run([(0, Tap("04DEADBEEF0001")), (5, card(VOL)), (7, Press("sync"))])
    assert any(isinstance(e, SyncNow) for e in effects)
    assert state.view.unknown_tags[0][0] == "04DEADBEEF0001"
    state, effects = run([(0, card(LIB)), (2, Press("exit"))])
    assert any(isinstance(e, ExitKiosk) for e in effects)


def test_status_updates_reach_the_idle_view_without_an_outcome():
    state, effects = run([(0, StatusUpdate(online=True, pending=4))])
    assert state.view.status.online and state.view.status.pending == 4
    assert [type(e) for e in effects] == [Show]
    state, effects = step(MachineConfig(), state, StatusUpdate(online=True), T0)
    assert effects == []


def test_a_session_timeout_and_a_door_alarm_in_one_tick_keep_both_outcomes():
    # The door opened with the card; the student walks away with the door open:
    # at 60 s the door alarm and, with a 60 s session timeout, the session's end.
    config = replace(CABINET, session_timeout=60.0)
    state, effects = run([(0, card(MIA)), (0, Door(True)), (60, Tick())], config)
    outcomes = [(e.kind, e.reason) for e in effects if isinstance(e, Outcome)]
    assert outcomes == [("session_end", "timeout"), ("info", "door_open_too_long")]
    assert [e.kind for e in effects if isinstance(e, Record)] == ["door_open_too_long"]
    assert state.view.screen == "summary" and state.view.tone == "error"  # the alarm shows over the summary


def test_outcome_screen_and_tone_names_are_the_declared_ones():
    # kiosk simulate's JSON lines are a contract: a misspelt name fails where it is made.
    from kiosk.domain.view import Message, View

    with pytest.raises(ValueError, match="not a known reason"):
        Outcome("info", Message("x"), reason="belongs_hear")
    with pytest.raises(ValueError, match="not a known outcome"):
        Outcome("checkin", Message("x"))
    with pytest.raises(ValueError, match="no screen"):
        View(screen="idel", language="en", kiosk_name="k", now=T0)
    with pytest.raises(ValueError, match="not a known sound"):
        Sound("beep")
