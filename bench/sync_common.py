"""What the sync benchmarks share: a central store in its own process, kiosks, and the baseline.

The central store runs as `kiosk-central serve` on loopback, in its own
process as in a school, so the kiosks measured here do not share its
interpreter. The baseline is bare SQLite: the same rows inserted in the same
batches, WAL and `synchronous=FULL`, on the same disk in the same run.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk import store  # noqa: E402
from kiosk.config import parse_config  # noqa: E402
from kiosk.domain.events import Record  # noqa: E402
from sync.server import db as central_db  # noqa: E402
from sync.client import SyncClient, make_session  # noqa: E402

STAMP = {"at": datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc).isoformat(timespec="milliseconds"),
         "trusted": True, "boot_id": "bench-boot", "monotonic": 1.0}


def baseline_inserts(folder: Path, rows: int, batch: int, name: str) -> float:
    """Seconds for bare SQLite to insert `rows` log rows, `batch` per transaction."""
    conn = sqlite3.connect(folder / f"baseline-{name}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE log (kiosk_id TEXT, seq INTEGER, kind TEXT, at TEXT, trusted INTEGER, boot_id TEXT,"
                 " monotonic REAL, item_id TEXT, details TEXT, PRIMARY KEY (kiosk_id, seq)) WITHOUT ROWID")
    start = time.perf_counter()
    for first in range(0, rows, batch):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO log VALUES ('k', ?, 'inventory', ?, 1, 'b', 1.0, ?, '{}')",
                         [(n + 1, STAMP["at"], f"B{n:05d}") for n in range(first, min(rows, first + batch))])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


@contextmanager
def central_store(folder: Path, kiosk_ids: list[str], prepare=None) -> Iterator[tuple[str, object, dict]]:
    """`kiosk-central serve` on a free loopback port; yields its URL, its database and the kiosks' tokens."""
    path = folder / "central.db"
    db = central_db.init_db(path)
    tokens = {kiosk_id: central_db.add_kiosk(db, kiosk_id) for kiosk_id in kiosk_ids}
    if prepare is not None:
        prepare(db)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "sync.server.cli", "serve", "--db", str(path),
                               "--port", str(port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the central store did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", db, tokens
    finally:
        server.terminate()
        server.wait(15)


def kiosk(folder: Path, url: str, kiosk_id: str, token: str, records: int, batch: int = 1000):
    """A kiosk database with `records` pending records and its sync client."""
    db = store.init_db(folder / f"{kiosk_id}.db", kiosk_id)
    for first in range(0, records, 2000):
        store.append_records(db, kiosk_id, [Record("inventory", item_id=f"B{n:05d}")
                                            for n in range(first, min(records, first + 2000))], STAMP)
    config = parse_config({"kiosk": {"id": kiosk_id},
                           "central": {"url": url, "token": token, "batch_size": batch}}, f"{kiosk_id}.toml")
    return db, SyncClient(db, config, session=make_session(retries=5, backoff=0.05))


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"
