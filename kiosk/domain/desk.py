"""Circulation at the librarian's desk: the kiosk's rules, for a person who may override them once.

Pure like the state machine: the caller looks up the patron, the item and
their loans, and commits the decision's records. The loan rules are those of
`kiosk.domain.rules`, the functions the kiosk's machine calls, so the desk
refuses what a kiosk refuses, for the same reason, unless the librarian
overrides a block or a limit with a reason (once: the record carries it).
A book out of circulation (in repair, withdrawn, lost) is never lent: it is
taken back in (returned) first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kiosk.domain import rules
from kiosk.domain.model import Item, Loan, Patron, Policy
from kiosk.domain.records import Record

ACTIONS = ("checkout", "return", "renew")
# Refusals a librarian may lift once, with a reason: a block or a limit.
OVERRIDABLE = ("card_blocked", "card_expired", "blocked_overdue", "limit_reached", "renewal_limit", "charges_owed")
# Why a loan is closed without the book coming back.
CLOSED = ("lost", "damaged")


@dataclass(frozen=True)
class Charges:
    """What a patron owes (in cents) and the amount above which borrowing stops (None: never)."""

    owed: int = 0
    limit: int | None = None

    @property
    def blocks(self) -> bool:
        return self.limit is not None and self.owed > self.limit


@dataclass(frozen=True)
class Decision:
    """One desk action's outcome, as `kiosk simulate` names outcomes, and the records to commit.

    `outcome` is checkout, return, renew, refused or info; `reason` a stable
    code (a refusal of `kiosk.domain.rules.REASONS`, `charges_owed`, or an
    info such as `already_yours`); `facts` fill the words the pages show.
    """

    action: str
    outcome: str
    reason: str | None = None
    patron_id: str | None = None
    item_id: str | None = None
    due: date | None = None
    records: tuple[Record, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)


def block_reason(policy: Policy, patron: Patron, loans: tuple[Loan, ...], today: date,
                 charges: Charges = Charges()) -> str | None:
    """The kiosk's block (`rules.block_reason`), else unpaid charges above the school's amount."""
    reason = rules.block_reason(policy, patron, loans, today)
    if reason is None and charges.blocks:
        return "charges_owed"
    return reason


def _checkout_refusals(policy, patron, own, item, today, charges) -> list[str]:
    """Every reason the kiosk would refuse this checkout, in the kiosk's order (`rules.checkout_refusal`)."""
    found = []
    block = block_reason(policy, patron, own, today, charges)
    if block:
        found.append(block)
    if item.status != "available":
        found.append("item_unavailable")
    if len(own) >= policy.rule_for(patron.type).max_loans:
        found.append("limit_reached")
    return found


def _refused(action: str, refusals: list[str], override: str, facts: dict, **base) -> Decision | None:
    """A refusal, unless every reason may be and is overridden; the one no override lifts comes first."""
    hard = [r for r in refusals if r not in OVERRIDABLE]
    if hard:
        return Decision(action, "refused", hard[0], facts=facts, **base)
    if refusals and not override.strip():
        return Decision(action, "refused", refusals[0], facts=dict(facts, overridable=True), **base)
    return None


def _signed(librarian: str, override: str, overridden: list[str]) -> dict:
    out: dict[str, Any] = {"librarian": librarian}
    if overridden:
        out.update(override=override.strip(), overridden=overridden)
    return out


def lend(policy: Policy, patron: Patron, loans: tuple[Loan, ...], item: Item, loan: Loan | None, today: date, *,
         charges: Charges = Charges(), override: str = "", due: date | None = None,
         librarian: str = "") -> Decision:
    """A checkout at the desk. `loans` are the patron's; `loan` the item's, if it is on loan.

    A book on loan to someone else is returned from them and lent to this
    patron (both records name the other patron); one already lent to this
    patron is not lent twice. `due` replaces the rules' due date.
    """
    base = dict(patron_id=patron.id, item_id=item.id)
    if loan is not None and loan.patron_id == patron.id:
        return Decision("checkout", "info", "already_yours", due=loan.due, **base)
    own = tuple(existing for existing in loans if existing.item_id != item.id)
    refusals = _checkout_refusals(policy, patron, own, item, today, charges)
    refused = _refused("checkout", refusals, override, facts=_facts(policy, patron, item, charges), **base)
    if refused is not None:
        return refused
    due = due or rules.due_date(policy, patron.type, today)
    signed = _signed(librarian, override, refusals)
    records = []
    if loan is not None:
        records.append(Record("return", patron_id=loan.patron_id, item_id=item.id,
                              details={"from_patron": loan.patron_id, "due": loan.due.isoformat(),
                                       "transfer_to": patron.id, "librarian": librarian}))
        signed["transfer_from"] = loan.patron_id
    records.append(Record("checkout", patron_id=patron.id, item_id=item.id,
                          details={"due": due.isoformat(), **signed}))
    facts = {"holder": loan.patron_id} if loan is not None else {}
    return Decision("checkout", "checkout", "override" if refusals else None, due=due, records=tuple(records),
                    facts=facts, **base)


def renew(policy: Policy, patron: Patron, loans: tuple[Loan, ...], item: Item, loan: Loan | None, today: date, *,
          charges: Charges = Charges(), override: str = "", due: date | None = None,
          librarian: str = "") -> Decision:
    """A renewal at the desk, of a book on loan to this patron, by the kiosk's `rules.renewal_refusal`."""
    base = dict(patron_id=patron.id, item_id=item.id)
    if loan is None or loan.patron_id != patron.id:
        facts = {"holder": loan.patron_id} if loan is not None else {}
        return Decision("renew", "refused", "not_on_loan_to_patron", facts=facts, **base)
    refusals = []
    block = block_reason(policy, patron, loans, today, charges)
    if block:
        refusals.append(block)
    if loan.renewals >= policy.rule_for(patron.type).renewals:
        refusals.append("renewal_limit")
    refused = _refused("renew", refusals, override, facts=_facts(policy, patron, item, charges), **base)
    if refused is not None:
        return refused
    due = due or rules.due_date(policy, patron.type, today)
    record = Record("renew", patron_id=patron.id, item_id=item.id,
                    details={"due": due.isoformat(), "renewals": loan.renewals + 1,
                             **_signed(librarian, override, refusals)})
    return Decision("renew", "renew", "override" if refusals else None, due=due, records=(record,), **base)


def change_due(loan: Loan, due: date, librarian: str = "") -> Decision:
    """A new due date for a loan, chosen by the librarian: a renewal that uses up no renewal."""
    record = Record("renew", patron_id=loan.patron_id, item_id=loan.item_id,
                    details={"due": due.isoformat(), "renewals": loan.renewals, "due_changed": True,
                             "librarian": librarian})
    return Decision("renew", "renew", "due_changed", patron_id=loan.patron_id, item_id=loan.item_id, due=due,
                    records=(record,))


def take_back(item: Item, loan: Loan | None, librarian: str = "") -> Decision:
    """A book handed in at the desk: its loan returned; a book the store thought on the shelf, noted.

    Noting it (`not_on_loan`, as a kiosk does) matters: a loan made offline at
    a kiosk that has not synced yet is closed by it when it arrives.
    """
    if loan is not None:
        record = Record("return", patron_id=loan.patron_id, item_id=item.id,
                        details={"from_patron": loan.patron_id, "due": loan.due.isoformat(), "librarian": librarian})
        found = {"found": item.status} if item.status in ("lost", "withdrawn") else {}
        return Decision("return", "return", "found_" + item.status if found else None, patron_id=loan.patron_id,
                        item_id=item.id, records=(record,), facts=found)
    record = Record("not_on_loan", item_id=item.id, details={"status": item.status, "librarian": librarian})
    if item.status == "lost":
        return Decision("return", "return", "found_lost", item_id=item.id, records=(record,))
    return Decision("return", "info", "not_on_loan", item_id=item.id, records=(record,))


def close_loan(item: Item, loan: Loan, why: str, librarian: str = "") -> Decision:
    """A loan closed because the book is lost or damaged (`CLOSED`): it will not come back as it went."""
    if why not in CLOSED:
        raise ValueError(f"a loan is closed as one of {', '.join(CLOSED)}, not {why!r}")
    record = Record("return", patron_id=loan.patron_id, item_id=item.id,
                    details={"from_patron": loan.patron_id, "due": loan.due.isoformat(), "closed": why,
                             "librarian": librarian})
    return Decision("return", "return", why, patron_id=loan.patron_id, item_id=item.id, records=(record,))


def _facts(policy: Policy, patron: Patron, item: Item, charges: Charges) -> dict:
    """What the words of a refusal name: the limit, the overdue block's days, the book's status, the sum owed."""
    return {"max": policy.rule_for(patron.type).max_loans, "days": policy.block_overdue_days,
            "status": item.status, "owed": charges.owed, "limit": charges.limit}
