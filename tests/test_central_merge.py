"""The merge as a table: one item's records, in any arrival order, give one loan and the same flags."""

import itertools
from datetime import date, datetime, timedelta, timezone

import pytest

from sync.server.merge import ItemFacts, PatronFacts, Rec, corrected_time, replay

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def out(kiosk, seq, minute, patron=None):
    return Rec(kiosk, seq, "checkout", at(minute), patron, "2026-12-07")


def back(kiosk, seq, minute, patron=None):
    return Rec(kiosk, seq, "return", at(minute), patron)


def renew(kiosk, seq, minute, patron, due="2026-12-21"):
    return Rec(kiosk, seq, "renew", at(minute), patron, due)


CASES = [
    # (what, records, patrons, item, loan holder or None, {record: reason})
    ("lent at a cabinet, returned at the door", [out("cab", 1, 0, "S1"), back("door", 7, 30)], {}, ItemFacts(),
     None, {}),
    ("lent at a cabinet, shown at a door that had not heard of it",
     [out("cab", 1, 0, "S1"), Rec("door", 7, "not_on_loan", at(30))], {}, ItemFacts(), None, {}),
    ("shown at idle, never lent", [Rec("door", 7, "not_on_loan", at(30))], {}, ItemFacts(), None, {}),
    ("lent, not yet returned", [out("cab", 1, 0, "S1")], {}, ItemFacts(), "S1", {}),
    ("returned, lent again to another", [out("cab", 1, 0, "S1"), back("door", 2, 5), out("door", 3, 6, "S2")],
     {}, ItemFacts(), "S2", {}),
    ("two kiosks lent it offline", [out("cab", 1, 0, "S1"), out("door", 4, 10, "S2")], {}, ItemFacts(), "S2",
     {("cab", 1): "double_checkout", ("door", 4): "double_checkout"}),
    ("returned though never lent", [back("door", 3, 0)], {}, ItemFacts(), None,
     {("door", 3): "return_not_on_loan"}),
    ("lent to a card blocked meanwhile", [out("cab", 1, 60, "S1")], {"S1": PatronFacts(blocked_since=at(30))},
     ItemFacts(), "S1", {("cab", 1): "patron_blocked"}),
    ("lent before the card was blocked", [out("cab", 1, 10, "S1")], {"S1": PatronFacts(blocked_since=at(30))},
     ItemFacts(), "S1", {}),
    ("lent on a card expired by then", [out("cab", 1, 0, "S1")], {"S1": PatronFacts(expires=date(2026, 11, 22))},
     ItemFacts(), "S1", {("cab", 1): "patron_blocked"}),
    ("lent after it went to repair", [out("cab", 1, 60, "S1")], {}, ItemFacts(unavailable_since=at(0)), "S1",
     {("cab", 1): "item_unavailable"}),
    ("renewed by the borrower", [out("cab", 1, 0, "S1"), renew("door", 2, 20, "S1")], {}, ItemFacts(), "S1", {}),
    ("renewed by someone else", [out("cab", 1, 0, "S1"), renew("door", 2, 20, "S2")], {}, ItemFacts(), "S1",
     {("door", 2): "renew_not_on_loan"}),
    ("same time at two kiosks: kiosk id decides", [out("b-kiosk", 1, 0, "S1"), back("a-kiosk", 1, 0)], {},
     ItemFacts(), "S1", {("a-kiosk", 1): "return_not_on_loan"}),
]


@pytest.mark.parametrize("what, records, patrons, item, holder, flags", CASES, ids=[c[0] for c in CASES])
def test_replay_is_the_same_in_every_arrival_order(what, records, patrons, item, holder, flags):
    results = []
    for order in itertools.permutations(records):
        result = replay(order, patrons, item)
        results.append(((result.loan.patron_id if result.loan else None),
                        {k: reason for k, (reason, _) in result.flags.items()}))
    assert all(r == results[0] for r in results)
    assert results[0] == (holder, flags)


def test_a_renewal_moves_the_due_date_and_counts():
    result = replay([out("cab", 1, 0, "S1"), renew("door", 2, 20, "S1", "2026-12-21")], {})
    assert (result.loan.due, result.loan.renewals, result.loan.kiosk_id) == ("2026-12-21", 1, "door")


ANCHORS = {"boot-2": (datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc), 5000.0)}


@pytest.mark.parametrize("trusted, boot, mono, offset, expected", [
    (True, "boot-2", 4000.0, 3600.0, datetime(2020, 1, 1, tzinfo=timezone.utc)),  # a trusted time stands
    (False, "boot-2", 4400.0, None, datetime(2026, 11, 23, 9, 50, tzinfo=timezone.utc)),  # by the monotonic clock
    (False, "boot-1", 10.0, 3600.0, datetime(2020, 1, 1, 1, 0, tzinfo=timezone.utc)),  # unknown boot: the offset
    (False, "boot-1", 10.0, None, datetime(2020, 1, 1, tzinfo=timezone.utc)),  # nothing known: as stamped
])
def test_untrusted_times_are_corrected(trusted, boot, mono, offset, expected):
    stamped = datetime(2020, 1, 1, tzinfo=timezone.utc)
    assert corrected_time(stamped, trusted, boot, mono, ANCHORS, offset) == expected
