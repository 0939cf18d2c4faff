"""What a tap waits while the sync process applies pages of changes, in chunks against one page per
transaction, beside a bare durable INSERT + COMMIT measured in the same run.

    python bench/sync_tap_wait.py [--taps N] [--pages N] [--dir DIR]

The sync process (its own process, as on a Pi) applies pages of 1,000
changed books to a kiosk database of 50,000 books while the kiosk taps.
Target: a tap waits at most ~50 ms (the worst tap), with pages applied in
chunks of `kiosk.store.CHUNK` rows and the write lock left free for
about as long as the chunk held it (`sync.client.CHUNK_PAUSE`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tap_untrusted import ITEMS, PATRONS, catalog  # noqa: E402  (the same kiosk)
from hardware.fake import FakeLights, FakeLock, FakeSounder  # noqa: E402
from kiosk import store  # noqa: E402
from kiosk.app import Kiosk  # noqa: E402
from kiosk.clock import ScriptClock  # noqa: E402
from kiosk.config import Config  # noqa: E402
from sync.client import CHUNK_PAUSE  # noqa: E402
from report import bare_inserts, figure, pct  # noqa: E402

PAGE = 1_000
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8)))

SYNC_PROCESS = """
import sys
from kiosk import store
from sync.client import apply_paced
db = store.open_db(sys.argv[1], check=False)
chunk, pages = int(sys.argv[2]), int(sys.argv[4])
pause = tuple(float(v) for v in sys.argv[3].split(","))
print("ready", flush=True)
for n in range(pages):
    first = (n * %(page)d) %% %(items)d
    page = {"cursor": str(n + 1),
            "items": [{"id": f"B{i}", "title": f"Book {i}, page {n}", "author": "", "call_number": "",
                       "tag_uid": f"04{i:012X}", "barcode": None, "home": "library", "status": "available"}
                      for i in range(first, first + %(page)d)]}
    apply_paced(db, "bench", page, chunk, pause)
""" % {"page": PAGE, "items": ITEMS}


def taps_beside_a_pull(path: Path, chunk: int, pause: tuple, pages: int, taps: int, first: int) -> list[float]:
    """Tap latencies while a sync process applies `pages` pages in chunks of `chunk` rows, `pause` apart.

    The kiosk lends books from number `first` on, so that each run lends books no run has lent.
    """
    sync = subprocess.Popen([sys.executable, "-c", SYNC_PROCESS, str(path), str(chunk), ",".join(map(str, pause)),
                             str(pages)],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert sync.stdout.readline().strip() == "ready"
    db = store.open_db(path, check=False)
    clock = ScriptClock(T0)
    kiosk = Kiosk(db, Config(), clock, lights=FakeLights(), sounder=FakeSounder(), lock=FakeLock())
    times = []
    for i in range(taps):
        if sync.poll() is not None:
            break
        if i % 4 == 0:
            clock.advance(30)
            kiosk.tick(clock.now())
            kiosk.tap(f"{0x10000000 + (first + i // 4) % PATRONS:08X}", clock.now())
        clock.advance(2.5)
        start = time.perf_counter()
        outcome = kiosk.tap(f"04{(first + i * 7919) % ITEMS:012X}", clock.now())
        times.append(time.perf_counter() - start)
        assert outcome["record"] is not None, outcome
        time.sleep(0.01)  # taps come one by one, the sync process works on between them
    sync.wait()
    db.conn.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=300)
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--dir", default=None, help="where the databases go (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = Path(tmp)
        print(f"building: {ITEMS} books, {PATRONS} patrons; pages of {PAGE} changed books", flush=True)
        catalog(tmp / "kiosk.db").conn.close()
        base = bare_inserts(tmp / "bare.db", args.taps)
        chunked = taps_beside_a_pull(tmp / "kiosk.db", store.CHUNK, CHUNK_PAUSE, args.pages, args.taps, 0)
        whole = taps_beside_a_pull(tmp / "kiosk.db", PAGE, (0.0, 0.0), args.pages, args.taps, ITEMS // 2)
    print(f"{'':38} {'taps':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in (("bare INSERT+COMMIT", base), (f"tap, pages in chunks of {store.CHUNK}, paced", chunked),
                         (f"tap, one transaction a page ({PAGE})", whole)):
        print(f"{name:38} {len(values):5} {pct(values, 50) * 1000:8.2f} {pct(values, 99) * 1000:8.2f}"
              f" {max(values) * 1000:8.2f}")
    print(f"worst tap beside a pull in chunks: {max(chunked) * 1000:.1f} ms (target ~50 ms); "
          f"{max(chunked) / max(base):.1f}x the worst bare insert")
    figure("worst tap beside a pull in chunks", max(chunked) * 1000, "ms", baseline=max(base) * 1000,
           baseline_is="worst bare INSERT+COMMIT", at_most=50)


if __name__ == "__main__":
    main()
