"""The library's nouns: patrons, items, loans, the circulation rules.

Pure data, no I/O. Every other part of the product (the state machine, the
local store, the central store, the screen) speaks in these types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from kiosk.domain.errors import BadUid

PATRON_TYPES = ("student", "teacher", "volunteer", "librarian")
STAFF_TYPES = ("volunteer", "librarian")
PATRON_STATUSES = ("active", "blocked")
ITEM_STATUSES = ("available", "repair", "withdrawn", "lost")
# "on_loan" is never stored in an item's status: a book is on loan when a
# loan row names it. The status says whether it may circulate at all.

_HEX = re.compile(r"[0-9A-Fa-f]+")
# A kiosk id travels in the URL of every push, so it is plain ASCII.
_KIOSK_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
KIOSK_ID_RULE = "1 to 64 letters (a-z, A-Z), digits, '-', '_' or '.'"


def is_kiosk_id(text: str) -> bool:
    """Whether `text` can be a kiosk's id (`KIOSK_ID_RULE`), the same rule on the kiosk and the central store."""
    return isinstance(text, str) and _KIOSK_ID.fullmatch(text) is not None


def normalize_uid(text: str) -> str:
    """Return a tag UID as upper-case hex: 8 digits (4 bytes) or 14 (7 bytes).

    Separators a reader or a person may add (spaces, colons, dashes) are
    dropped. Anything else raises `BadUid` naming the value.
    """
    raw = str(text).strip()
    compact = re.sub(r"[\s:\-]", "", raw)
    if not compact or not _HEX.fullmatch(compact):
        raise BadUid(f"tag UID {raw!r} is not hexadecimal")
    if len(compact) not in (8, 14):
        raise BadUid(
            f"tag UID {raw!r} has {len(compact)} hex digits; "
            "a card has 8 (4 bytes) and a book sticker 14 (7 bytes)"
        )
    return compact.upper()


@dataclass(frozen=True)
class Patron:
    """A student, teacher, volunteer or librarian with a library card."""

    id: str
    name: str
    type: str = "student"
    class_name: str = ""
    card_uid: str | None = None
    status: str = "active"
    expires: date | None = None

    @property
    def is_staff(self) -> bool:
        return self.type in STAFF_TYPES


@dataclass(frozen=True)
class Item:
    """A book (or other item) with an RFID sticker and/or a barcode."""

    id: str
    title: str
    author: str = ""
    call_number: str = ""
    tag_uid: str | None = None
    barcode: str | None = None
    home: str = ""
    status: str = "available"
    price_cents: int | None = None  # what a lost or damaged copy is charged (central store only)


@dataclass(frozen=True)
class Loan:
    """A book currently lent to a patron. `title` is carried for display."""

    item_id: str
    patron_id: str
    due: date
    checked_out: datetime
    renewals: int = 0
    title: str = ""


@dataclass(frozen=True)
class LoanRule:
    """What one patron type may do."""

    loan_days: int
    max_loans: int
    renewals: int


def _default_types() -> dict[str, LoanRule]:
    return {
        "student": LoanRule(loan_days=14, max_loans=3, renewals=2),
        "teacher": LoanRule(loan_days=30, max_loans=10, renewals=2),
        "volunteer": LoanRule(loan_days=14, max_loans=3, renewals=2),
        "librarian": LoanRule(loan_days=30, max_loans=10, renewals=2),
    }


@dataclass(frozen=True)
class Policy:
    """The circulation rules of BRIEF section 4 and the school's reading goals, set centrally.

    `closed_weekdays` uses Python's numbering (Monday 0 .. Sunday 6).
    `term_goal` is books per student per term; `class_month_goal` books per
    student per month, counted by class. `term_starts` are the first days of
    the school's terms (empty: 1 September and 1 February). With
    `showcase_names` the idle screen may name keen readers (first name and
    class only).
    """

    types: dict[str, LoanRule] = field(default_factory=_default_types)
    block_overdue_days: int = 14
    closed_weekdays: tuple[int, ...] = (5, 6)
    holidays: tuple[date, ...] = ()
    term_goal: int = 15
    class_month_goal: int = 2
    term_starts: tuple[date, ...] = ()
    showcase_names: bool = False

    def rule_for(self, patron_type: str) -> LoanRule:
        return self.types.get(patron_type, self.types["student"])
