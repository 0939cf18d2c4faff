"""The librarian's desk: lend, take back, renew, change a due date, close a loan as lost or damaged.

Decisions are `kiosk.domain.desk`'s, made by the kiosk's loan rules. Each
action's records go into the merged log under the kiosk id `desk` (its own
sequence numbers, the librarian's name in the details), are merged like any
kiosk's records, reach the kiosks at their next pull, and are audited.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from kiosk.domain import desk
from kiosk.domain.errors import BadUid
from kiosk.domain.model import Item, Loan, Patron, normalize_uid
from kiosk.domain.money import parse_money
from kiosk.domain.records import LOAN_KINDS
from sync.server.db import charges
from sync.server.db.audit import audit
from sync.server.db.catalog import get_rules, set_status
from sync.server.db.kiosks import DESK_ID
from sync.server.db.remerge import remerge_item
from sync.server.db.schema import CentralError, iso, utc_now
from sync.server.db.settings import get_settings, zone


def _patron(row: dict) -> Patron:
    return Patron(id=row["id"], name=row["name"] or "", type=row["type"] or "student",
                  class_name=row["class_name"] or "", card_uid=row["card_uid"], status=row["status"] or "active",
                  expires=date.fromisoformat(row["expires"]) if row["expires"] else None)


def _item(row: dict) -> Item:
    return Item(id=row["id"], title=row["title"] or "", author=row["author"] or "",
                call_number=row["call_number"] or "", tag_uid=row["tag_uid"], barcode=row["barcode"],
                home=row["home"] or "", status=row["status"] or "available", price_cents=row["price_cents"])


def _first(db, sql: str, params) -> dict | None:
    rows = list(db.query(sql, params))
    return rows[0] if rows else None


def _uid(text: str) -> str | None:
    try:
        return normalize_uid(text)
    except BadUid:
        return None


def find_patron(db, ref: str) -> Patron | None:
    """A patron by id (any case) or card UID."""
    ref = ref.strip()
    row = _first(db, "SELECT * FROM patrons WHERE id = ? COLLATE NOCASE ORDER BY id = ? DESC LIMIT 1", [ref, ref])
    if row is None and _uid(ref):
        row = _first(db, "SELECT * FROM patrons WHERE card_uid = ?", [_uid(ref)])
    return _patron(row) if row else None


def find_item(db, ref: str) -> Item | None:
    """A book by id (any case), barcode (what a scanner types) or tag UID."""
    ref = ref.strip()
    row = _first(db, "SELECT * FROM items WHERE id = ? COLLATE NOCASE ORDER BY id = ? DESC LIMIT 1", [ref, ref])
    if row is None:
        row = _first(db, "SELECT * FROM items WHERE barcode = ? ORDER BY id LIMIT 1", [ref])
    if row is None and _uid(ref):
        row = _first(db, "SELECT * FROM items WHERE tag_uid = ?", [_uid(ref)])
    return _item(row) if row else None


def _loan(row: dict) -> Loan:
    return Loan(item_id=row["item_id"], patron_id=row["patron_id"], due=date.fromisoformat(row["due"]),
                checked_out=datetime.fromisoformat(row["checked_out"]), renewals=row["renewals"] or 0,
                title=row["title"] or "")


_LOANS = "SELECT loans.*, items.title FROM loans LEFT JOIN items ON items.id = loans.item_id"


def loans_of(db, patron_id: str) -> tuple[Loan, ...]:
    """A patron's current loans, soonest due first."""
    return tuple(_loan(r) for r in db.query(_LOANS + " WHERE loans.patron_id = ? ORDER BY due, item_id",
                                            [patron_id]))


def loan_of(db, item_id: str) -> Loan | None:
    row = _first(db, _LOANS + " WHERE loans.item_id = ?", [item_id])
    return _loan(row) if row else None


def local_today(db, now: datetime | None = None) -> date:
    """Today in the school's time zone."""
    return (now or utc_now()).astimezone(zone(db)).date()


def _stamp(db, item_id: str, now: datetime, today: date | None) -> datetime:
    """When a desk action happened: now, on `today` if given, and after every record of the book held.

    The librarian acts on the book as the store shows it, so her record is
    merged after everything the store knew of the book then.
    """
    tz = zone(db)
    if today is not None:
        now = datetime.combine(today, now.astimezone(tz).time(), tz)
    latest = db.execute(f"SELECT MAX(corrected_at) FROM log WHERE item_id = ? AND kind IN"
                        f" ({', '.join('?' * len(LOAN_KINDS))})", [item_id, *LOAN_KINDS]).fetchone()[0]
    if latest and datetime.fromisoformat(latest) >= now:
        now = datetime.fromisoformat(latest) + timedelta(milliseconds=1)
    return now


def _append(db, records, at: datetime) -> list[int]:
    """The desk's records into the merged log (caller's transaction); loans merged again."""
    seqs = []
    for record in records:
        class_row = db.execute("SELECT class_name FROM patrons WHERE id = ?", [record.patron_id]).fetchone() \
            if record.patron_id else None
        seq = db.execute(
            "INSERT INTO log (kiosk_id, seq, kind, at, corrected_at, trusted, patron_id, item_id, details, flagged,"
            " received_at, class_name) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM log WHERE kiosk_id = ?),"
            " ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) RETURNING seq",
            [DESK_ID, DESK_ID, record.kind, iso(at), iso(at), record.patron_id, record.item_id,
             json.dumps(record.details, sort_keys=True, ensure_ascii=False), int(record.flagged), iso(utc_now()),
             class_row[0] if class_row else None]).fetchone()[0]
        seqs.append(seq)
    for item_id in sorted({r.item_id for r in records if r.kind in LOAN_KINDS and r.item_id}):
        remerge_item(db, item_id)
    if seqs:
        db.execute("UPDATE kiosks SET acked_seq = ?, last_seen = ? WHERE id = ?", [seqs[-1], iso(utc_now()), DESK_ID])
    return seqs


def _accept_overrides(db, librarian: str, seqs: list[int], reason: str) -> None:
    """A checkout the librarian lent over a block is not put before her again as a merge flag."""
    for seq in seqs:
        db.execute("UPDATE merge_flags SET resolution = 'accept', resolved_by = ?, resolved_at = ? WHERE kiosk_id = ?"
                   " AND seq = ? AND resolution IS NULL", [librarian, iso(utc_now()), DESK_ID, seq])
    if seqs and reason:
        audit(db, librarian, "desk override", ", ".join(f"{DESK_ID} #{s}" for s in seqs), reason)


def _need(found, what: str, ref: str):
    if found is None:
        raise CentralError(f"no {what} {ref.strip()!r}")
    return found


def desk_action(db, action: str, patron_ref: str, item_ref: str, *, librarian: str, override: str = "",
        today: date | None = None, due: date | None = None, now: datetime | None = None) -> dict:
    """One desk action (checkout, return, renew) in one transaction; the outcome as `kiosk simulate` prints it.

    `patron_ref` is an id or card UID (a return needs none); `item_ref` an id,
    barcode or tag UID. The outcome's `message` is left to the caller's words
    (`sync.server.words.desk_message`); `facts` fill them. Unknown ids and a
    due date in the past are `CentralError`s and change nothing.
    """
    if action not in desk.ACTIONS:
        raise CentralError(f"a desk action is one of {', '.join(desk.ACTIONS)}, not {action!r}")
    now = now or utc_now()
    with db.atomic():
        item = _need(find_item(db, item_ref), "book with id, barcode or tag", item_ref)
        patron = find_patron(db, patron_ref) if patron_ref.strip() else None
        if action != "return":
            patron = _need(patron, "patron with id or card", patron_ref)
        at = _stamp(db, item.id, now, today)
        day = today or at.astimezone(zone(db)).date()
        if due is not None and due < day:
            raise CentralError(f"due date {due.isoformat()} is before today ({day.isoformat()})")
        loan = loan_of(db, item.id)
        if action == "return":
            decision = desk.take_back(item, loan, librarian)
        else:
            terms = dict(charges=charges.charges_facts(db, patron.id), override=override, due=due,
                         librarian=librarian)
            step = desk.lend if action == "checkout" else desk.renew
            decision = step(get_rules(db), patron, loans_of(db, patron.id), item, loan, day, **terms)
        seqs = _append(db, decision.records, at)
        if decision.reason == "found_lost":
            _found(db, librarian, item.id)
        if decision.reason == "override":
            _accept_overrides(db, librarian, seqs, override.strip())
        if seqs:
            audit(db, librarian, f"desk {action}", item.id, " ".join(
                f"{k}={v}" for k, v in (("patron", decision.patron_id), ("outcome", decision.outcome),
                                        ("reason", decision.reason), ("due", decision.due)) if v))
    line = " ".join(part.strip() for part in ("desk", action, patron_ref, item_ref) if part.strip())
    return _outcome(decision, seqs, at.astimezone(zone(db)), line)


def _found(db, librarian: str, item_id: str) -> None:
    """A lost book back in hand: available again, its unpaid charge waived."""
    set_status(db, librarian, "items", item_id, "available", "found again at the desk")
    charges.waive_found(db, librarian, item_id)


def change_due_date(db, item_ref: str, due: date, *, librarian: str, now: datetime | None = None) -> dict:
    """A loan's due date set by the librarian (no renewal used up); `CentralError` if not on loan."""
    now = now or utc_now()
    with db.atomic():
        item = _need(find_item(db, item_ref), "book with id, barcode or tag", item_ref)
        loan = loan_of(db, item.id)
        if loan is None:
            raise CentralError(f"{item.id} is not on loan")
        at = _stamp(db, item.id, now, None)
        if due < at.astimezone(zone(db)).date():
            raise CentralError(f"due date {due.isoformat()} is in the past")
        decision = desk.change_due(loan, due, librarian)
        seqs = _append(db, decision.records, at)
        audit(db, librarian, "desk due date", item.id, f"patron={loan.patron_id} due={loan.due} -> {due}")
    return _outcome(decision, seqs, at.astimezone(zone(db)), f"desk due {item.id} {due.isoformat()}")


def close_as(db, item_ref: str, why: str, *, librarian: str, charge: int | None = None, note: str = "",
             now: datetime | None = None) -> dict:
    """Mark a book lost (or damaged: to repair); a loan is closed and its patron charged.

    The charge is `charge` (cents), else the book's price, else the school's
    amount for a lost book; none when that is 0 or nobody had the book.
    Returns what was done: item, patron, the charge id and amount.
    """
    if why not in desk.CLOSED:
        raise CentralError(f"a book is marked one of {', '.join(desk.CLOSED)}, not {why!r}")
    now = now or utc_now()
    with db.atomic():
        item = _need(find_item(db, item_ref), "book with id, barcode or tag", item_ref)
        loan = loan_of(db, item.id)
        seqs, charge_id, amount = [], None, 0
        if loan is not None:
            at = _stamp(db, item.id, now, None)
            seqs = _append(db, desk.close_loan(item, loan, why, librarian).records, at)
            amount = charge if charge is not None else item.price_cents
            if amount is None:
                amount = parse_money(get_settings(db)["lost_charge"])
            if amount > 0:
                charge_id = charges.raise_charge(db, librarian, loan.patron_id, item.id, why, amount)
        said = [note.strip(), why + (f" on loan to {loan.patron_id}" if loan else "")]
        set_status(db, librarian, "items", item.id, "lost" if why == "lost" else "repair",
                   "; ".join(s for s in said if s))
    return {"item": item.id, "title": item.title, "status": "lost" if why == "lost" else "repair",
            "patron": loan.patron_id if loan else None, "record": seqs[-1] if seqs else None,
            "charge": charge_id, "amount": amount if charge_id else None}


def set_item_status(db, librarian: str, item_id: str, status: str, note: str) -> None:
    """A status from the books page: lost closes a loan and charges; a lost book made available is found."""
    row = db.execute("SELECT status FROM items WHERE id = ?", [item_id]).fetchone()
    if status == "lost" and row is not None and row[0] != "lost":
        close_as(db, item_id, "lost", librarian=librarian, note=note)
    elif status == "available" and row is not None and row[0] == "lost":
        with db.atomic():
            _found(db, librarian, item_id)
    else:
        set_status(db, librarian, "items", item_id, status, note)


def _outcome(decision: desk.Decision, seqs: list[int], at: datetime, line: str) -> dict:
    """The keys of a `kiosk simulate` line, for the desk; `facts` for the words."""
    return {"input": line, "at": at.isoformat(timespec="seconds"), "screen": "desk", "outcome": decision.outcome,
            "reason": decision.reason, "patron": decision.patron_id, "item": decision.item_id,
            "due": decision.due.isoformat() if decision.due else None, "record": seqs[-1] if seqs else None,
            "records": seqs, "flagged": False, "led": None, "sound": None, "unlock": None, "message": None,
            "message_en": None, "language": "en", "progress": None, "also": [],
            "facts": dict(decision.facts, action=decision.action)}
