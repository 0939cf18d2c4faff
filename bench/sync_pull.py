"""Pull: a new kiosk's first pull of a 50,000-item catalog, beside bare SQLite inserts of it.

    python bench/sync_pull.py [--items N]

Every page applied with its cursor in one transaction, as the kiosk does.
Target: 10 s or less.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sync_common import baseline_inserts, central_store, central_db, kiosk, verdict

from kiosk.domain.model import Item

TARGET = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    count = parser.parse_args().items
    catalog = [Item(id=f"B{n:06d}", title=f"Book number {n}", author="Author", call_number="F",
                    tag_uid=f"04{n:012X}", barcode=f"978{n:010d}", home="library") for n in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with central_store(folder, ["door"], prepare=lambda db: central_db.save_items(db, catalog)) as (
                url, _, tokens):
            db, client = kiosk(folder, url, "door", tokens["door"], 0)
            start = time.perf_counter()
            client.pull()
            seconds = time.perf_counter() - start
        held = db.execute("SELECT COUNT(*), COUNT(tag_uid) FROM items").fetchone()
        assert held == (count, count), held
        base = baseline_inserts(folder, count, 1000, "pull")
    print(f"first pull of a {count:,}-item catalog: {seconds:.2f} s ({count / seconds:,.0f} items/s); "
          f"target <= {TARGET:.0f} s: {verdict(seconds <= TARGET)}")
    print(f"  bare SQLite inserts of as many rows, 1,000 a transaction: {base:.3f} s; "
          f"the pull takes {seconds / base:.0f} x as long")


if __name__ == "__main__":
    main()
