"""A district's store: 200 kiosks pushing at once on PostgreSQL and on SQLite, and the log page at 5M records.

    python bench/district.py [--kiosks 200] [--records 500] [--workers 2] [--log-records 5000000] [--repeat 40]

Part one, both backends in one run. A store with one school of 200 cabinets
(1,000 patrons, 250 books in each cabinet): every cabinet pulled the
catalog, then lent, renewed and took back books offline until 500 records
waited; then all of them run `kiosk sync --once` at one moment
(bench/fleet.py, the default config: their 500 records in one batch through
the merge, then a pull). Once into a SQLite store (`kiosk-central serve`:
one process, one writer at a time) and once into a PostgreSQL store on a
throwaway cluster that keeps PostgreSQL's default durability, fsync and
synchronous commit (`kiosk-central serve --workers N`). A kiosk whose
round failed (the store answered 503, say) runs it again at once, on its
own. Counted from the first record that arrived to the last: records/s
overall and in the worst whole second. The kiosks that pushed go on to
pull the others' changes meanwhile (each of 200 kiosks takes in the loans
of all 200, many minutes on this one machine): they are stopped once the
store holds and acknowledged every record. The kiosks run at the lowest
CPU priority (nice 19): on a school's network each is its own Pi, and
here 200 of them would otherwise take the store's CPU. Checked on both:
every record held once, every kiosk acknowledged to its last record, every
kiosk's loans the store's. Goal: PostgreSQL at least 2 x SQLite's rate.

Part two: the librarian's log page in a PostgreSQL store of 5,000,000
records, the requests of bench/pages_log.py over HTTP and logged in (single
and combined filters, deep pages), p95 each against the newest 50 with no
filter in the same run. Target: 200 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import tempfile
import time
from pathlib import Path

from sync_common import baseline_inserts, central_db, central_store, school
from sync_many import PATRONS, SAMPLE, SHELF, check, fleet_ready, per_second, prepare_kiosks

import pages_log
from report import figure
from sync.server.auth import hash_password
from tests.postgres import Cluster

GOAL = 2.0  # PostgreSQL's rate over SQLite's
MAX_ROUNDS = 1000  # a kiosk's rounds at most; they are stopped once the store holds every record


def at_once(central, kiosks: dict, records: int) -> list[tuple[float, int]]:
    """Every kiosk's `kiosk sync --once` at one moment; a kiosk whose round failed (the store answered 503, say)
    runs it again at once on its own, as its service would at its next round. Samples of (seconds, records
    held) from the start until the store held and acknowledged every record; then the kiosks are stopped
    (SIGKILL: what a kiosk showed as stored is on its disk) in their pulls of the others' changes, which on
    this one machine would go on for many minutes (each of 200 kiosks takes in the loans of all 200)."""
    total = len(kiosks) * records
    fleet = fleet_ready(kiosks, rounds=MAX_ROUNDS, nice=19)
    fleet.stdin.write("go\n")
    fleet.stdin.flush()
    start, samples = time.monotonic(), []

    def all_held() -> bool:
        samples.append((time.monotonic() - start, central.count()))
        return samples[-1][1] == total and all(central.acked()[k] == records for k in kiosks)

    try:
        while not all_held():
            if fleet.poll() is not None and not all_held():
                raise SystemExit(f"the kiosks' launcher ended with {central.count()} of {total} records held")
            time.sleep(SAMPLE)
    finally:
        with contextlib.suppress(ProcessLookupError):  # every kiosk may have ended already
            os.killpg(fleet.pid, signal.SIGKILL)
        fleet.wait()
    check(central, kiosks, records)
    return samples


def burst(folder: Path, location: str, options: tuple[str, ...], kiosks: int, records: int) -> dict:
    """Every kiosk's sync at one moment into the store at `location`; its rates, counted and checked."""
    folder.mkdir()
    ids = [f"cabinet-{n:03d}" for n in range(kiosks)]
    with central_store(folder, ids + ["template"], prepare=school(PATRONS, kiosks * SHELF), location=location,
                       options=options) as central:
        started = time.perf_counter()
        kiosks_ready = prepare_kiosks(folder, central, ids, records)
        print(f"  {'PostgreSQL' if '://' in location else 'SQLite'}: {kiosks} kiosks ready in"
              f" {time.perf_counter() - started:.0f} s; all of them sync now", flush=True)
        samples = at_once(central, kiosks_ready, records)
    # From the last moment the store held nothing new to the moment it held the last record.
    first = next(n for n, s in enumerate(samples) if s[1] > 0)
    counted = [(t, held, 0.0) for t, held in samples[max(first - 1, 0):]]
    rates = per_second(counted, 1)
    last = next(t for t, held, _ in counted if held == counted[-1][1])
    seconds = last - counted[0][0]
    return {"held": counted[-1][1], "seconds": seconds, "overall": counted[-1][1] / seconds, "worst": min(rates),
            "rates": rates}


def fill(db, records: int) -> None:
    """A school of 1,200 patrons and 20,000 books and `records` log records, as bench/pages_log.py writes them,
    made by PostgreSQL itself (generate_series) in parts of 500,000; 1 % flagged."""
    db.execute("SELECT setseed(0.42)")
    db.execute(f"INSERT INTO patrons (id, name, type, class_name, status, rev) SELECT 'S' || lpad(p::text, 5, '0'),"
               " 'Student ' || p, 'student', (1 + (p % 36) / 6)::text || substr('ABCDEF', 1 + p % 6, 1), 'active', 0"
               f" FROM generate_series(0, {pages_log.PATRONS - 1}) p")
    db.execute("INSERT INTO items (id, title, status, rev) SELECT 'B' || lpad(i::text, 5, '0'), 'Book ' || i,"
               f" 'available', 0 FROM generate_series(0, {pages_log.ITEMS - 1}) i")
    central_db.set_librarian(db, "bench", hash_password(pages_log.PASSWORD))
    for kiosk_id in pages_log.KIOSKS:  # the log page's kiosk filter names kiosks the store knows
        central_db.add_kiosk(db, kiosk_id)
    kinds = [kind for kind, weight in pages_log.KINDS.items() for _ in range(weight)]
    kiosks = "ARRAY[" + ", ".join(f"'{k}'" for k in pages_log.KIOSKS) + "]"
    step = 365 * 86400 / records
    for first in range(0, records, 500_000):
        with db.atomic():
            db.execute(
                "INSERT INTO log (kiosk_id, seq, kind, at, corrected_at, trusted, patron_id, item_id, details,"
                " flagged, class_name) SELECT kiosk, n, kind, at, at, 1, CASE WHEN kind = 'unknown_tag' THEN NULL"
                " ELSE 'S' || lpad(p::text, 5, '0') END, CASE WHEN kind = 'unknown_tag' THEN NULL ELSE"
                " 'B' || lpad(i::text, 5, '0') END, '{}', flagged, CASE WHEN kind = 'unknown_tag' THEN NULL ELSE"
                " (1 + (p % 36) / 6)::text || substr('ABCDEF', 1 + p % 6, 1) END FROM (SELECT n,"
                f" ({kiosks})[1 + floor(random() * {len(pages_log.KIOSKS)})::int] AS kiosk,"
                f" (ARRAY[{', '.join(repr(k) for k in kinds)}])[1 + floor(random() * {len(kinds)})::int] AS kind,"
                " to_char(timestamp '2025-09-01' + n * ? * interval '1 second',"
                " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"+00:00\"') AS at,"
                f" floor(random() * {pages_log.PATRONS})::int AS p, floor(random() * {pages_log.ITEMS})::int AS i,"
                " (random() < 0.01)::int AS flagged"
                f" FROM generate_series({first + 1}, {min(records, first + 500_000)}) n) made", [step])
        print(f"  {min(records, first + 500_000):,} log records written", flush=True)
    db.execute("INSERT INTO merge_flags (kiosk_id, seq, item_id, reason, detail) SELECT kiosk_id, seq, item_id,"
               " 'double_checkout', 'bench' FROM log WHERE flagged = 1 AND kind = 'checkout'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=200)
    parser.add_argument("--records", type=int, default=500, help="pending records per kiosk")
    parser.add_argument("--workers", type=int, default=2, help="kiosk-central serve processes on PostgreSQL")
    parser.add_argument("--log-records", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=40, help="log page requests timed per filter")
    args = parser.parse_args()
    workers = ("--workers", str(args.workers)) if args.workers > 1 else ()
    with tempfile.TemporaryDirectory() as tmp, Cluster(durable=True, max_connections=300) as cluster:
        folder = Path(tmp)
        found = {"SQLite": burst(folder / "sqlite", str(folder / "central.db"), (), args.kiosks, args.records),
                 "PostgreSQL": burst(folder / "postgresql", cluster.new_database(), workers, args.kiosks,
                                     args.records)}
        base = args.kiosks * args.records / baseline_inserts(folder, args.kiosks * args.records, 500, "district")
        show_bursts(found, args, base)
        started = time.perf_counter()
        url = cluster.new_database()
        (folder / "log").mkdir()
        fill(central_db.init_db(url), args.log_records)
        with central_store(folder / "log", [], location=url, options=workers) as central:
            print(f"{args.log_records:,} log records written into PostgreSQL and the store started in"
                  f" {time.perf_counter() - started:.0f} s (it runs ANALYZE when it starts; autovacuum after)")
            log_base, results = pages_log.measure(central.url, args.repeat)
        pages_log.show(log_base, results, f" at {args.log_records:,} records on PostgreSQL")


def show_bursts(found: dict[str, dict], args, base: float) -> None:
    """Both backends side by side, and the figures for the table."""
    sqlite, postgres = found["SQLite"], found["PostgreSQL"]
    processes = f"{args.workers} processes" if args.workers > 1 else "1 process"
    print(f"{args.kiosks} kiosks x {args.records:,} loan records, kiosk sync --once each at one moment (one batch of"
          f" 500 through the merge, then a pull), into a store of one school of {args.kiosks} kiosks:")
    rows = [("", "SQLite (1 process)", f"PostgreSQL ({processes})"),
            ("records held, each once", f"{sqlite['held']:,}", f"{postgres['held']:,}"),
            ("seconds, first record to last", f"{sqlite['seconds']:.2f}", f"{postgres['seconds']:.2f}"),
            ("records/s overall", f"{sqlite['overall']:,.0f}", f"{postgres['overall']:,.0f}"),
            ("records/s, worst second", f"{sqlite['worst']:,.0f}", f"{postgres['worst']:,.0f}")]
    for name, left, right in rows:
        print(f"  {name:<36}{left:>22}{right:>26}")
    for name in ("SQLite", "PostgreSQL"):
        print(f"  {name + ', second by second:':<36}" + " ".join(f"{r:,.0f}" for r in found[name]["rates"]))
    ratio = postgres["overall"] / sqlite["overall"]
    worst = (f"{postgres['worst'] / sqlite['worst']:.2f} x" if sqlite["worst"] else
             "SQLite stored nothing in its worst second")
    print(f"  PostgreSQL / SQLite overall: {ratio:.2f} x; goal >= {GOAL:g} x: {'MET' if ratio >= GOAL else 'MISSED'}"
          f"; worst seconds: {worst}")
    print("  (a kiosk whose round failed, the store having answered 503 say, syncs again at once on its own)")
    print("  (meanwhile the kiosks that had pushed pull the others' changes: pages the store gives only while places"
          " stay free\n   for pushes; counted until the store held and acknowledged every record, the pulls then"
          " stopped)")
    print("  on both: every kiosk acknowledged to its last record and holding the store's loans")
    print(f"  bare SQLite inserts of the same, 500 a transaction: {base:,.0f} records/s")
    for what in ("overall", "worst"):
        label = "overall" if what == "overall" else "worst second"
        figure(f"{args.kiosks} kiosks at once on PostgreSQL: {label}", postgres[what], "records/s",
               baseline=sqlite[what], baseline_is="the same on SQLite, same run", ratio_at_least=GOAL)
        figure(f"{args.kiosks} kiosks at once on SQLite: {label}", sqlite[what], "records/s", baseline=base,
               baseline_is="bare SQLite inserts, 500 a transaction")


if __name__ == "__main__":
    main()
