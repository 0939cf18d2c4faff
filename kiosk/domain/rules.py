"""The circulation rules of BRIEF section 4, as pure functions.

Everything takes the date as an argument; nothing here reads a clock. A
refusal is a stable reason code (see `REASONS`), which the state machine
turns into words a child understands and the log keeps as it is.
"""

from __future__ import annotations

from datetime import date, timedelta

from kiosk.domain.model import Item, Loan, Patron, Policy

REASONS = (
    "card_blocked",
    "card_expired",
    "blocked_overdue",
    "limit_reached",
    "item_unavailable",
    "on_loan_to_other",
    "renewal_limit",
)


def is_open_day(policy: Policy, day: date) -> bool:
    """Whether the library is open on `day` (not a closed weekday or holiday)."""
    return day.weekday() not in policy.closed_weekdays and day not in policy.holidays


def next_open_day(policy: Policy, day: date) -> date:
    """`day` itself if the library is open then, else the next open day."""
    for _ in range(3 * 366):
        if is_open_day(policy, day):
            return day
        day += timedelta(days=1)
    raise ValueError("the rules close the library for more than three years")


def due_date(policy: Policy, patron_type: str, today: date) -> date:
    """The due date of a checkout or renewal made `today`."""
    days = policy.rule_for(patron_type).loan_days
    return next_open_day(policy, today + timedelta(days=days))


def days_overdue(loan: Loan, today: date) -> int:
    """Days past the due date (0 when not overdue)."""
    return max(0, (today - loan.due).days)


def block_reason(policy: Policy, patron: Patron, loans: tuple[Loan, ...], today: date) -> str | None:
    """Why this patron may not borrow now, or None.

    A blocked card comes first, then an expired one, then a loan more than
    `block_overdue_days` overdue.
    """
    if patron.status == "blocked":
        return "card_blocked"
    if patron.expires is not None and patron.expires < today:
        return "card_expired"
    if any(days_overdue(loan, today) > policy.block_overdue_days for loan in loans):
        return "blocked_overdue"
    return None


def allowance(policy: Policy, patron: Patron, loans: tuple[Loan, ...], today: date) -> int:
    """How many more books the patron may borrow now."""
    if block_reason(policy, patron, loans, today):
        return 0
    return max(0, policy.rule_for(patron.type).max_loans - len(loans))


def checkout_refusal(
    policy: Policy, patron: Patron, loans: tuple[Loan, ...], item: Item, today: date
) -> str | None:
    """Why `item` may not be lent to `patron` now, or None.

    `loans` are the patron's current loans, not counting this item. Whether
    the item is on loan to someone else is the caller's question.
    """
    reason = block_reason(policy, patron, loans, today)
    if reason:
        return reason
    if item.status != "available":
        return "item_unavailable"
    if len(loans) >= policy.rule_for(patron.type).max_loans:
        return "limit_reached"
    return None


def renewal_refusal(
    policy: Policy, patron: Patron, loans: tuple[Loan, ...], loan: Loan, today: date
) -> str | None:
    """Why `loan` (the patron's own) may not be renewed now, or None."""
    reason = block_reason(policy, patron, loans, today)
    if reason:
        return reason
    if loan.renewals >= policy.rule_for(patron.type).renewals:
        return "renewal_limit"
    return None
