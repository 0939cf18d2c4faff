"""`kiosk restore`: a kiosk whose database is gone rebuilds it from the central store.

The store holds every record the kiosk ever pushed: they come back into the
log as they were, so the kiosk numbers on after the last of them and never
gives a new record an old number. The catalog, the rules and the current
loans (the store's merged truth, the kiosk's own loans among them) come with
a pull from the start. The database is built beside the real one and put in
place only when complete.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import requests

from kiosk import store
from kiosk.config import Config
from kiosk.core.durable import DatabaseRefused
from sync.client import SyncClient
from sync.lock import holder
from sync.protocol import MAX_BATCH, records_path


def _refuse_replacing(path: Path) -> None:
    """Refuse to replace a database that holds records, or that a sync process has open."""
    running = holder(path)
    if running is not None:
        raise DatabaseRefused(f"{path}: a sync process (pid {running}) has it open; stop the kiosk's services first")
    if not path.exists():
        return
    db = store.open_db(path)
    try:
        held = db.execute("SELECT COUNT(*) FROM log").fetchone()[0]
    finally:
        db.conn.close()
    if held:
        raise DatabaseRefused(f"{path}: already holds {held} records; kiosk restore never overwrites records "
                              "(move the file away first if it is to go)")


def restore(db_path: str | Path, config: Config, session: Optional[requests.Session] = None) -> dict:
    """Rebuild the kiosk's database at `db_path` from the central store; returns what came back."""
    path = Path(db_path)
    _refuse_replacing(path)
    part = Path(f"{path}.restoring")
    store.remove_db(part)
    db = store.init_db(part, config.kiosk.id)
    try:
        client = SyncClient(db, config, session=session)
        after, answer = 0, {"more": True}
        while answer.get("more"):
            answer = client.request("GET", records_path(client.kiosk_id), params={"after": after, "limit": MAX_BATCH})
            records = answer.get("records") or []
            store.restore_records(db, client.kiosk_id, records)
            after = max([after] + [r["seq"] for r in records])
        store.set_meta(db, central_epoch=answer["epoch"], pushed_seq=answer["acked_seq"],
                       central_acked_seq=answer["acked_seq"], pull_cursor=0)
        client.pull()
        facts = store.status(db)
        facts["last_seq"] = after
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.conn.close()
    if path.exists():
        store.remove_db(path)  # an empty database made by kiosk init: nothing of it is lost
    part.rename(path)
    store.marker_path(part).rename(store.marker_path(path))
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return facts
