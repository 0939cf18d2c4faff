"""Sync benchmarks on loopback, each beside a baseline of bare SQLite inserts of the same records.

1. 10,000 pending records pushed and acknowledged (target: 5 s or less).
2. The first pull of a 50,000-item catalog (target: 10 s or less).
3. 40 simulated kiosks pushing at once (target: at least 2,000 records/s
   sustained, none lost, none twice).

Run: .venv/bin/python bench/sync_bench.py [--quick]
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk import store  # noqa: E402
from kiosk.config import parse_config  # noqa: E402
from kiosk.events import Record  # noqa: E402
from kiosk.model import Item  # noqa: E402
from sync.central import db as central_db  # noqa: E402
from sync.client import SyncClient, make_session  # noqa: E402
from tests.servers import CentralServer  # noqa: E402

STAMP = {"at": datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc).isoformat(), "trusted": True, "boot_id": "b",
         "monotonic": 1.0}


def baseline_inserts(folder: Path, rows: int, name: str) -> float:
    """Bare SQLite: the same number of rows inserted in batches of 500, WAL and synchronous=FULL."""
    conn = sqlite3.connect(folder / f"baseline-{name}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE log (kiosk_id TEXT, seq INTEGER, kind TEXT, at TEXT, item_id TEXT, details TEXT,"
                 " PRIMARY KEY (kiosk_id, seq)) WITHOUT ROWID")
    start = time.perf_counter()
    for first in range(0, rows, 500):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO log VALUES ('k', ?, 'inventory', ?, ?, '{}')",
                         [(n + 1, STAMP["at"], f"B{n:05d}") for n in range(first, min(rows, first + 500))])
        conn.execute("COMMIT")
    return time.perf_counter() - start


def kiosk_site(folder: Path, server, kiosk_id: str, token: str, records: int):
    db = store.init_db(folder / f"{kiosk_id}.db", kiosk_id)
    for first in range(0, records, 2000):
        store.append_records(db, kiosk_id, [Record("inventory", item_id=f"B{n:05d}")
                                            for n in range(first, min(records, first + 2000))], STAMP)
    config = parse_config({"kiosk": {"id": kiosk_id}, "central": {"url": server.url, "token": token,
                                                                   "batch_size": 1000}})
    return db, SyncClient(db, config, session=make_session(retries=5, backoff=0.05))


def line(what: str, seconds: float, baseline: float, target: str) -> None:
    print(f"  {what:<44} {seconds:7.2f} s   {seconds / baseline:6.1f} x bare inserts ({baseline:.2f} s)   "
          f"target {target}")


def push_10k(folder: Path, count: int) -> None:
    db_path = folder / "push.db"
    cdb = central_db.open_db(db_path)
    token = central_db.add_kiosk(cdb, "door")
    with CentralServer(db_path) as server:
        db, client = kiosk_site(folder, server, "door", token, count)
        start = time.perf_counter()
        acked = client.push()
        seconds = time.perf_counter() - start
    assert acked == count and store.pending_count(db) == 0
    line(f"push {count:,} records, acknowledged", seconds, baseline_inserts(folder, count, "push"), "<= 5 s")


def pull_catalog(folder: Path, count: int) -> None:
    db_path = folder / "pull.db"
    cdb = central_db.open_db(db_path)
    token = central_db.add_kiosk(cdb, "door")
    central_db.save_items(cdb, [Item(id=f"B{n:06d}", title=f"Book number {n}", author="Author", call_number="F",
                                     tag_uid=f"04{n:012X}", barcode=f"978{n:010d}", home="library")
                                for n in range(count)])
    with CentralServer(db_path) as server:
        db, client = kiosk_site(folder, server, "door", token, 0)
        start = time.perf_counter()
        client.pull()
        seconds = time.perf_counter() - start
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == count
    line(f"first pull of a {count:,}-item catalog", seconds, baseline_inserts(folder, count, "pull"), "<= 10 s")


def many_kiosks(folder: Path, kiosks: int, each: int) -> None:
    db_path = folder / "many.db"
    cdb = central_db.open_db(db_path)
    tokens = {f"cabinet-{n:02d}": central_db.add_kiosk(cdb, f"cabinet-{n:02d}") for n in range(kiosks)}
    with CentralServer(db_path) as server:
        ready, results = [], {}

        def run(kiosk_id):
            db, client = kiosk_site(folder, server, kiosk_id, tokens[kiosk_id], each)
            ready.append(kiosk_id)
            go.wait()
            # Small batches, as kiosks that sync often send them.
            client.batch = 100
            results[kiosk_id] = client.push()

        go = threading.Event()
        threads = [threading.Thread(target=run, args=(k,)) for k in tokens]
        for t in threads:
            t.start()
        while len(ready) < kiosks:
            time.sleep(0.05)
        start = time.perf_counter()
        go.set()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
    total = kiosks * each
    held = cdb.execute("SELECT COUNT(*), COUNT(DISTINCT kiosk_id || '/' || seq) FROM log").fetchone()
    assert held == (total, total), held
    assert all(v == each for v in results.values())
    print(f"  {kiosks} kiosks x {each} records pushed at once: {total / seconds:8.0f} records/s "
          f"({seconds:.2f} s), held {held[0]:,} of {total:,}, none twice   target >= 2,000 records/s")
    base = baseline_inserts(folder, total, "many")
    print(f"  {'':44} bare inserts of the same: {total / base:8.0f} records/s ({base:.2f} s)")


def main() -> None:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("sync on loopback (central store in uvicorn, kiosk databases with WAL and synchronous=FULL)")
        push_10k(folder, 2000 if quick else 10_000)
        pull_catalog(folder, 5000 if quick else 50_000)
        many_kiosks(folder, 40, 50 if quick else 250)


if __name__ == "__main__":
    main()
