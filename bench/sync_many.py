"""Many kiosks: 40 kiosks pushing at once, beside bare SQLite inserts of the same records.

    python bench/sync_many.py [--kiosks 40] [--records 1000] [--batch 100]

Each kiosk is a sync client in its own thread with its own database and
connection, sending small batches as a kiosk that syncs often does; the
central store is `kiosk-central serve` in its own process. The rate is
sampled every half second from the central store's log: "sustained" is the
lowest rate over any whole second of the run, not the average. Afterwards
every record is checked: none lost, none twice. Target: at least 2,000
records/s sustained.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from sync_common import baseline_inserts, central_store, kiosk, store, verdict

TARGET = 2000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=40)
    parser.add_argument("--records", type=int, default=1000, help="pending records per kiosk")
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    ids = [f"cabinet-{n:02d}" for n in range(args.kiosks)]
    total = args.kiosks * args.records
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with central_store(folder, ids) as (url, central, tokens):
            ready, acked, failed = threading.Barrier(args.kiosks + 1), {}, []

            def run(kiosk_id: str) -> None:
                db, client = kiosk(folder, url, kiosk_id, tokens[kiosk_id], args.records, batch=args.batch)
                ready.wait()
                try:
                    acked[kiosk_id] = client.push()
                    assert store.pending_count(db) == 0
                except Exception as exc:  # reported below, not hidden in a thread
                    failed.append(f"{kiosk_id}: {exc}")

            threads = [threading.Thread(target=run, args=(k,)) for k in ids]
            for t in threads:
                t.start()
            ready.wait()
            start = time.perf_counter()
            samples = [(0.0, 0)]
            while any(t.is_alive() for t in threads):
                time.sleep(0.5)
                samples.append((time.perf_counter() - start,
                                central.execute("SELECT COUNT(*) FROM log").fetchone()[0]))
            for t in threads:
                t.join()
            seconds = time.perf_counter() - start
            held = central.execute("SELECT COUNT(*), COUNT(DISTINCT kiosk_id || '/' || seq) FROM log").fetchone()
            per_kiosk = dict(central.execute("SELECT id, acked_seq FROM kiosks").fetchall())
        base = baseline_inserts(folder, total, args.batch, "many")
    assert not failed, failed
    assert held == (total, total), f"held {held[0]} records, {held[1]} distinct, of {total}"
    assert all(per_kiosk[k] == args.records and acked[k] == args.records for k in ids)
    # The lowest rate over any whole second, from the half-second samples.
    windows = [(c2 - c1) / (t2 - t1) for (t1, c1) in samples for (t2, c2) in samples if 1.0 <= t2 - t1 < 1.6]
    sustained = min(windows) if windows else total / seconds
    print(f"{args.kiosks} kiosks x {args.records:,} records, batches of {args.batch}, pushed at once: "
          f"{total:,} held, none lost, none twice")
    print(f"  {total / seconds:,.0f} records/s on average over {seconds:.2f} s; lowest over any second "
          f"{sustained:,.0f} records/s; target >= {TARGET:,.0f} sustained: {verdict(sustained >= TARGET)}")
    print(f"  bare SQLite inserts of the same, {args.batch} a transaction: {total / base:,.0f} records/s "
          f"({base:.3f} s); the kiosks' pushes run at {seconds / base:.0f} x its time")


if __name__ == "__main__":
    main()
