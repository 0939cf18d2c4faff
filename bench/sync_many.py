"""Many kiosks: 40 kiosks push at once, each with `kiosk sync --once`, beside bare SQLite inserts.

    python bench/sync_many.py [--kiosks 40] [--records 1000]

Forty cabinets (a school of 1,000 patrons, 250 books in each cabinet) pulled
the catalog, then lent, renewed and took back books offline until 1,000
records waited in each. Then every one runs the kiosk's sync command with
the default config (batches of 500 through the merge, then a pull). Their
first requests meet at a starting gate (bench/gate.py) that lets them reach
the central store at one moment, as when the school's network comes back.
The central store's log is counted every quarter second from that moment:
records/s overall, in the first second, and the lowest over any whole
second until the last record arrived. Checked: every record held once,
every kiosk acknowledged to its last record, each kiosk's loans the same as
the central store's. Target: at least 2,000 records/s in every second, the
first one included.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from gate import StartingGate
from sync_common import (baseline_inserts, central_store, clone, kiosk_files, kiosk_loans, lend_and_return, school,
                         sync_once, synced, verdict)

from kiosk.config import CentralSection
from report import figure

TARGET = 2000.0
PATRONS, SHELF = 1_000, 250
SAMPLE = 0.25  # seconds between counts of the central store's log


def push_at_once(folder: Path, central, ids: list[str], records: int) -> tuple[list[tuple[float, int]], StartingGate]:
    """Every kiosk's `kiosk sync --once` through the starting gate; the counts of the log from its opening."""
    template, template_config = kiosk_files(folder, "template", central.url, central.tokens["template"])
    synced(sync_once(template, template_config), template)
    with StartingGate(central.port, len(ids)) as gate:
        kiosks = {}
        for n, kiosk_id in enumerate(ids):
            db_path, config = kiosk_files(folder, kiosk_id, f"http://127.0.0.1:{gate.port}", central.tokens[kiosk_id])
            clone(template, db_path, kiosk_id)
            shelf = lend_and_return(db_path, kiosk_id, records, range(n * SHELF, (n + 1) * SHELF), PATRONS, seed=n)
            kiosks[kiosk_id] = (db_path, config, shelf)
        processes = {k: sync_once(db_path, config) for k, (db_path, config, _) in kiosks.items()}
        samples: list[tuple[float, int]] = []
        total = len(ids) * records
        while any(p.poll() is None for p in processes.values()) and (not samples or samples[-1][1] < total):
            time.sleep(SAMPLE)
            if gate.opened_at is not None:
                samples.append((time.monotonic() - gate.opened_at, central.count()))
        for kiosk_id, process in processes.items():
            synced(process, kiosks[kiosk_id][0])
    held, acked = central.held(), central.acked()
    if held != (total, total) or any(acked[k] != records for k in ids):
        raise SystemExit(f"held {held[0]} records, {held[1]} distinct, of {total}; acknowledged "
                         f"{sum(acked[k] for k in ids)}")
    disagree = [k for k, (db_path, _, shelf) in kiosks.items() if kiosk_loans(db_path, shelf) != central.loans(shelf)]
    if disagree:
        raise SystemExit(f"the loans of {', '.join(disagree)} differ from the central store's")
    return samples, gate


def seconds_of(samples: list[tuple[float, int]]) -> list[float]:
    """Records/s over every whole second from the gate's opening (t = 0) until the last record arrived."""
    points = [(0.0, 0)] + samples
    end = next(t for t, count in points if count == points[-1][1])

    def count_at(moment: float) -> float:
        for (t1, c1), (t2, c2) in zip(points, points[1:]):
            if t1 <= moment <= t2:
                return c1 + (c2 - c1) * (moment - t1) / (t2 - t1)
        return points[-1][1]

    return [count_at(s + 1) - count_at(s) for s in range(int(end))] or [points[-1][1] / end]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=40)
    parser.add_argument("--records", type=int, default=1000, help="pending records per kiosk")
    args = parser.parse_args()
    ids = [f"cabinet-{n:02d}" for n in range(args.kiosks)]
    total = args.kiosks * args.records
    batch = CentralSection().batch_size
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with central_store(folder, ids + ["template"], prepare=school(PATRONS, args.kiosks * SHELF)) as central:
            samples, gate = push_at_once(folder, central, ids, args.records)
        base = total / baseline_inserts(folder, total, batch, "many")
    end = next(t for t, count in samples if count == total)
    per_second = seconds_of(samples)
    lowest, first = min(per_second), per_second[0]
    print(f"{args.kiosks} kiosks x {args.records:,} loan records, kiosk sync --once each (batches of {batch}): "
          f"{total:,} held, none lost, none twice, every kiosk's loans the central store's")
    print(f"  the gate let {gate.together} of {args.kiosks} go at once after holding the first "
          f"{gate.opened_at - gate.first_at:.1f} s; {gate.connections} connections in all")
    print(f"  {total / end:,.0f} records/s overall ({end:.2f} s); first second {first:,.0f}; lowest second "
          f"{lowest:,.0f}; target >= {TARGET:,.0f} in every second: {verdict(lowest >= TARGET)}")
    print("  second by second: " + " ".join(f"{r:,.0f}" for r in per_second))
    print(f"  bare SQLite inserts of the same, {batch} a transaction: {base:,.0f} records/s")
    for name, value in ((f"{args.kiosks} kiosks at once: lowest second", lowest),
                        (f"{args.kiosks} kiosks at once: first second", first),
                        (f"{args.kiosks} kiosks at once: overall", total / end)):
        figure(name, value, "records/s", baseline=base, baseline_is=f"bare SQLite inserts, {batch} a transaction",
               at_least=TARGET)


if __name__ == "__main__":
    main()
