"""The stocktake report of a 50,000-book library after 20,000 inventory taps, over HTTP: p95 (goal: under 500 ms).

The central store runs as `kiosk-central serve` in its own process. Its
data came in as a school's would: the catalog saved, 3,000 loans and 20,000
counts on the shelves pushed as kiosk records through the merge (some books
on loan found on the shelf, some misplaced, some withdrawn, some counted at
a class's cabinet). Timed, logged in over HTTP: the stocktake page and its
CSV for the library (30,000 books, most of the taps) and for one class's
corner. Baseline in the same run: the same rows read straight from SQLite
(the statements the report runs, without working anything out), and an HTTP
round trip to the health endpoint. Beside each wall-clock figure, the
central store's own CPU time per request, which a busy machine inflates less
than the time a request waits.

Run: .venv/bin/python bench/stocktake.py [--books N] [--taps N]
"""

from __future__ import annotations

import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402
from idle_cpu import cpu_seconds  # noqa: E402  (the same measure as the other benches)
from sync_common import central_store, verdict  # noqa: E402

from kiosk.domain.model import Item, Patron  # noqa: E402
from sync.server import db as store  # noqa: E402
from sync.server.auth import hash_password  # noqa: E402
from report import figure  # noqa: E402

DAY = "2026-11-23"
CLASSES = [f"class-{grade}{letter}" for grade in range(1, 10) for letter in "abcd"]  # 36 corners
GOAL_MS = 500
PASSWORD = "bench password"


def catalog(books: int) -> list[Item]:
    """60 % of the books in the library, the rest in the class corners; a few withdrawn or lost."""
    rng = random.Random(1)
    items = []
    for n in range(books):
        home = "library" if n < books * 0.6 else CLASSES[n % len(CLASSES)]
        status = "withdrawn" if n % 97 == 0 else ("lost" if n % 211 == 0 else "available")
        items.append(Item(f"B{n:06d}", f"Book {n}", call_number=f"{rng.randrange(100, 999)} {chr(65 + n % 26)}",
                          tag_uid=f"04{n:012X}", home=home, status=status))
    return items


def push_all(db, kiosk_id: str, records: list[dict]) -> None:
    """Records pushed as a kiosk pushes them, 1,000 a batch, through the merge, after the kiosk's last."""
    stamp = {"trusted": True, "boot_id": "bench", "monotonic": 1.0}
    last = db.execute("SELECT COALESCE(MAX(seq), 0) FROM log WHERE kiosk_id = ?", [kiosk_id]).fetchone()[0]
    for first in range(0, len(records), 1000):
        batch = [dict(r, seq=last + first + i + 1, **stamp) for i, r in enumerate(records[first:first + 1000])]
        store.push(db, kiosk_id, {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "bench",
                                  "monotonic": 2.0, "records": batch})


def fill(db, books: int, taps: int) -> None:
    rng = random.Random(2)
    items = catalog(books)
    library = [i for i in items if i.home == "library"]
    store.save_patrons(db, [Patron(f"S{n:04d}", f"Student {n}", class_name=CLASSES[n % 36][6:].upper())
                            for n in range(800)])
    store.save_items(db, items)
    for home in CLASSES:
        store.set_home(db, "bench", home, f"Class {home[6:].upper()}", home[6:].upper())
    store.set_librarian(db, "wu", hash_password(PASSWORD))
    lent = rng.sample([i for i in items if i.status == "available"], 3000)
    push_all(db, "door", [{"kind": "checkout", "at": f"2026-11-{2 + n % 15:02d}T01:00:00+00:00",
                           "patron_id": f"S{n % 800:04d}", "item_id": i.id, "details": {"due": "2026-12-20"}}
                          for n, i in enumerate(lent)])
    on_loan = {i.id for i in lent}
    at_door = int(taps * 0.9)
    seen = rng.sample(library, min(at_door - 800, len(library)))  # most of the library's shelves
    seen += rng.sample([i for i in items if i.home != "library"], 500)  # class books at the door: misplaced
    seen += rng.sample([i for i in lent if i.home == "library"], 300)  # on loan, yet on the shelf
    counts = [{"kind": "inventory", "at": f"{DAY}T{1 + n // 3600 % 8:02d}:{n // 60 % 60:02d}:{n % 60:02d}+00:00",
               "patron_id": "V0001", "item_id": i.id,
               "details": {"shelf": "library", "home": i.home, "status": i.status, "on_loan": i.id in on_loan}}
              for n, i in enumerate(seen[:at_door])]
    push_all(db, "door", counts)
    corner = [i for i in items if i.home != "library"] + rng.sample(library, 200)  # some library books in corners
    push_all(db, "cabinet-1a", [{"kind": "inventory", "at": f"{DAY}T09:{n // 60 % 60:02d}:{n % 60:02d}+00:00",
                                 "patron_id": "V0001", "item_id": i.id,
                                 "details": {"shelf": i.home if i.home != "library" else "class-1a", "home": i.home,
                                             "status": i.status, "on_loan": False}}
                                for n, i in enumerate(rng.sample(corner, taps - at_door))])


def p(samples, q):
    return statistics.quantiles(samples, n=100)[q - 1] * 1000


def server_pid(db_path: Path) -> int:
    """The `kiosk-central serve` process of `db_path` (started by `sync_common.central_store`)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_text()
        except OSError:
            continue
        if str(db_path) in cmdline and "serve" in cmdline:
            return int(proc.name)
    raise SystemExit("the central store's process is not to be found")


def bare_reads(db, home: str) -> None:
    """The report's statements, their rows fetched and nothing worked out."""
    db.execute("SELECT kiosk_id, seq FROM merge_flags WHERE reason = 'seen_in_stocktake'").fetchall()
    db.execute("SELECT kiosk_id, seq, item_id, shelf, corrected_at, on_loan, unavailable FROM shelf_counts"
               " WHERE corrected_at >= ?", [DAY]).fetchall()
    db.execute("SELECT item_id FROM loans").fetchall()
    db.execute("SELECT id, title, call_number, home, status FROM items WHERE home = ? ORDER BY call_number, id",
               [home]).fetchall()


def login(url: str) -> requests.Session:
    session = requests.Session()
    form = session.get(url + "/login", timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    answer = session.post(url + "/login", data={"name": "wu", "password": PASSWORD, "csrf": csrf}, timeout=10,
                          allow_redirects=False)
    assert answer.status_code == 303, answer.text
    return session


def timed(fn, repeat: int = 40) -> list[float]:
    """`repeat` timings of `fn`, in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    books = int(sys.argv[sys.argv.index("--books") + 1]) if "--books" in sys.argv else 50_000
    taps = int(sys.argv[sys.argv.index("--taps") + 1]) if "--taps" in sys.argv else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with central_store(Path(tmp), ["door", "cabinet-1a"], prepare=lambda db: fill(db, books, taps)) as central:
            url, db = central.url, central.db
            print(f"{books:,} books, 3,000 loans and {taps:,} inventory taps pushed in {time.perf_counter() - t0:.1f} s")
            session = login(url)

            def get(path, **params):
                answer = session.get(url + path, params=params, timeout=30)
                assert answer.status_code == 200, (path, answer.status_code)
                return answer

            counted = db.execute("SELECT COUNT(*) FROM shelf_counts WHERE corrected_at >= ?", [DAY]).fetchone()[0]
            states = store.stocktake_lists(db, "library", DAY, 0)[0]
            print(f"  the library's stocktake: {counted:,} counts since {DAY}; " +
                  ", ".join(f"{k} {v:,}" for k, v in states.items()))
            bare = timed(lambda: bare_reads(db, "library"), 40)
            health = timed(lambda: get("/api/v1/health"), 40)
            print(f"  baseline: the report's reads straight from SQLite  p95 {p(bare, 95):7.1f} ms")
            print(f"  baseline: HTTP round trip (health)                 p95 {p(health, 95):7.1f} ms")
            figures = {
                "stocktake page, library": lambda: get("/stocktake", home="library", since=DAY),
                "stocktake CSV, library": lambda: get("/stocktake.csv", home="library", since=DAY),
                "stocktake page, one corner": lambda: get("/stocktake", home="class-3b", since=DAY),
            }
            pid = server_pid(Path(tmp) / "central.db")
            for name, fetch in figures.items():
                fetch()  # warm: the first request opens the worker's connection
                cpu = cpu_seconds(pid)
                samples = timed(fetch, 40)
                cpu = (cpu_seconds(pid) - cpu) / 40 * 1000
                print(f"  {name:<27} p50 {p(samples, 50):6.1f} ms  p95 {p(samples, 95):6.1f} ms "
                      f"({p(samples, 95) / p(bare, 95):4.1f} x bare reads; server CPU {cpu:5.1f} ms a request)"
                      f"  goal p95 < {GOAL_MS} ms: {verdict(p(samples, 95) < GOAL_MS)}")
                figure(f"{name} p95", p(samples, 95), "ms", baseline=p(bare, 95),
                       baseline_is="the report's reads straight from SQLite", at_most=GOAL_MS)
            print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
