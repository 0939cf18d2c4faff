"""Many kiosks: 40 kiosks push at once, each with `kiosk sync --once`, beside bare SQLite inserts.

    python bench/sync_many.py [--kiosks 40] [--records 1000]

Forty cabinets (a school of 1,000 patrons, 250 books in each cabinet) pulled
the catalog, then lent, renewed and took back books offline until 1,000
records waited in each. Then all of them run the kiosk's sync command at one
moment (bench/fleet.py), with the default config: batches of 500 through the
merge, then a pull. The central store's log and its CPU time are read every
quarter second. Its seconds count from when it got busy: on this one
machine the kiosks' own processes first read and send their batches, with
the same CPU, and until then the store has nothing to do (the bench says how
long that took and what the kiosks used). From then: records/s overall, in
the first second, and the lowest over any whole second until the last
record arrived, beside the store's CPU in each second. A kiosk whose round
failed (a timeout, say) runs the command again, as its service would at its
next round, and is counted, as are the pushes sent again after a read
timeout. Checked: every record held once, every kiosk acknowledged to its
last record, each kiosk's loans the same as the central store's. Target: at
least 2,000 records/s in every second, the first one included.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sync_common import (ROOT, baseline_inserts, central_store, clone, cpu_seconds, kiosk_files, kiosk_loans,
                         lend_and_return, pushes_sent_again, school, sync_once, synced, tail, verdict)

from kiosk.config import CentralSection
from report import figure

TARGET = 2000.0
PATRONS, SHELF = 1_000, 250
SAMPLE = 0.25  # seconds between counts of the central store's log


@dataclass
class Burst:
    """What happened when the kiosks pushed at once."""

    samples: list[tuple[float, int, float]]  # (seconds since the start, records held, store's CPU seconds since)
    failed: list[str]  # kiosks whose first round failed
    kiosk_cpu: float  # CPU seconds the kiosks' processes used on this machine
    sent_again: int  # pushes sent again after a read timeout, in the kiosks' rounds


def prepare_kiosks(folder: Path, central, ids: list[str], records: int) -> dict[str, tuple[Path, Path, set]]:
    """Each kiosk's database (the catalog pulled, `records` loan records waiting), config and shelf of items."""
    template, template_config = kiosk_files(folder, "template", central.url, central.tokens["template"])
    synced(sync_once(template, template_config), template)
    kiosks = {}
    for n, kiosk_id in enumerate(ids):
        db_path, config = kiosk_files(folder, kiosk_id, central.url, central.tokens[kiosk_id])
        clone(template, db_path, kiosk_id)
        shelf = lend_and_return(db_path, kiosk_id, records, range(n * SHELF, (n + 1) * SHELF), PATRONS, seed=n)
        kiosks[kiosk_id] = (db_path, config, shelf)
    return kiosks


def fleet_ready(kiosks: dict[str, tuple[Path, Path, set]], rounds: int = 1, nice: int = 0) -> subprocess.Popen:
    """bench/fleet.py over these kiosks, ready: a line on its standard input starts them all (each kiosk whose
    round failed runs it again at once, on its own, up to `rounds` in all; at CPU priority `nice`). In a session of its own: the
    kiosks can be stopped together (os.killpg)."""
    fleet = subprocess.Popen([sys.executable, str(Path(__file__).parent / "fleet.py"), "--rounds", str(rounds),
                              "--nice", str(nice)]
                             + [str(f) for db_path, config, _ in kiosks.values() for f in (db_path, config)],
                             cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
    if fleet.stdout.readline().strip() != "ready":
        raise SystemExit("the kiosks' launcher did not start")
    return fleet


def check(central, kiosks: dict[str, tuple[Path, Path, set]], records: int) -> None:
    """Every record held once, every kiosk acknowledged to its last, each kiosk's loans the central store's."""
    total = len(kiosks) * records
    held, acked = central.held(), central.acked()
    if held != (total, total) or any(acked[k] != records for k in kiosks):
        raise SystemExit(f"held {held[0]} records, {held[1]} distinct, of {total}; acknowledged "
                         f"{sum(acked[k] for k in kiosks)}")
    disagree = [k for k, (db_path, _, shelf) in kiosks.items() if kiosk_loans(db_path, shelf) != central.loans(shelf)]
    if disagree:
        raise SystemExit(f"the loans of {', '.join(disagree)} differ from the central store's")


def push_at_once(folder: Path, central, ids: list[str], records: int) -> Burst:
    """Every kiosk's `kiosk sync --once` at one moment, then the failed ones again; all checked."""
    kiosks = prepare_kiosks(folder, central, ids, records)
    fleet = fleet_ready(kiosks)
    total = len(ids) * records
    cpu_before = cpu_seconds(central.pid)
    start = time.monotonic()
    fleet.stdin.write("go\n")
    fleet.stdin.flush()
    samples: list[tuple[float, int, float]] = []
    while fleet.poll() is None and (not samples or samples[-1][1] < total):
        time.sleep(SAMPLE)
        samples.append((time.monotonic() - start, central.count(), cpu_seconds(central.pid) - cpu_before))
    ended = json.loads(fleet.stdout.readline())
    fleet.wait()
    burst = Burst(samples, [k for k, end in zip(kiosks, ended) if end["status"] != 0],
                  sum(end["cpu"] for end in ended), 0)
    if burst.failed:
        print(f"  {len(burst.failed)} kiosks' rounds failed, {burst.failed[0]}'s with: "
              f"{tail(kiosks[burst.failed[0]][0].with_suffix('.out'), 1)}")
    for kiosk_id in burst.failed:
        synced(sync_once(*kiosks[kiosk_id][:2]), kiosks[kiosk_id][0])
    burst.sent_again = sum(pushes_sent_again(db_path) for db_path, _, _ in kiosks.values())
    check(central, kiosks, records)
    return burst


def busy_from(samples: list[tuple[float, int, float]]) -> int:
    """The index of the sample before the central store first got busy: half its usual share of the CPU or more.

    Its usual share is the median over the run (on a machine others use too,
    the store may have a third of a core at best).
    """
    points = [(0.0, 0, 0.0)] + samples
    shares = [(c2 - c1) / (t2 - t1) for (t1, _, c1), (t2, _, c2) in zip(points, points[1:])]
    usual = sorted(shares)[len(shares) // 2]
    return next((n for n, share in enumerate(shares) if share >= usual / 2), 0)


def per_second(samples: list[tuple[float, int, float]], column: int) -> list[float]:
    """A sampled column's growth over every whole second of `samples` until the last record arrived."""
    points = [(s[0] - samples[0][0], s[column] - samples[0][column]) for s in samples]
    end = next(t for t, s in zip((p[0] for p in points), samples) if s[1] == samples[-1][1])

    def value_at(moment: float) -> float:
        for (t1, v1), (t2, v2) in zip(points, points[1:]):
            if t1 <= moment <= t2:
                return v1 + (v2 - v1) * (moment - t1) / (t2 - t1)
        return points[-1][1]

    return [value_at(s + 1) - value_at(s) for s in range(int(end))] or [points[-1][1] / max(end, 1e-9)]


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
            burst = push_at_once(folder, central, ids, args.records)
        base = total / baseline_inserts(folder, total, batch, "many")
    show(burst, args.kiosks, args.records, batch, base)


def show(burst: Burst, kiosks: int, records: int, batch: int, base: float) -> None:
    """The figures, and why the first second is what it is."""
    # The kiosks share this machine's CPU with the store: until their first
    # batches are read and sent, the store has nothing to do. Its seconds
    # are counted from when it got busy.
    start = busy_from(burst.samples)
    samples = ([(0.0, 0, 0.0)] + burst.samples)[start:]
    held, seconds = samples[-1][1], samples[-1][0] - samples[0][0]
    rates, cores = per_second(samples, 1), per_second(samples, 2)
    lowest, first, overall = min(rates), rates[0], held / seconds
    rest = (sum(rates[1:]) / sum(cores[1:])) if len(rates) > 1 and sum(cores[1:]) else None
    print(f"{kiosks} kiosks x {records:,} loan records, kiosk sync --once each at one moment (batches of {batch}): "
          f"{kiosks * records:,} held, none lost, none twice, every kiosk's loans the central store's")
    print(f"  the central store got busy {samples[0][0]:.2f} s after the kiosks started, while they read and sent "
          f"their first batches; from then:")
    print(f"  {overall:,.0f} records/s overall ({seconds:.2f} s); first second {first:,.0f}; lowest second "
          f"{lowest:,.0f}; target >= {TARGET:,.0f} in every second: {verdict(lowest >= TARGET)}")
    print("  records/s, second by second:    " + " ".join(f"{r:,.0f}" for r in rates))
    print("  central store's CPU (cores):    " + " ".join(f"{c:.2f}" for c in cores))
    print(f"  records stored per CPU-second of the central store: first second {first / max(cores[0], 1e-9):,.0f}"
          + (f", the seconds after {rest:,.0f}" if rest else ""))
    print(f"  the kiosks' own processes used {burst.kiosk_cpu:.1f} CPU-seconds of this machine (on a school's "
          f"network, of their own Pis)")
    print(f"  {burst.sent_again} pushes sent again after a read timeout (each stored once all the same); "
          f"{len(burst.failed)} of {kiosks} kiosks failed their round and synced again")
    print(f"  bare SQLite inserts of the same, {batch} a transaction: {base:,.0f} records/s")
    for name, value in ((f"{kiosks} kiosks at once: lowest second", lowest),
                        (f"{kiosks} kiosks at once: first second", first),
                        (f"{kiosks} kiosks at once: overall", overall)):
        figure(name, value, "records/s", baseline=base, baseline_is=f"bare SQLite inserts, {batch} a transaction",
               at_least=TARGET)
    if rest:
        figure(f"{kiosks} kiosks at once: first second, records per store CPU-second", first / max(cores[0], 1e-9),
               "records", baseline=rest, baseline_is="the seconds after", ratio_at_least=0.9)
    figure(f"{kiosks} kiosks at once: pushes sent again after a read timeout", burst.sent_again, "pushes", at_most=0)


if __name__ == "__main__":
    main()
