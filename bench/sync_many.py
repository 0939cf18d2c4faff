"""Many kiosks: 40 kiosks push at once, each with `kiosk sync --once`, beside bare SQLite inserts.

    python bench/sync_many.py [--kiosks 40] [--records 1000]

Forty cabinets (a school of 1,000 patrons, 250 books in each cabinet) pulled
the catalog, then lent, renewed and took back books offline until 1,000
records waited in each. Then all of them run the kiosk's sync command at one
moment (bench/fleet.py), with the default config: batches of 500 through the
merge, then a pull. The central store's log is counted every quarter second
from that moment: records/s overall, in the first second, and the lowest
over any whole second until the last record arrived. A kiosk whose round
failed (a timeout, say) runs the command again, as its service would at its
next round, and is counted. Checked: every record held once, every kiosk
acknowledged to its last record, each kiosk's loans the same as the central
store's. Target: at least 2,000 records/s in every second, the first one
included.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sync_common import (ROOT, baseline_inserts, central_store, clone, kiosk_files, kiosk_loans, lend_and_return,
                         school, sync_once, synced, tail, verdict)

from kiosk.config import CentralSection
from report import figure

TARGET = 2000.0
PATRONS, SHELF = 1_000, 250
SAMPLE = 0.25  # seconds between counts of the central store's log


def push_at_once(folder: Path, central, ids: list[str], records: int) -> tuple[list[tuple[float, int]], list[str]]:
    """Every kiosk's `kiosk sync --once` at one moment; the counts of the log from then, the kiosks that failed."""
    template, template_config = kiosk_files(folder, "template", central.url, central.tokens["template"])
    synced(sync_once(template, template_config), template)
    kiosks = {}
    for n, kiosk_id in enumerate(ids):
        db_path, config = kiosk_files(folder, kiosk_id, central.url, central.tokens[kiosk_id])
        clone(template, db_path, kiosk_id)
        shelf = lend_and_return(db_path, kiosk_id, records, range(n * SHELF, (n + 1) * SHELF), PATRONS, seed=n)
        kiosks[kiosk_id] = (db_path, config, shelf)
    fleet = subprocess.Popen([sys.executable, str(Path(__file__).parent / "fleet.py")]
                             + [str(f) for db_path, config, _ in kiosks.values() for f in (db_path, config)],
                             cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    if fleet.stdout.readline().strip() != "ready":
        raise SystemExit("the kiosks' launcher did not start")
    total = len(ids) * records
    start = time.monotonic()
    fleet.stdin.write("go\n")
    fleet.stdin.flush()
    samples: list[tuple[float, int]] = []
    while fleet.poll() is None and (not samples or samples[-1][1] < total):
        time.sleep(SAMPLE)
        samples.append((time.monotonic() - start, central.count()))
    statuses = json.loads(fleet.stdout.readline())
    fleet.wait()
    failed = [k for k, status in zip(kiosks, statuses) if status != 0]
    for kiosk_id in failed:
        print(f"  {kiosk_id}'s round failed: {tail(kiosks[kiosk_id][0].with_suffix('.out'), 1)}")
        synced(sync_once(*kiosks[kiosk_id][:2]), kiosks[kiosk_id][0])
    held, acked = central.held(), central.acked()
    if held != (total, total) or any(acked[k] != records for k in ids):
        raise SystemExit(f"held {held[0]} records, {held[1]} distinct, of {total}; acknowledged "
                         f"{sum(acked[k] for k in ids)}")
    disagree = [k for k, (db_path, _, shelf) in kiosks.items() if kiosk_loans(db_path, shelf) != central.loans(shelf)]
    if disagree:
        raise SystemExit(f"the loans of {', '.join(disagree)} differ from the central store's")
    return samples, failed


def seconds_of(samples: list[tuple[float, int]]) -> list[float]:
    """Records/s over every whole second from the kiosks' start (t = 0) until the last record arrived."""
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
            samples, failed = push_at_once(folder, central, ids, args.records)
        base = total / baseline_inserts(folder, total, batch, "many")
    end = next((t for t, count in samples if count == total), samples[-1][0])
    per_second = seconds_of(samples)
    lowest, first = min(per_second), per_second[0]
    print(f"{args.kiosks} kiosks x {args.records:,} loan records, kiosk sync --once each (batches of {batch}): "
          f"{total:,} held, none lost, none twice, every kiosk's loans the central store's")
    print(f"  {len(failed)} of {args.kiosks} kiosks failed their round at once and needed another")
    print(f"  {samples[-1][1] / end:,.0f} records/s overall ({end:.2f} s); first second {first:,.0f}; lowest second "
          f"{lowest:,.0f}; target >= {TARGET:,.0f} in every second: {verdict(lowest >= TARGET)}")
    print("  second by second: " + " ".join(f"{r:,.0f}" for r in per_second))
    print(f"  bare SQLite inserts of the same, {batch} a transaction: {base:,.0f} records/s")
    for name, value in ((f"{args.kiosks} kiosks at once: lowest second", lowest),
                        (f"{args.kiosks} kiosks at once: first second", first),
                        (f"{args.kiosks} kiosks at once: overall", samples[-1][1] / end)):
        figure(name, value, "records/s", baseline=base, baseline_is=f"bare SQLite inserts, {batch} a transaction",
               at_least=TARGET)


if __name__ == "__main__":
    main()
