"""Opening a SQLite database durably: WAL, `synchronous=FULL`, a busy timeout, migrations applied."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations


def open_durable(path: str | Path, named_migrations: Migrations, busy_ms: int = 5000) -> sqlite_utils.Database:
    """Open (creating if needed) a database in WAL with `synchronous=FULL`, and migrate it."""
    db = sqlite_utils.Database(str(path))
    db.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    named_migrations.apply(db)
    return db
