"""Push: 10,000 loan records sent by `kiosk sync --once`, beside bare SQLite inserts of them.

    python bench/sync_push.py [--records N]

A door kiosk pulls the school's catalog (1,000 patrons, 5,000 books), then
lends, renews and takes back books offline until N records wait. Timed: the
kiosk's own sync command with the default config, from its start to its
exit: it pushes the records in batches of the default size through the
merge, then pulls the loans the merge made. Checked: every record held once
and acknowledged, and the kiosk holding the same loans as the central store.
Beside, in the same run: the same command with nothing to send (its fixed
cost: a Python start and two requests), and bare SQLite inserts of N rows
in batches of the same size. Target: 5 s or less.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sync_common import (baseline_inserts, central_store, kiosk_files, kiosk_loans, lend_and_return, school,
                         sync_once, synced, verdict)

from kiosk.config import CentralSection
from report import figure

TARGET = 5.0
PATRONS, ITEMS = 1_000, 5_000


def timed_sync(db_path: Path, config: Path) -> float:
    start = time.perf_counter()
    synced(sync_once(db_path, config), db_path)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    count = parser.parse_args().records
    batch = CentralSection().batch_size
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with central_store(folder, ["door"], prepare=school(PATRONS, ITEMS)) as central:
            db_path, config = kiosk_files(folder, "door", central.url, central.tokens["door"])
            first = timed_sync(db_path, config)
            idle = timed_sync(db_path, config)
            items = lend_and_return(db_path, "door", count, range(ITEMS), PATRONS, seed=1)
            seconds = timed_sync(db_path, config)
            held, acked = central.held(), central.acked()["door"]
            agree = kiosk_loans(db_path, items) == central.loans(items)
            loans = len(central.loans(items))
        if held != (count, count) or acked != count or not agree:
            raise SystemExit(f"held {held}, acknowledged {acked} of {count}; loans agree: {agree}")
        base = baseline_inserts(folder, count, batch, "push")
    print(f"kiosk sync --once pushing {count:,} loan records (batches of {batch}) and pulling {loans:,} loans back: "
          f"{seconds:.2f} s ({count / seconds:,.0f} records/s); target <= {TARGET:.0f} s: {verdict(seconds <= TARGET)}")
    print("  every record held once and acknowledged; the kiosk's loans are the central store's")
    print(f"  the same command with nothing to send: {idle:.2f} s; its first pull of the catalog: {first:.2f} s")
    print(f"  bare SQLite inserts of {count:,} rows, {batch} a transaction: {base:.3f} s; the push takes "
          f"{seconds / base:.0f} x as long")
    figure(f"kiosk sync --once: push {count:,} loan records", seconds, "s", baseline=base,
           baseline_is=f"bare SQLite inserts, {batch} a transaction", at_most=TARGET)


if __name__ == "__main__":
    main()
