"""Backing up and restoring the central database.

A backup is SQLite's online backup API reading one snapshot, safe while
the store serves: writers carry on, the copy is of one moment. A restore
puts a backup in place under a new epoch (the database's identity), so that
every kiosk notices at its next sync that the store may hold less than it
once acknowledged, sends its records again from what the store holds, and
pulls everything from the start (docs/sync-api.md).
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Optional

from kiosk.core.durable import DatabaseRefused, check_files, describe
from sync.server.db.connection import is_postgres
from sync.server.db.schema import CentralError, epoch, new_epoch
from sync.server.db.opening import init_db, open_db

ON_POSTGRESQL = ("a PostgreSQL store is backed up with pg_dump and restored with pg_restore (README: Backups);"
                 " after pg_restore, `kiosk-central restored --db URL` tells the kiosks")

BACKUP_PATTERN = "central-*.db"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(source: sqlite3.Connection, target: Path) -> None:
    """Copy a database with the online backup API into `target` (a new file), then sync it to disk."""
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        result = copy.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise CentralError(f"{target}: the copy does not check out ({result.splitlines()[0]})")
    finally:
        copy.close()
    with open(target, "rb+") as handle:
        os.fsync(handle.fileno())


def backup(db_path: str | Path, to: str | Path, keep: Optional[int] = None,
           now: Optional[datetime] = None) -> Path:
    """Copy the central database at `db_path` to `to` (a new file, or a folder for a dated file).

    With a folder and `keep`, only the newest `keep` dated backups stay.
    Returns the backup's path. Nothing is written at `to` unless the copy
    checks out (it is written beside and renamed).
    """
    if is_postgres(db_path):
        raise CentralError(ON_POSTGRESQL)
    db = open_db(db_path, check=False)
    to = Path(to)
    if to.is_dir():
        target = to / f"central-{(now or datetime.now()).strftime('%Y%m%d-%H%M%S')}.db"
    elif not to.parent.is_dir():
        raise CentralError(f"{to}: the folder {to.parent} does not exist")
    else:
        target = to
    if target.exists():
        raise CentralError(f"{target}: already exists; a backup never overwrites a file")
    part = target.with_name(target.name + ".part")
    try:
        _copy(db.conn, part)
        part.rename(target)
        _fsync_dir(target.parent)
    except sqlite3.Error as exc:
        raise CentralError(f"{target}: the backup failed: {describe(exc)}") from None
    except OSError as exc:
        raise CentralError(f"{target}: the backup failed: {exc.strerror}") from None
    finally:
        part.unlink(missing_ok=True)
        db.conn.close()
    if keep is not None and to.is_dir():
        for old in sorted(to.glob(BACKUP_PATTERN))[:-keep]:
            old.unlink()
    return target


def restore(db_path: str | Path, source: str | Path, now: Optional[datetime] = None) -> dict:
    """Put the backup `source` in place at `db_path` under a new epoch; the database it replaces is kept aside.

    Run it with the store stopped. Returns what the kiosks will see: the new
    epoch, the kiosks and their acknowledged records, and where the replaced
    database went.
    """
    if is_postgres(db_path):
        raise CentralError(ON_POSTGRESQL)
    db_path, source = Path(db_path), Path(source)
    if not source.exists():
        raise DatabaseRefused(f"{source}: no such backup")
    check_files(source, "central store")
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    part = db_path.with_name(db_path.name + ".restoring")
    part.unlink(missing_ok=True)
    if not db_path.parent.is_dir():
        raise DatabaseRefused(f"{db_path}: the folder {db_path.parent} does not exist")
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        _copy(reader, part)
    except sqlite3.Error as exc:
        part.unlink(missing_ok=True)
        raise DatabaseRefused(f"{source}: {describe(exc)}") from None
    finally:
        reader.close()
    try:
        copy = init_db(part)  # checks it is a central database, migrates an older one
    except DatabaseRefused as exc:
        part.unlink(missing_ok=True)
        raise DatabaseRefused(str(exc).replace(str(part), str(source))) from None
    with copy.atomic():
        copy.execute("UPDATE store SET value = ? WHERE key = 'epoch'", [new_epoch()])
    facts = {"epoch": epoch(copy),
             "kiosks": {r[0]: r[1] for r in copy.execute("SELECT id, acked_seq FROM kiosks ORDER BY id")},
             "records": copy.execute("SELECT COUNT(*) FROM log").fetchone()[0], "kept": None}
    copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy.conn.close()
    Path(f"{part}-wal").unlink(missing_ok=True)
    Path(f"{part}-shm").unlink(missing_ok=True)
    if db_path.exists():
        kept = db_path.with_name(f"{db_path.name}.replaced-{stamp}")
        for suffix in ("-wal", "-shm"):
            if Path(f"{db_path}{suffix}").exists():
                Path(f"{db_path}{suffix}").rename(f"{kept}{suffix}")
        db_path.rename(kept)
        facts["kept"] = str(kept)
    part.rename(db_path)
    _fsync_dir(db_path.parent)
    return facts
