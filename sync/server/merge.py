"""One merged truth from many kiosks' logs: pure functions, no I/O.

Every record that changes a loan (checkout, return, renew, a book shown
at idle that the kiosk thought was not on loan, and a book counted on a shelf
in a stocktake) is replayed per item in one order: corrected time, then kiosk id, then sequence number. The
result does not depend on which kiosk synced first. What cannot be applied
cleanly is kept and flagged with a reason for the librarian; nothing is
dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Optional


# Why a record could not be applied cleanly (merge_flags.reason).
REASONS = {
    "patron_blocked": "lent to a patron whose card was blocked or expired by then",
    "double_checkout": "lent while the book was on loan to someone else",
    "return_not_on_loan": "returned while the book was not on loan",
    "renew_not_on_loan": "renewed while the book was not on loan to that patron",
    "item_unavailable": "lent while the book was in repair, withdrawn or lost",
    "seen_in_stocktake": "counted on a shelf in a stocktake while on loan: the loan was closed",
}


@dataclass(frozen=True)
class Rec:
    """The part of a log record the merge reads."""

    kiosk_id: str
    seq: int
    kind: str
    corrected_at: datetime
    patron_id: Optional[str] = None
    due: Optional[str] = None  # ISO date, for checkout and renew
    renewals: Optional[int] = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.kiosk_id, self.seq)

    def order(self) -> tuple:
        return (self.corrected_at, self.kiosk_id, self.seq)


@dataclass(frozen=True)
class PatronFacts:
    """What the merge must know of a patron: when (if ever) the card stopped being valid."""

    blocked_since: Optional[datetime] = None
    expires: Optional[date] = None

    def valid_at(self, when: datetime) -> bool:
        if self.blocked_since is not None and when >= self.blocked_since:
            return False
        return self.expires is None or when.date() <= self.expires


@dataclass(frozen=True)
class ItemFacts:
    """When (if ever) the item left circulation (repair, withdrawn, lost)."""

    unavailable_since: Optional[datetime] = None

    def available_at(self, when: datetime) -> bool:
        return self.unavailable_since is None or when < self.unavailable_since


@dataclass(frozen=True)
class MergedLoan:
    patron_id: str
    due: str
    checked_out: datetime
    renewals: int
    kiosk_id: str
    seq: int


@dataclass
class Replay:
    """The outcome of replaying one item's records."""

    loan: Optional[MergedLoan] = None
    flags: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)

    def flag(self, rec: Rec, reason: str, detail: str) -> None:
        self.flags.setdefault(rec.key, (reason, detail))


def replay(records: Iterable[Rec], patrons: dict[str, PatronFacts], item: ItemFacts = ItemFacts()) -> Replay:
    """Replay one item's loan records in merge order; the loan left and the flags raised."""
    out = Replay()
    for rec in sorted(records, key=Rec.order):
        loan = out.loan
        if rec.kind == "checkout":
            facts = patrons.get(rec.patron_id or "", PatronFacts())
            if not facts.valid_at(rec.corrected_at):
                out.flag(rec, "patron_blocked", f"patron {rec.patron_id}")
            if not item.available_at(rec.corrected_at):
                out.flag(rec, "item_unavailable", "item out of circulation since "
                         f"{item.unavailable_since.isoformat()}")
            if loan is not None and loan.patron_id != rec.patron_id:
                # Two kiosks lent the same book while offline: the later
                # checkout stands, and both are put before the librarian.
                out.flag(rec, "double_checkout",
                         f"still on loan to {loan.patron_id} from {loan.kiosk_id} #{loan.seq}")
                out.flags.setdefault((loan.kiosk_id, loan.seq), (
                    "double_checkout", f"lent again to {rec.patron_id} at {rec.kiosk_id} #{rec.seq}"))
            out.loan = MergedLoan(rec.patron_id or "", rec.due or "", rec.corrected_at, 0, rec.kiosk_id, rec.seq)
        elif rec.kind == "return":
            if loan is None:
                out.flag(rec, "return_not_on_loan", "no loan open at that time")
            out.loan = None
        elif rec.kind == "not_on_loan":
            # Brought back to a kiosk that had not heard of the loan yet (it
            # was made elsewhere, offline): that is a return.
            out.loan = None
        elif rec.kind == "inventory":
            # Counted on a shelf: whoever had it, the book is back. The
            # librarian hears of it (the student may not know it was returned).
            if loan is not None:
                out.flag(rec, "seen_in_stocktake", f"on loan to {loan.patron_id} from {loan.kiosk_id} #{loan.seq}")
            out.loan = None
        elif rec.kind == "renew":
            if loan is None or (rec.patron_id and loan.patron_id != rec.patron_id):
                holder = f"on loan to {loan.patron_id}" if loan else "not on loan"
                out.flag(rec, "renew_not_on_loan", holder)
                continue
            renewals = rec.renewals if rec.renewals is not None else loan.renewals + 1
            out.loan = MergedLoan(loan.patron_id, rec.due or loan.due, loan.checked_out, renewals,
                                  rec.kiosk_id, rec.seq)
    return out


def corrected_time(at: datetime, trusted: bool, boot_id: Optional[str], monotonic: Optional[float],
                   anchors: dict[str, tuple[datetime, float]], offset: Optional[float]) -> datetime:
    """The time a record most likely happened.

    A trusted time stands. An untrusted one from a boot the store has an
    anchor for (the server's time at a push and the kiosk's monotonic
    reading then) is placed by the monotonic clock, which a wrong wall clock
    does not disturb; otherwise the kiosk's last observed offset is added.
    """
    try:
        if trusted:
            return at
        if boot_id is not None and monotonic is not None and boot_id in anchors:
            server_time, push_monotonic = anchors[boot_id]
            return server_time - timedelta(seconds=push_monotonic - monotonic)
        if offset is not None:
            return at + timedelta(seconds=offset)
    except OverflowError:
        pass  # a correction beyond the calendar: keep the time as stamped
    return at
