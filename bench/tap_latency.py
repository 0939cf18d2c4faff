"""Tap latency: from a tap entering the kiosk to its records committed and its effects issued.

    python bench/tap_latency.py [--taps 2000] [--log-records 500000] [--dir DIR]

A school's traffic (bench/workload.py: sessions with checkouts, renewals and
refusals, returns at idle) on a kiosk with 1,000 patrons, 50,000 items and
about 1,500 current loans, until `--taps` taps have written records (card
taps and others that write nothing are timed too, and shown apart). Three
kiosks take the same taps: one whose log holds 1,000 records, one whose log
holds 500,000, and the same 500,000 on a kiosk whose clock is untrusted (it
booted without a real-time clock and network after its first 1,000 records,
and stayed so), where every record is floored at the last trusted time.
Against a bare durable SQLite INSERT + COMMIT on the same disk in the same
run, interleaved with the taps so that a noisy neighbour hurts all alike.

Targets: p99 of the taps that write records, and of every tap at the long
log, at most 2.0 x the bare insert's; growth from the short log to the long
one at most 1.2 x, for both. The untrusted kiosk's taps stop after a minute
if they have not all been made (a floor walked back through the log took
tenths of a second a tap).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hardware.fake import FakeLights, FakeLock, FakeSounder  # noqa: E402
from kiosk import store  # noqa: E402
from kiosk.app import Kiosk  # noqa: E402
from kiosk.clock import ScriptClock  # noqa: E402
from kiosk.config import Config  # noqa: E402
from kiosk.domain.events import Record  # noqa: E402

from report import figure, pct  # noqa: E402
from workload import Visits, catalog  # noqa: E402

ITEMS, PATRONS = 50_000, 1_000
TRUSTED_HISTORY = 1_000  # records stamped before the untrusted kiosk lost its clock
ROUNDS = 10
# A floor found by walking the log back to the last trusted record, instead
# of kept (tenths of a second a tap at 500,000 records), would hold the bench
# for many minutes: the untrusted kiosk's taps stop after this many seconds,
# and its figure says how many were made.
UNTRUSTED_SECONDS = 60.0
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def build(path: Path, log_records: int) -> None:
    """A kiosk's database: the catalog and loans, and a log of `log_records` older records."""
    db = store.init_db(path, "bench")
    catalog(db, PATRONS, ITEMS, T0)
    stamp = {"at": "2026-11-01T00:00:00.000+00:00", "trusted": True, "boot_id": "bench", "monotonic": 1.0}
    # What the history holds does not matter to a tap, only how long it is:
    # records that change no loan keep the loans above as they are.
    for first in range(0, log_records, 5000):
        store.append_records(db, "bench", [
            Record("refused", patron_id=f"P{n % PATRONS}", item_id=f"B{n % ITEMS}", details={"reason": "limit_reached"})
            for n in range(first, min(log_records, first + 5000))], stamp)
    db.conn.close()


def lose_clock(source: Path, target: Path) -> None:
    """A copy of `source` as a kiosk that lost its clock after its first records would have left it.

    Its records after the first ones are untrusted, and the floor each
    untrusted append keeps beside its record (`store.keep_floor`) is the
    last trusted record's time: without it the floor is looked for by
    walking the log back, which no kiosk does.
    """
    shutil.copy(source, target)
    db = store.open_db(target)
    with db.atomic():
        db.execute("UPDATE log SET trusted = 0 WHERE seq > ?", [TRUSTED_HISTORY])
        floor = db.execute("SELECT at FROM log WHERE seq = ?", [TRUSTED_HISTORY]).fetchone()[0]
        store.keep_floor(db, "bench", floor, store.last_seq(db, "bench"))
    db.conn.close()


class Case:
    """One kiosk database under the workload, kept open across the interleaved rounds."""

    def __init__(self, name: str, path: Path, trusted: bool, seconds: float = float("inf")):
        self.name, self.seconds = name, seconds
        clock = ScriptClock()
        clock.set(T0, trusted=trusted)
        kiosk = Kiosk(store.open_db(path), Config(), clock, lights=FakeLights(), sounder=FakeSounder(),
                      lock=FakeLock())
        self.visits = Visits(kiosk, clock)

    def run(self, writing_taps: int) -> None:
        self.visits.run(writing_taps, self.seconds / ROUNDS)

    def writing(self) -> list[float]:
        return [s.seconds for s in self.visits.samples if s.wrote]


class Bare:
    """The baseline: one durable INSERT + COMMIT (WAL, synchronous=FULL) at a time."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)")
        self.samples: list[float] = []

    def run(self, count: int) -> None:
        for i in range(count):
            start = time.perf_counter()
            self.conn.execute("BEGIN")
            self.conn.execute("INSERT INTO t(body) VALUES (?)", [json.dumps({"due": "2026-12-07", "n": i})])
            self.conn.execute("COMMIT")
            self.samples.append(time.perf_counter() - start)


def show(cases: list[Case], bare: Bare) -> None:
    first = cases[0].visits
    mix = Counter(f"{s.outcome} ({s.reason})" if s.reason else s.outcome for s in first.samples)
    print(f"{len(first.samples):,} taps in {first.visits:,} visits, the same on each kiosk; the mix:")
    for what, count in mix.most_common():
        print(f"  {count:6,}  {what}")
    for case in cases:
        if len(case.visits.samples) < len(first.samples):
            print(f"{case.name}: stopped after {case.seconds:.0f} s, at {len(case.visits.samples):,} taps")
    print(f"\n{'':48} {'taps':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    print(f"{'bare INSERT+COMMIT':48} {len(bare.samples):6,} {pct(bare.samples, 50) * 1000:8.2f} "
          f"{pct(bare.samples, 99) * 1000:8.2f} {max(bare.samples) * 1000:8.2f}")
    for case in cases:
        for label, values in ((f"{case.name}, writing taps", case.writing()),
                              (f"{case.name}, every tap", [s.seconds for s in case.visits.samples])):
            print(f"{label:48} {len(values):6,} {pct(values, 50) * 1000:8.2f} {pct(values, 99) * 1000:8.2f} "
                  f"{max(values) * 1000:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=2000, help="taps that write records, per kiosk")
    parser.add_argument("--log-records", type=int, default=500_000, help="records in the long log")
    parser.add_argument("--dir", default=None, help="where the databases go (default: a temporary folder)")
    args = parser.parse_args()
    short, long = 1_000, args.log_records
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        tmp = Path(tmp)
        print(f"building: {ITEMS:,} items, {PATRONS:,} patrons; logs of {short:,} and {long:,} records", flush=True)
        build(tmp / "short.db", short)
        build(tmp / "long.db", long)
        lose_clock(tmp / "long.db", tmp / "untrusted.db")
        cases = [Case(f"log of {short:,}", tmp / "short.db", True), Case(f"log of {long:,}", tmp / "long.db", True),
                 Case(f"log of {long:,}, untrusted clock", tmp / "untrusted.db", False, UNTRUSTED_SECONDS)]
        bare = Bare(tmp / "bare.db")
        per_round = max(1, args.taps // ROUNDS)
        for _ in range(ROUNDS):
            bare.run(per_round)
            for case in cases:
                case.run(per_round)
        outcomes = [[(s.outcome, s.reason) for s in case.visits.samples] for case in cases]
        if outcomes[0] != outcomes[1]:
            raise SystemExit("the short and the long log came to different outcomes for the same taps")
        show(cases, bare)
    base = pct(bare.samples, 99)
    for case in cases:
        cut = f" ({len(case.writing()):,} taps in {case.seconds:.0f} s)" if len(case.writing()) < args.taps else ""
        figure(f"tap p99 (writing), {case.name}{cut}", pct(case.writing(), 99) * 1000, "ms", baseline=base * 1000,
               baseline_is="bare INSERT+COMMIT p99", ratio_at_most=2.0)
    every = [[s.seconds for s in case.visits.samples] for case in cases]
    figure(f"tap p99 (every tap), {cases[1].name}", pct(every[1], 99) * 1000, "ms", baseline=base * 1000,
           baseline_is="bare INSERT+COMMIT p99", ratio_at_most=2.0)
    figure(f"tap p99 growth (writing), log of {short:,} -> {long:,}", pct(cases[1].writing(), 99) * 1000, "ms",
           baseline=pct(cases[0].writing(), 99) * 1000, baseline_is=f"p99, log of {short:,}", ratio_at_most=1.2)
    figure(f"tap p99 growth (every tap), log of {short:,} -> {long:,}", pct(every[1], 99) * 1000, "ms",
           baseline=pct(every[0], 99) * 1000, baseline_is=f"p99, log of {short:,}", ratio_at_most=1.2)
    print("\np99 ratio to the bare insert: " + ", ".join(
        f"{pct(c.writing(), 99) / base:.2f} ({c.name})" for c in cases) + "; target <= 2.0")
    print(f"growth {short:,} -> {long:,} records: p99 {pct(cases[1].writing(), 99) / pct(cases[0].writing(), 99):.2f}"
          f" x (writing taps), {pct(every[1], 99) / pct(every[0], 99):.2f} x (every tap); target <= 1.2 x")


if __name__ == "__main__":
    main()
