"""Tap latency with a clock the kiosk cannot trust, at 500,000 records, against a bare durable INSERT + COMMIT
measured in the same run.

    python bench/tap_untrusted.py [--taps N] [--dir DIR]

The kiosk stayed offline without a clock: every record after the first is
untrusted, so each tap needs the floor (the last trusted time). Walking the
log back to find it cost 36-94 ms per tap at 500,000 records; kept in O(1)
(docs/design.md), an untrusted tap should cost what a trusted one does.
Target: p99 ratio to the bare insert at most 2.0.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hardware.fake import FakeLights, FakeLock, FakeSounder  # noqa: E402
from kiosk import store  # noqa: E402
from report import bare_inserts, figure, pct  # noqa: E402
from kiosk.app import Kiosk  # noqa: E402
from kiosk.clock import ScriptClock  # noqa: E402
from kiosk.config import Config  # noqa: E402

ITEMS, PATRONS, RECORDS = 50_000, 1_000, 500_000
FLOOR = "2026-11-01T00:00:00.000+00:00"


def catalog(path: Path):
    """A new kiosk database with PATRONS students (cards 10000000 on) and ITEMS books (tags 04000000000000 on)."""
    db = store.init_db(path, "bench")
    db["patrons"].insert_all(
        ({"id": f"S{n}", "name": f"Student {n}", "type": "student", "class_name": f"{n % 36}",
          "card_uid": f"{0x10000000 + n:08X}", "status": "active", "expires": None} for n in range(PATRONS)),
        batch_size=5000)
    db["items"].insert_all(
        ({"id": f"B{n}", "title": f"Book {n}", "author": "", "call_number": "", "tag_uid": f"04{n:012X}",
          "barcode": f"97800{n:08d}", "home": "library", "status": "available"} for n in range(ITEMS)),
        batch_size=5000)
    return db


def build(path: Path) -> None:
    """The catalog, and a log whose only trusted record is the first, as the kiosk itself leaves it."""
    db = catalog(path)
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO log(kiosk_id, seq, kind, at, trusted, boot_id, monotonic, patron_id, item_id, details,"
            " flagged) VALUES ('bench', ?, 'refused', ?, ?, 'b', 0, ?, ?, '{}', 0)",
            ((n + 1, FLOOR, int(n == 0), f"S{n % PATRONS}", f"B{n % ITEMS}") for n in range(RECORDS)))
        store.keep_floor(db, "bench", FLOOR, RECORDS)  # what each untrusted append keeps beside its record
    db.conn.close()


def untrusted_taps(path: Path, taps: int, first: int) -> list[float]:
    """Tap latencies with the clock untrusted; taps number `first` on, so no run lends a book twice."""
    db = store.open_db(path, check=False)
    clock = ScriptClock()
    clock.set(datetime(1970, 1, 1, tzinfo=timezone.utc), trusted=False)  # booted with no clock, no network
    kiosk = Kiosk(db, Config(), clock, lights=FakeLights(), sounder=FakeSounder(), lock=FakeLock())
    times = []
    for i in range(first, first + taps):
        if i % 4 == 0:  # a card, then books: each book tap writes one record
            clock.advance(30)
            kiosk.tick(kiosk.now())
            kiosk.tap(f"{0x10000000 + i // 4 % PATRONS:08X}", kiosk.now())
        clock.advance(2.5)
        start = time.perf_counter()
        outcome = kiosk.tap(f"04{(i * 7919) % ITEMS:012X}", kiosk.now())
        times.append(time.perf_counter() - start)
        assert outcome["record"] is not None and (outcome["due"] or "2026-11-15") >= "2026-11-15", outcome
    db.conn.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=400)
    parser.add_argument("--dir", default=None, help="where the databases go (default: a temporary folder)")
    parser.add_argument("--records", type=int, default=RECORDS, help="log records before the taps")
    args = parser.parse_args()
    globals()["RECORDS"] = args.records
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = Path(tmp)
        print(f"building: {ITEMS} items, {PATRONS} patrons, {RECORDS} records (all untrusted but the first)",
              flush=True)
        build(tmp / "kiosk.db")
        base, taps = [], []
        for run in range(4):  # interleaved, so that a noisy neighbour hurts both alike
            base += bare_inserts(tmp / "bare.db", args.taps // 4)
            taps += untrusted_taps(tmp / "kiosk.db", args.taps // 4, run * (args.taps // 4))
    print(f"{'':34} {'p50 ms':>8} {'p99 ms':>8}")
    for name, values in (("bare INSERT+COMMIT", base), ("tap, untrusted clock, 500,000 rec.", taps)):
        print(f"{name:34} {pct(values, 50) * 1000:8.2f} {pct(values, 99) * 1000:8.2f}")
    print(f"ratio to the bare insert: p50 {pct(taps, 50) / pct(base, 50):.2f}, p99 {pct(taps, 99) / pct(base, 99):.2f};"
          " target p99 <= 2.0 (a backward walk of the log: 36-94 ms a tap)")
    figure(f"tap p99, untrusted clock, {RECORDS:,} records", pct(taps, 99) * 1000, "ms",
           baseline=pct(base, 99) * 1000, baseline_is="bare durable INSERT+COMMIT", ratio_at_most=2.0)


if __name__ == "__main__":
    main()
