"""Librarian accounts and their sessions (password hashes are made in `sync.server.auth`)."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sync.server.db.schema import iso, utc_now


def set_librarian(db, name: str, password_hash: str) -> None:
    with db.atomic():
        db.execute("INSERT INTO librarians (name, password_hash, created) VALUES (?, ?, ?)"
                   " ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash",
                   [name, password_hash, iso(utc_now())])
        db.execute("DELETE FROM sessions WHERE librarian = ?", [name])  # a new password ends old sessions


def rehash_librarian(db, name: str, password_hash: str) -> None:
    """The same password hashed at today's cost (sessions go on)."""
    with db.atomic():
        db.execute("UPDATE librarians SET password_hash = ? WHERE name = ?", [password_hash, name])


def librarian_hash(db, name: str) -> Optional[str]:
    row = db.execute("SELECT password_hash FROM librarians WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def start_session(db, id_hash: str, librarian: str, csrf: str, expires: datetime) -> None:
    with db.atomic():
        db.execute("DELETE FROM sessions WHERE expires < ?", [iso(utc_now())])
        db.execute("INSERT INTO sessions (id_hash, librarian, csrf, expires) VALUES (?, ?, ?, ?)",
                   [id_hash, librarian, csrf, iso(expires)])


def session(db, id_hash: str) -> Optional[dict]:
    row = db.execute("SELECT librarian, csrf, expires FROM sessions WHERE id_hash = ?", [id_hash]).fetchone()
    if row is None or datetime.fromisoformat(row[2]) < utc_now():
        return None
    return {"librarian": row[0], "csrf": row[1]}


def end_session(db, id_hash: str) -> None:
    with db.atomic():
        db.execute("DELETE FROM sessions WHERE id_hash = ?", [id_hash])
