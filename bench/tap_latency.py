"""Tap latency: from a tap entering the kiosk to its record committed and its
effects issued, against a bare durable SQLite INSERT + COMMIT on the same
disk in the same run.

    python bench/tap_latency.py [--taps N] [--dir DIR]

Two databases with 50,000 items and 1,000 patrons: one with 500,000 log
records, one with 1,000. Targets: p99 ratio to the bare insert at most 2.0;
growth from the small log to the large one at most 1.2x.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hardware.fake import FakeLights, FakeLock, FakeSounder  # noqa: E402
from kiosk import store  # noqa: E402
from kiosk.app import Kiosk  # noqa: E402
from kiosk.clock import ScriptClock  # noqa: E402
from kiosk.config import Config  # noqa: E402

ITEMS, PATRONS = 50_000, 1_000
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def card(n: int) -> str:
    return f"{0x10000000 + n:08X}"


def tag(n: int) -> str:
    return f"04{n:012X}"


def build(path: Path, log_records: int) -> None:
    db = store.init_db(path, "bench")
    db["patrons"].insert_all(
        ({"id": f"S{n}", "name": f"Student {n}", "type": "student", "class_name": f"{n % 36}",
          "card_uid": card(n), "status": "active", "expires": None} for n in range(PATRONS)), batch_size=5000)
    db["items"].insert_all(
        ({"id": f"B{n}", "title": f"Book {n}", "author": "", "call_number": "", "tag_uid": tag(n),
          "barcode": f"97800{n:08d}", "home": "library", "status": "available"} for n in range(ITEMS)),
        batch_size=5000)
    details = json.dumps({"due": "2026-12-07"})
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO log(kiosk_id, seq, kind, at, trusted, boot_id, monotonic, patron_id, item_id, details,"
            " flagged) VALUES ('bench', ?, 'refused', '2026-11-01T00:00:00+00:00', 1, 'b', 0, ?, ?, ?, 0)",
            ((n + 1, f"S{n % PATRONS}", f"B{n % ITEMS}", details) for n in range(log_records)))
    db.conn.close()


def tap_latencies(path: Path, taps: int) -> list[float]:
    db = store.open_db(path)
    clock = ScriptClock(T0)
    kiosk = Kiosk(db, Config(), clock, lights=FakeLights(), sounder=FakeSounder(), lock=FakeLock())
    times = []
    n = 0
    for i in range(taps):
        # A card, then books: each book tap is a checkout (or a renewal /
        # refusal once the limit is reached), each writing one record.
        if i % 4 == 0:
            clock.advance(30)
            kiosk.tick(clock.now())
            kiosk.tap(card(n % PATRONS), clock.now())
            n += 1
        clock.advance(2.5)
        start = time.perf_counter()
        outcome = kiosk.tap(tag((i * 7919) % ITEMS), clock.now())
        times.append(time.perf_counter() - start)
        assert outcome["record"] is not None, outcome
    return times


def bare_inserts(path: Path, count: int) -> list[float]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)")
    times = []
    for i in range(count):
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute("INSERT INTO t(body) VALUES (?)", [json.dumps({"due": "2026-12-07", "n": i})])
        conn.execute("COMMIT")
        times.append(time.perf_counter() - start)
    conn.close()
    return times


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=400)
    parser.add_argument("--dir", default=None, help="where the databases go (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = Path(tmp)
        small, large = tmp / "small.db", tmp / "large.db"
        print(f"building: {ITEMS} items, {PATRONS} patrons; logs of 1,000 and 500,000 records", flush=True)
        build(small, 1_000)
        build(large, 500_000)
        # Interleave the runs so that a noisy neighbour hurts both alike.
        base, t_small, t_large = [], [], []
        for _ in range(4):
            base += bare_inserts(tmp / "bare.db", args.taps // 4)
            t_small += tap_latencies(small, args.taps // 4)
            t_large += tap_latencies(large, args.taps // 4)
    rows = [("bare INSERT+COMMIT", base), ("tap, 1,000 records", t_small), ("tap, 500,000 records", t_large)]
    print(f"{'':24} {'p50 ms':>8} {'p99 ms':>8}")
    for name, values in rows:
        print(f"{name:24} {pct(values, 50) * 1000:8.2f} {pct(values, 99) * 1000:8.2f}")
    ratio_small = pct(t_small, 99) / pct(base, 99)
    ratio_large = pct(t_large, 99) / pct(base, 99)
    growth = pct(t_large, 99) / pct(t_small, 99)
    print(f"p99 ratio to bare insert: {ratio_small:.2f} (1,000 records), {ratio_large:.2f} (500,000 records);"
          f" target <= 2.0")
    print(f"p50 ratio to bare insert: {pct(t_large, 50) / pct(base, 50):.2f} (500,000 records)")
    print(f"growth 1,000 -> 500,000 records: p99 {growth:.2f}x, p50 {pct(t_large, 50) / pct(t_small, 50):.2f}x;"
          f" target <= 1.2x")


if __name__ == "__main__":
    main()
