"""The librarian's log page at 1,000,000 records: p95 of a filtered page (target: 200 ms or less).

Beside a baseline measured in the same run: the newest 50 records with no
filter, straight from the log's time index.

Run: .venv/bin/python bench/pages_log.py [--records N]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sync.server import db as store  # noqa: E402

KINDS = ["checkout", "return", "renew", "refused", "not_on_loan", "unknown_tag", "inventory"]


def fill(db, records: int) -> None:
    rng = random.Random(1)
    patrons = [(f"S{n:05d}", f"Student {n}", "student", f"{1 + n % 6}{'ABCD'[n % 4]}") for n in range(1200)]
    with db.atomic():
        db.conn.executemany("INSERT INTO patrons (id, name, type, class_name, status, rev) VALUES (?, ?, ?, ?,"
                            " 'active', 0)", patrons)
        db.conn.executemany("INSERT INTO items (id, title, status, rev) VALUES (?, ?, 'available', 0)",
                            [(f"B{n:05d}", f"Book {n}") for n in range(20000)])
    start = datetime(2024, 9, 1, tzinfo=timezone.utc)
    kiosks = [f"cabinet-{n}" for n in range(12)] + ["door"]
    batch = []
    seqs = {k: 0 for k in kiosks}
    for n in range(records):
        kiosk = rng.choice(kiosks)
        seqs[kiosk] += 1
        at = (start + timedelta(seconds=n * 60)).isoformat(timespec="milliseconds")
        patron = rng.randrange(1200)
        batch.append((kiosk, seqs[kiosk], rng.choice(KINDS), at, at, 1, f"S{patron:05d}",
                      f"B{rng.randrange(20000):05d}", "{}", int(rng.random() < 0.01), patrons[patron][3]))
        if len(batch) == 50000:
            with db.atomic():
                db.conn.executemany("INSERT INTO log (kiosk_id, seq, kind, at, corrected_at, trusted, patron_id,"
                                    " item_id, details, flagged, class_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            batch = []
    if batch:
        with db.atomic():
            db.conn.executemany("INSERT INTO log (kiosk_id, seq, kind, at, corrected_at, trusted, patron_id,"
                                " item_id, details, flagged, class_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
    db.execute("ANALYZE")


def p95(samples):
    return statistics.quantiles(samples, n=20)[18]


def timed(fn, repeat=40):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    records = int(sys.argv[sys.argv.index("--records") + 1]) if "--records" in sys.argv else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        db = store.init_db(Path(tmp) / "central.db")
        t0 = time.perf_counter()
        fill(db, records)
        print(f"{records:,} log records written in {time.perf_counter() - t0:.1f} s")
        rng = random.Random(2)
        base = timed(lambda: list(db.query("SELECT * FROM log ORDER BY corrected_at DESC LIMIT 50")))
        print(f"  baseline: newest 50, no filter        p95 {p95(base) * 1000:7.2f} ms")
        filters = {
            "kind": lambda: {"kind": rng.choice(KINDS)},
            "kiosk": lambda: {"kiosk": f"cabinet-{rng.randrange(12)}"},
            "class": lambda: {"class": f"{1 + rng.randrange(6)}{'ABCD'[rng.randrange(4)]}"},
            "patron": lambda: {"patron": f"S{rng.randrange(1200):05d}"},
            "item": lambda: {"item": f"B{rng.randrange(20000):05d}"},
            "flagged": lambda: {"flagged": "1"},
            "date range + kind": lambda: {"since": "2025-03-01", "until": "2025-03-08", "kind": "checkout"},
        }
        for name, make in filters.items():
            samples = timed(lambda: store.browse_log(db, make()))
            print(f"  filter by {name:<22} p95 {p95(samples) * 1000:7.2f} ms   {p95(samples) / p95(base):6.1f} x "
                  f"baseline   target <= 200 ms")


if __name__ == "__main__":
    main()
