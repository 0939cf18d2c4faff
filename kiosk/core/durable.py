"""Opening a SQLite database durably, after checking that it is the database it should be.

WAL, `synchronous=FULL`, a busy timeout, migrations applied. Before any of
that, the file is checked: it exists (only an explicit create makes one),
it is not empty, it is SQLite, its `-wal` was not lost while its `-shm`
stayed, `PRAGMA quick_check` passes, it belongs to this program
(`application_id`), and no newer version made it (`user_version` and the
migrations it names). A database that fails is refused with one line; it is
never silently started over.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from kiosk.domain.errors import KioskError

SQLITE_HEADER = b"SQLite format 3\x00"


class DatabaseRefused(KioskError):
    """A database that cannot be used as it stands; the message says which file and why, in one line."""


def describe(exc: sqlite3.Error) -> str:
    """What a storage error means, in words for the person reading the log."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_FULL"):
        return "the disk is full"
    if name.startswith("SQLITE_IOERR"):
        return "the disk failed to read or write (disk I/O error)"
    if name.startswith("SQLITE_READONLY"):
        return "it cannot be written (a read-only file, folder or filesystem)"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "another process held it locked for too long"
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return "it is damaged (not a readable SQLite database)"
    if name.startswith("SQLITE_CANTOPEN"):
        return "it cannot be opened (is its folder missing or read-only?)"
    if name.startswith("SQLITE_PERM"):
        return "permission denied"
    return str(exc)


def check_files(path: Path, what: str) -> None:
    """Refuse what is plainly not a usable database file, before SQLite touches it."""
    if path.is_dir():
        raise DatabaseRefused(f"{path}: is a folder, not a {what} database file")
    size = path.stat().st_size
    if size == 0:
        raise DatabaseRefused(f"{path}: the file is empty (0 bytes), not a {what} database; "
                              "it is not started over: restore it or remove it on purpose")
    with open(path, "rb") as handle:
        head = handle.read(len(SQLITE_HEADER))
    if head != SQLITE_HEADER:
        hint = " (is it the config file? --db takes the database, --config the config)" \
            if path.suffix in (".toml", ".env", ".conf") else ""
        raise DatabaseRefused(f"{path}: not a {what} database (not a SQLite file){hint}")
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    if shm.exists() and not wal.exists():
        # SQLite creates -wal before -shm and deletes -shm before -wal: a
        # -shm alone means the -wal, with the latest records, was taken away.
        raise DatabaseRefused(f"{path}: its write-ahead log {wal.name} is missing while {shm.name} is still "
                              "there: the newest records would be lost; put the -wal back, or restore the database")


def open_durable(path: str | Path, named_migrations: Migrations, *, application_id: int, what: str,
                 create: bool = False, check: bool = True, busy_ms: int = 5000,
                 database=sqlite_utils.Database) -> sqlite_utils.Database:
    """Open a database in WAL with `synchronous=FULL` and migrate it, after the checks above.

    `create` allows a missing file to be made (only the `init` commands pass
    it); `check` runs `PRAGMA quick_check` (once per process is enough: it
    reads the whole file); `database` is the class of the connection made
    (sqlite-utils' `Database` or a subclass). Raises `DatabaseRefused` with
    one line.
    """
    path = Path(path)
    existed = path.exists()
    if existed:
        check_files(path, what)
    elif not create:
        raise DatabaseRefused(f"{path}: no such database")
    elif not path.parent.is_dir():
        raise DatabaseRefused(f"{path}: the folder {path.parent} does not exist")
    db = None
    try:
        db = database(str(path))
        db.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        if existed:
            _check_contents(db, path, named_migrations, application_id, what, check)
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise DatabaseRefused(f"{path}: cannot keep its write-ahead log (journal mode {mode})")
        db.execute("PRAGMA synchronous = FULL")
        named_migrations.apply(db)
        version = len(known_migrations(named_migrations))
        if db.execute("PRAGMA application_id").fetchone()[0] != application_id or \
                db.execute("PRAGMA user_version").fetchone()[0] != version:
            db.execute(f"PRAGMA application_id = {int(application_id)}")
            db.execute(f"PRAGMA user_version = {version}")
        return db
    except sqlite3.Error as exc:
        if db is not None:
            db.conn.close()
        raise DatabaseRefused(f"{path}: {describe(exc)}") from None
    except DatabaseRefused:
        db.conn.close()
        raise


def known_migrations(named_migrations: Migrations) -> list[str]:
    """The names of the migrations this version of the program knows, in order."""
    return [m.name for m in named_migrations._migrations]  # sqlite-utils keeps them in registration order


def _check_contents(db, path: Path, named_migrations: Migrations, application_id: int, what: str,
                    check: bool) -> None:
    if check:
        result = db.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise DatabaseRefused(f"{path}: it is damaged (quick_check: {result.splitlines()[0]})")
    held = db.execute("PRAGMA application_id").fetchone()[0]
    applied = {m.name for m in named_migrations.applied(db)}
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if held not in (0, application_id) or (held == 0 and tables and not applied):
        raise DatabaseRefused(f"{path}: not a {what} database (another program's SQLite file)")
    unknown = sorted(applied - set(known_migrations(named_migrations)))
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if unknown or version > len(known_migrations(named_migrations)):
        named = f" (migration {unknown[0]} is unknown here)" if unknown else f" (schema version {version})"
        raise DatabaseRefused(f"{path}: made by a newer version of this program{named}; "
                              "upgrade this program rather than open it half")


def check_writable(db, path: str | Path) -> None:
    """Refuse a database that opened read-only (a read-only file, folder or filesystem).

    SQLite opens such a file read-only without a word and fails only at the
    first write; the probe writes the header's schema version inside a
    transaction that is rolled back.
    """
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            db.execute(f"PRAGMA user_version = {int(version)}")
        finally:
            db.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise DatabaseRefused(f"{path}: {describe(exc)}") from None
