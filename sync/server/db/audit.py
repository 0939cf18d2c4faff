"""The registers: every change a librarian makes, with who, when and why."""

from __future__ import annotations

from sync.server.db.schema import iso, utc_now


def audit(db, librarian: str, action: str, target: str, detail: str = "") -> None:
    """The registers: every change a librarian makes, with who and when (inside the caller's transaction)."""
    db.execute("INSERT INTO audit (at, librarian, action, target, detail) VALUES (?, ?, ?, ?, ?)",
               [iso(utc_now()), librarian, action, target, detail])


def audit_now(db, librarian: str, action: str, target: str, detail: str = "") -> None:
    """`audit` in a transaction of its own."""
    with db.atomic():
        audit(db, librarian, action, target, detail)


def register(db, table: str, limit: int = 200) -> list[dict]:
    """The repair and withdrawal register (items) or the card register (patrons): who changed what, when, why."""
    prefix = "item " if table == "items" else "patron "
    return list(db.query("SELECT at, librarian, action, target, detail FROM audit WHERE action LIKE ?"
                         " ORDER BY id DESC LIMIT ?", [prefix + "%", limit]))
