"""The circulation rules of BRIEF section 4, table-driven."""

from datetime import date, datetime, timezone

import pytest

from kiosk.domain import rules
from kiosk.domain.model import Item, Loan, Patron, Policy, normalize_uid
from kiosk.domain.errors import BadUid

CHRISTMAS = Policy(holidays=(date(2026, 12, 25), date(2026, 12, 28)))
T = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "policy, patron_type, today, due",
    [
        (Policy(), "student", date(2026, 11, 23), date(2026, 12, 7)),  # Monday + 14 = Monday
        (Policy(), "student", date(2026, 11, 28), date(2026, 12, 14)),  # lands on Saturday -> Monday
        (Policy(), "student", date(2026, 11, 29), date(2026, 12, 14)),  # lands on Sunday -> Monday
        (Policy(), "teacher", date(2026, 11, 23), date(2026, 12, 23)),
        (CHRISTMAS, "student", date(2026, 12, 11), date(2026, 12, 29)),  # Fri 25th, weekend, Mon 28th
        (Policy(closed_weekdays=()), "student", date(2026, 11, 28), date(2026, 12, 12)),
    ],
)
def test_due_date(policy, patron_type, today, due):
    assert rules.due_date(policy, patron_type, today) == due


def loan(due, item="b1"):
    return Loan(item, "s1", due, T)


MIA = Patron("s1", "Mia")


@pytest.mark.parametrize(
    "patron, loans, today, reason",
    [
        (MIA, (), date(2026, 11, 23), None),
        (MIA, (loan(date(2026, 11, 9)),), date(2026, 11, 23), None),  # 14 days overdue: not yet
        (MIA, (loan(date(2026, 11, 8)),), date(2026, 11, 23), "blocked_overdue"),  # 15 days
        (Patron("s1", "Mia", status="blocked"), (), date(2026, 11, 23), "card_blocked"),
        (Patron("s1", "Mia", expires=date(2026, 11, 22)), (), date(2026, 11, 23), "card_expired"),
        (Patron("s1", "Mia", expires=date(2026, 11, 23)), (), date(2026, 11, 23), None),  # valid through the day
        (Patron("s1", "Mia", status="blocked", expires=date(2020, 1, 1)), (), date(2026, 11, 23), "card_blocked"),
    ],
)
def test_block_reason(patron, loans, today, reason):
    assert rules.block_reason(Policy(), patron, loans, today) == reason


@pytest.mark.parametrize(
    "status, loans, reason",
    [
        ("available", (), None),
        ("repair", (), "item_unavailable"),
        ("withdrawn", (), "item_unavailable"),
        ("lost", (), "item_unavailable"),
        ("available", tuple(loan(date(2026, 12, 1), f"x{i}") for i in range(3)), "limit_reached"),
        ("available", tuple(loan(date(2026, 12, 1), f"x{i}") for i in range(2)), None),
    ],
)
def test_checkout_refusal(status, loans, reason):
    item = Item("b1", "Matilda", status=status)
    assert rules.checkout_refusal(Policy(), MIA, loans, item, date(2026, 11, 23)) == reason


def test_renewals_are_counted():
    today = date(2026, 11, 23)
    assert rules.renewal_refusal(Policy(), MIA, (), Loan("b1", "s1", today, T, renewals=1), today) is None
    assert rules.renewal_refusal(Policy(), MIA, (), Loan("b1", "s1", today, T, renewals=2), today) == "renewal_limit"


@pytest.mark.parametrize(
    "text, uid",
    [
        ("04a1b2c3", "04A1B2C3"),
        ("04:A1:B2:C3", "04A1B2C3"),
        ("04 11 22 33 44 55 66", "04112233445566"),
        (" 04112233445566 ", "04112233445566"),
    ],
)
def test_uid_normalized(text, uid):
    assert normalize_uid(text) == uid


@pytest.mark.parametrize("text", ["", "04A1B2", "04A1B2C3D4", "04A1B2C3D4E5F6A7", "ZZA1B2C3", "04A1B2C3D4E5F"])
def test_bad_uid_named(text):
    with pytest.raises(BadUid, match="UID"):
        normalize_uid(text)
