"""Pull: a new kiosk's first `kiosk sync --once` with a 50,000-item catalog, beside bare SQLite inserts of it.

    python bench/sync_pull.py [--items N]

The kiosk's own sync command with the default config, timed from its start
to its exit: every page of changes applied with its cursor in one
transaction, as on a Pi. Checked: every item and its tag held. Target: 10 s
or less.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from sync_common import baseline_inserts, central_db, central_store, kiosk_files, sync_once, synced, verdict

from kiosk.domain.model import Item
from report import figure

TARGET = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    count = parser.parse_args().items
    catalog = [Item(id=f"B{n:06d}", title=f"Book number {n}", author="Author", call_number="F",
                    tag_uid=f"04{n:012X}", barcode=f"978{n:010d}", home="library") for n in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with central_store(folder, ["door"], prepare=lambda db: central_db.save_items(db, catalog)) as central:
            db_path, config = kiosk_files(folder, "door", central.url, central.tokens["door"])
            start = time.perf_counter()
            synced(sync_once(db_path, config), db_path)
            seconds = time.perf_counter() - start
        conn = sqlite3.connect(db_path)
        held = conn.execute("SELECT COUNT(*), COUNT(tag_uid) FROM items").fetchone()
        conn.close()
        if held != (count, count):
            raise SystemExit(f"the kiosk holds {held[0]} items, {held[1]} with tags, of {count}")
        base = baseline_inserts(folder, count, 1000, "pull")
    print(f"kiosk sync --once, first pull of a {count:,}-item catalog: {seconds:.2f} s ({count / seconds:,.0f} "
          f"items/s); target <= {TARGET:.0f} s: {verdict(seconds <= TARGET)}")
    print(f"  bare SQLite inserts of as many rows, 1,000 a transaction: {base:.3f} s; "
          f"the pull takes {seconds / base:.0f} x as long")
    figure(f"kiosk sync --once: first pull, {count:,} items", seconds, "s", baseline=base,
           baseline_is="bare SQLite inserts, 1,000 a transaction", at_most=TARGET)


if __name__ == "__main__":
    main()
