"""Opening a central store on either backend: checked, migrated, in one school; only `init_db` creates one.

A SQLite store is a file, checked before anything is written to it
(`kiosk.core.durable`: missing, empty, damaged, another program's, made by a
newer version). A PostgreSQL store is the district's tables in an existing
database (`createdb` makes the database, `kiosk-central init` the store in
it); a database without them, or with migrations this version does not
know, is refused with one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import sqlite_utils

from kiosk.core.durable import DatabaseRefused, open_durable
from sync.server.db.connection import SqliteStore, connect, is_postgres, shown
from sync.server.db.schema import APPLICATION_ID, migrations
from sync.server.db.schools import (
    DISTRICT, district_migrations, migrate_all, schema_of, school_id, schools, use_school,
)


def _open(url, create: bool, check: bool = True, apply: bool = True):
    """The store at `url`, migrated (the district's tables and each school's; on PostgreSQL not with `apply`
    false); made only with `create`."""
    if not is_postgres(url):
        db = open_durable(url, migrations, application_id=APPLICATION_ID, what="central store", create=create,
                          check=check, busy_ms=10000, database=SqliteStore)
        district_migrations.apply(db)
        return db
    db = connect(url)
    try:
        if not create and not db.execute("SELECT to_regclass('public.district_schools') IS NOT NULL").fetchone()[0]:
            raise DatabaseRefused(f"{shown(url)}: no central store in this database (kiosk-central init makes one)")
        _refuse_newer(db, url)
        if apply:
            migrate_all(db)
    except DatabaseRefused:
        db.close()
        raise
    return db


def _refuse_newer(db, url) -> None:
    """A store that a newer version migrated is not opened half."""
    known = {m.name for m in migrations._migrations} | {m.name for m in district_migrations._migrations}
    places = ["public"] + ([schema_of(s["id"]) for s in schools(db)] if db.execute(
        "SELECT to_regclass('public.district_schools') IS NOT NULL").fetchone()[0] else [])
    for place in places:
        if db.execute("SELECT to_regclass(?) IS NOT NULL", [f'"{place}"._migrations']).fetchone()[0]:
            unknown = sorted({r[0] for r in db.execute(f'SELECT name FROM "{place}"._migrations')} - known)
            if unknown:
                raise DatabaseRefused(f"{shown(url)}: made by a newer version of this program (migration"
                                      f" {unknown[0]} is unknown here); upgrade this program rather than open it half")


def open_db(url, school: Optional[str] = None, *, district: bool = False, check: bool = True):
    """Open the existing central store at a file path or a PostgreSQL URL, checked and migrated, in one school.

    `school` names it; without a name the store must hold one school. With
    `district` the connection works in the district's own accounts instead.
    `check` runs SQLite's `PRAGMA quick_check` (once, when a process starts, is enough).
    """
    db = _open(url, create=False, check=check)
    use_school(db, DISTRICT if district else school_id(db, school))
    return db


def init_db(url):
    """Create the central store, or open the one made here before (in its first school); refuses anything else."""
    db = _open(url, create=True)
    use_school(db, schools(db)[0]["id"])
    return db


def migrate(url) -> dict[str, list[str]]:
    """Open the store, applying what this version adds; the names of the migrations applied, by place."""
    if is_postgres(url):
        db = _open(url, create=False, apply=False)
        done = migrate_all(db)
        db.close()
        return done
    pending = []
    if Path(url).is_file():  # what is pending, read before opening applies it (a missing file is refused there)
        peek = sqlite_utils.Database(str(url))
        pending = migrations.pending_names(peek) + district_migrations.pending_names(peek)
        peek.conn.close()
    _open(url, create=False).close()
    return {"store": pending}
