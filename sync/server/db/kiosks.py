"""Kiosks and their tokens: registering a kiosk, knowing it by its token, its health, its own records."""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import Optional

from kiosk.domain.model import KIOSK_ID_RULE, is_kiosk_id
from kiosk.domain.records import RECORD_FIELDS
from kiosk.domain.text import bad_character
from sync.server.db.schema import CentralError, epoch, iso, utc_now

DESK_ID = "desk"  # the librarian's desk writes to the merged log as this kiosk (schema: desk_0001)


def token_hash(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough (passwords are not).
    return hashlib.sha256(token.encode()).hexdigest()


def add_kiosk(db, kiosk_id: str, name: str | None = None, replace: bool = False) -> str:
    """Register a kiosk (or give it a new token with `replace`); returns the token."""
    if not is_kiosk_id(kiosk_id):
        raise CentralError(f"kiosk id {kiosk_id!r}: use {KIOSK_ID_RULE}")
    if kiosk_id == DESK_ID:
        raise CentralError(f"kiosk id {DESK_ID!r} is the librarian's desk in the pages; choose another id")
    if name is not None and (bad_character(name) or len(name) > 200):
        raise CentralError(f"kiosk name {name!r}: at most 200 characters, none of them a control character")
    token = secrets.token_urlsafe(32)
    with db.atomic():
        exists = db.execute("SELECT 1 FROM kiosks WHERE id = ?", [kiosk_id]).fetchone()
        if exists and not replace:
            raise CentralError(f"kiosk {kiosk_id} is already registered (--new-token gives it a new token)")
        if exists:
            db.execute("UPDATE kiosks SET token_hash = ? WHERE id = ?", [token_hash(token), kiosk_id])
        else:
            db.execute("INSERT INTO kiosks (id, name, token_hash, created) VALUES (?, ?, ?, ?)",
                       [kiosk_id, name or kiosk_id, token_hash(token), iso(utc_now())])
    return token


def kiosk_for_token(db, token: str) -> Optional[str]:
    row = db.execute("SELECT id FROM kiosks WHERE token_hash = ?", [token_hash(token)]).fetchone()
    return row[0] if row else None


def kiosks(db) -> list[dict]:
    """Every kiosk with its health facts (no token hashes)."""
    rows = db.query("SELECT id, name, created, last_seen, last_sync, acked_seq, pending, clock_offset, reader_ok,"
                    " version, last_error, status FROM kiosks ORDER BY id")
    out = []
    for row in rows:
        row["status"] = json.loads(row["status"] or "{}")
        row["reader_ok"] = None if row["reader_ok"] is None else bool(row["reader_ok"])
        out.append(row)
    return out


def note_contact(db, kiosk_id: str, body: dict, now: datetime) -> float:
    """What every push or hello tells of a kiosk: its clock reading (an anchor for its boot) and its health.

    Inside the caller's transaction. Returns the clock offset observed
    (server time minus the kiosk's `sent_at`, in seconds).
    """
    offset = (now - datetime.fromisoformat(body["sent_at"])).total_seconds()
    db.execute("INSERT OR REPLACE INTO boots (kiosk_id, boot_id, server_time, monotonic) VALUES (?, ?, ?, ?)",
               [kiosk_id, body["boot_id"], iso(now), body["monotonic"]])
    status = body.get("status") or {}
    db.execute(
        "UPDATE kiosks SET last_seen = ?, pending = ?, clock_offset = ?, boot_id = ?, sent_monotonic = ?,"
        " server_time_at_push = ?, reader_ok = ?, version = ?, last_error = ?, status = ? WHERE id = ?",
        [iso(now), status.get("pending"), offset, body["boot_id"], body["monotonic"], iso(now),
         None if status.get("reader_ok") is None else int(bool(status["reader_ok"])), status.get("version"),
         status.get("last_error"), json.dumps(status, sort_keys=True), kiosk_id])
    return offset


def round_facts(db, kiosk_id: str) -> dict:
    """What a kiosk compares every round: this database's epoch and the highest seq it holds of the kiosk."""
    acked = db.execute("SELECT acked_seq FROM kiosks WHERE id = ?", [kiosk_id]).fetchone()[0]
    return {"epoch": epoch(db), "acked_seq": acked}


def hello(db, kiosk_id: str, body: dict, now: Optional[datetime] = None) -> dict:
    """A kiosk's round begins here: its health noted; the store's epoch and what it acknowledged answered."""
    now = now or utc_now()
    with db.atomic():
        offset = note_contact(db, kiosk_id, body, now)
        facts = round_facts(db, kiosk_id)
    return {**facts, "server_time": iso(now), "clock_offset": round(offset, 3)}


def kiosk_records(db, kiosk_id: str, after: int, limit: int) -> dict:
    """A kiosk's own records after seq `after`, as it pushed them (for `kiosk restore`)."""
    rows = db.query(f"SELECT {', '.join(RECORD_FIELDS)} FROM log WHERE kiosk_id = ? AND seq > ? ORDER BY seq"
                    " LIMIT ?", [kiosk_id, after, limit + 1])
    records = []
    for row in rows:
        row["details"] = json.loads(row["details"] or "{}")
        row["trusted"], row["flagged"] = bool(row["trusted"]), bool(row["flagged"])
        records.append(row)
    return {**round_facts(db, kiosk_id), "records": records[:limit], "more": len(records) > limit}
