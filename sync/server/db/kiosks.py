"""Kiosks and their tokens: registering a kiosk, knowing it by its token, its health."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Optional

from kiosk.domain.model import KIOSK_ID_RULE, is_kiosk_id
from sync.server.db.schema import CentralError, iso, utc_now


def token_hash(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough (passwords are not).
    return hashlib.sha256(token.encode()).hexdigest()


def add_kiosk(db, kiosk_id: str, name: str | None = None, replace: bool = False) -> str:
    """Register a kiosk (or give it a new token with `replace`); returns the token."""
    if not is_kiosk_id(kiosk_id):
        raise CentralError(f"kiosk id {kiosk_id!r}: use {KIOSK_ID_RULE}")
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
