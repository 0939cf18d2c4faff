"""Push: 10,000 pending records pushed and acknowledged, beside bare SQLite inserts of them.

    python bench/sync_push.py [--records N]

The kiosk's sync client against `kiosk-central serve` on loopback, batches
of 1,000 (the most the central store takes). Target: 5 s or less.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sync_common import baseline_inserts, central_store, kiosk, store, verdict

TARGET = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    count = parser.parse_args().records
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with central_store(folder, ["door"]) as (url, central, tokens):
            db, client = kiosk(folder, url, "door", tokens["door"], count, batch=1000)
            start = time.perf_counter()
            acked = client.push()
            seconds = time.perf_counter() - start
            held = central.execute("SELECT COUNT(*), COUNT(DISTINCT seq) FROM log").fetchone()
        assert acked == count and store.pending_count(db) == 0 and held == (count, count), (acked, held)
        base = baseline_inserts(folder, count, 1000, "push")
    print(f"push {count:,} records, all acknowledged and held once: {seconds:.2f} s "
          f"({count / seconds:,.0f} records/s); target <= {TARGET:.0f} s: {verdict(seconds <= TARGET)}")
    print(f"  bare SQLite inserts of the same, 1,000 a transaction: {base:.3f} s; "
          f"the push takes {seconds / base:.0f} x as long")


if __name__ == "__main__":
    main()
