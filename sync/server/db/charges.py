"""Charges for lost and damaged books: raised, paid or waived, and the block they put on borrowing.

A patron whose open charges are above the school's amount (`settings`
`charge_limit`) may not borrow: the desk says so, and the kiosks, which know
nothing of money, get the card as blocked (`patrons.owes_block`) until the
charge is paid or waived. Every change is in the audit register.
"""

from __future__ import annotations

from kiosk.domain.desk import Charges
from kiosk.domain.money import money_text, parse_money
from sync.server.db.audit import audit
from sync.server.db.schema import CentralError, iso, next_revs, utc_now
from sync.server.db.settings import get_settings

STATUSES = ("open", "paid", "waived")
REASONS = ("lost", "damaged")


def limit_cents(db) -> int | None:
    """Open charges above this many cents stop borrowing; None: they never do."""
    text = get_settings(db)["charge_limit"]
    return parse_money(text) if text else None


def owed(db, patron_id: str) -> int:
    """The patron's open charges, in cents."""
    return db.execute("SELECT COALESCE(SUM(amount_cents), 0) FROM charges WHERE patron_id = ? AND status = 'open'",
                      [patron_id]).fetchone()[0]


def charges_facts(db, patron_id: str) -> Charges:
    """What the desk's rules need: the sum owed and the school's amount."""
    return Charges(owed=owed(db, patron_id), limit=limit_cents(db))


def refresh_block(db, patron_id: str) -> None:
    """Set the patron's block for unpaid charges; a change goes to the kiosks (a fresh change number)."""
    limit = limit_cents(db)
    blocks = int(limit is not None and owed(db, patron_id) > limit)
    row = db.execute("SELECT owes_block FROM patrons WHERE id = ?", [patron_id]).fetchone()
    if row is not None and row[0] != blocks:
        db.execute("UPDATE patrons SET owes_block = ?, rev = ? WHERE id = ?", [blocks, next_revs(db, 1), patron_id])


def refresh_blocks(db) -> None:
    """Every patron's block again, after the school's amount changed (inside the caller's transaction)."""
    for (patron_id,) in db.execute("SELECT id FROM patrons WHERE owes_block = 1 UNION"
                                   " SELECT patron_id FROM charges WHERE status = 'open'").fetchall():
        refresh_block(db, patron_id)


def raise_charge(db, librarian: str, patron_id: str, item_id: str | None, reason: str, amount: int) -> int:
    """A new open charge (inside the caller's transaction); returns its id."""
    if reason not in REASONS:
        raise CentralError(f"a charge is for one of {', '.join(REASONS)}, not {reason!r}")
    charge_id = db.execute("INSERT INTO charges (patron_id, item_id, reason, amount_cents, status, created,"
                           " created_by) VALUES (?, ?, ?, ?, 'open', ?, ?) RETURNING id",
                           [patron_id, item_id, reason, amount, iso(utc_now()), librarian]).fetchone()[0]
    audit(db, librarian, f"charge {reason}", patron_id, f"{item_id}: {money_text(amount)}")
    refresh_block(db, patron_id)
    return charge_id


def settle(db, librarian: str, charge_id: int, status: str, note: str = "") -> None:
    """An open charge paid or waived, audited; the patron's block follows."""
    if status not in ("paid", "waived"):
        raise CentralError(f"a charge is settled as paid or waived, not {status!r}")
    with db.atomic():
        row = db.execute("SELECT patron_id, item_id, amount_cents, status FROM charges WHERE id = ?",
                         [charge_id]).fetchone()
        if row is None:
            raise CentralError(f"no charge #{charge_id}")
        if row[3] != "open":
            raise CentralError(f"charge #{charge_id} is already {row[3]}")
        _close(db, librarian, charge_id, status, note)
        audit(db, librarian, f"charge {status}", row[0], f"#{charge_id} {row[1]}: {money_text(row[2])}; {note}"
              .rstrip("; "))
        refresh_block(db, row[0])


def _close(db, librarian: str, charge_id: int, status: str, note: str) -> None:
    db.execute("UPDATE charges SET status = ?, settled = ?, settled_by = ?, note = ? WHERE id = ?",
               [status, iso(utc_now()), librarian, note.strip()[:500], charge_id])


def waive_found(db, librarian: str, item_id: str) -> list[int]:
    """A lost book found again: its open charges are waived (a paid one stays paid). Caller's transaction."""
    found = [(r[0], r[1]) for r in db.execute("SELECT id, patron_id FROM charges WHERE item_id = ? AND status ="
                                              " 'open' AND reason = 'lost'", [item_id])]
    for charge_id, patron_id in found:
        _close(db, librarian, charge_id, "waived", "book found again")
        audit(db, librarian, "charge waived", patron_id, f"#{charge_id} {item_id}: book found again")
        refresh_block(db, patron_id)
    return [charge_id for charge_id, _ in found]


def list_charges(db, status: str = "", patron_id: str = "", item_id: str = "") -> list[dict]:
    """Charges newest first, with names and titles; filtered by status, patron and book when given."""
    where, params = [], []
    for column, value in (("status", status), ("patron_id", patron_id), ("item_id", item_id)):
        if value:
            where.append(f"charges.{column} = ?")
            params.append(value)
    return list(db.query(
        "SELECT charges.id, charges.patron_id, patrons.name AS patron_name, patrons.class_name, charges.item_id,"
        " items.title, charges.reason, charges.amount_cents, charges.status, charges.created, charges.created_by,"
        " charges.settled, charges.settled_by, charges.note FROM charges"
        " LEFT JOIN patrons ON patrons.id = charges.patron_id LEFT JOIN items ON items.id = charges.item_id"
        + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY charges.id DESC", params))


def charges_report(db) -> list[dict]:
    """`kiosk-central report charges`: patron, item, amount, status, created; oldest first."""
    return [{"patron": r["patron_id"], "item": r["item_id"], "amount": money_text(r["amount_cents"]),
             "status": r["status"], "created": r["created"]} for r in reversed(list_charges(db))]
