"""Moving a school's store into a district's: every table of the school, in one transaction, counted.

The school's tables are copied as they are: kiosks with their token hashes
and acknowledged sequence numbers, the log, loans, flags, patrons, books,
rules, librarians, registers, and its change counter, so that the kiosks,
pointed at the new store, push on from the record after the last one the
old store held and pull from the cursor they had. Sessions are not copied:
the librarians log in again at the new address.
"""

from __future__ import annotations

from sync.server.db.kiosks import DESK_ID
from sync.server.db.schema import CentralError, refresh_statistics
from sync.server.db.schools import (
    add_school, holds_nothing, migrate_all, registry, school_id, schools, use_school,
)

NOT_MOVED = ("sessions",)  # a session belongs to the old address


def _tables(db) -> list[str]:
    internal = ("_sqlite_migrations", "_migrations")
    return sorted(t for t in db.table_names()
                  if t not in internal and not t.startswith(("district_", "sqlite_")))


def _columns(db, table: str) -> list[str]:
    cursor = db.execute(f"SELECT * FROM {table} LIMIT 0")
    return [c[0] for c in cursor.description]


def _empty_school(target, name: str) -> int:
    """The school `name` in the target, new, or there already but holding nothing (a move that failed)."""
    held = next((s for s in schools(target) if s["name"] == name), None)
    if held is None:
        return add_school(target, name)
    if not holds_nothing(target, held["id"]):
        raise CentralError(f"school {name} is already in the district's store and holds records:"
                           " moving it again would double them")
    return held["id"]


def move_school(source, target, name: str) -> dict[str, int]:
    """Copy the one school of `source` into `target` as school `name`; rows copied per table.

    Both are open connections (`connect`), migrated here to the same version.
    All or nothing: the copy is one transaction of the target.
    """
    migrate_all(source)
    use_school(source, school_id(source))
    migrate_all(target)
    librarians = [r[0] for r in source.execute("SELECT name FROM librarians ORDER BY name")]
    there = next((s["id"] for s in schools(target) if s["name"] == name), -1)
    taken = {r[0] for r in target.execute(
        f"SELECT name FROM {registry(target, 'district_accounts')} WHERE school_id <> ?", [there])}
    clash = sorted(set(librarians) & taken)
    if clash:
        raise CentralError(f"librarian names already used in the district's store: {', '.join(clash)};"
                           " give them other names in the school's store first (add-librarian)")
    school = _empty_school(target, name)
    use_school(target, school)
    tables = [t for t in _tables(source) if t not in NOT_MOVED]
    missing = sorted(set(tables) - set(_tables(target)))
    if missing:
        raise CentralError(f"the district's store has no tables {', '.join(missing)}: run a newer kiosk-central there")
    counts = {}
    with source.atomic(), target.atomic():
        for table in tables:
            columns = _columns(source, table)
            target.execute(f"DELETE FROM {table}")  # the rows a new school's migrations put there
            rows = source.execute(f"SELECT {', '.join(columns)} FROM {table}")
            target.copy_in(table, columns, rows)
            counts[table] = target.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            held = source.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            if counts[table] != held:
                raise CentralError(f"{table}: {counts[table]} rows copied of {held}; nothing was moved")
        target.execute(f"DELETE FROM {registry(target, 'district_accounts')} WHERE school_id = ?", [school])
        target.executemany(f"INSERT INTO {registry(target, 'district_accounts')} (name, school_id) VALUES (?, ?)",
                           [(librarian, school) for librarian in librarians])
    refresh_statistics(target)
    counts["kiosks"] = target.execute("SELECT COUNT(*) FROM kiosks WHERE id != ?", [DESK_ID]).fetchone()[0]
    return counts
