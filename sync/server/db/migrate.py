"""Named migrations, applied in the order they are registered, on SQLite and on PostgreSQL.

On SQLite they are sqlite-utils' own (the `_sqlite_migrations` table every
store made so far already has). On PostgreSQL the same registered functions
run, each in a transaction with the record of it, and the applied ones are
kept in `_migrations` of the schema they ran in; a session lock lets one
process migrate at a time (two uvicorn workers starting together).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlite_utils.migrations import Migrations as SqliteMigrations

_LOCK = "kiosk-central migrations"


class Migrations(SqliteMigrations):
    """sqlite-utils' named migrations, applied on either backend (`apply(db)` returns the names applied)."""

    def apply(self, db, *, stop_before=None) -> list[str]:
        if db.dialect == "sqlite":
            names = [m.name for m in self.pending(db)]
            super().apply(db, stop_before=stop_before)
            still = {m.name for m in self.pending(db)}
            return [name for name in names if name not in still]
        return self._apply_postgres(db)

    def pending_names(self, db) -> list[str]:
        """The names not yet applied, in order (nothing is written); `db` may be a bare sqlite-utils `Database`."""
        if getattr(db, "dialect", "sqlite") == "sqlite":
            return [m.name for m in self.pending(db)]
        done = _applied_postgres(db, self.name)
        return [m.name for m in self._migrations if m.name not in done]

    def _apply_postgres(self, db) -> list[str]:
        applied = []
        db.execute("SELECT pg_advisory_lock(hashtextextended(?, 0))", [_LOCK])
        try:
            db.execute("CREATE TABLE IF NOT EXISTS _migrations (migration_set TEXT NOT NULL, name TEXT NOT NULL,"
                       " applied_at TEXT NOT NULL, PRIMARY KEY (migration_set, name))")
            done = _applied_postgres(db, self.name)
            for migration in self._migrations:
                if migration.name in done:
                    continue
                with db.atomic():
                    migration.fn(db)
                    db.execute("INSERT INTO _migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
                               [self.name, migration.name, str(datetime.now(timezone.utc))])
                db.forget_tables()
                applied.append(migration.name)
        finally:
            db.execute("SELECT pg_advisory_unlock(hashtextextended(?, 0))", [_LOCK])
        return applied


def _applied_postgres(db, migration_set: str) -> set[str]:
    if not db.execute("SELECT to_regclass('_migrations') IS NOT NULL").fetchone()[0]:
        return set()
    return {r[0] for r in db.execute("SELECT name FROM _migrations WHERE migration_set = ?", [migration_set])}
