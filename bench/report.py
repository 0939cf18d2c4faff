"""One table for `make bench`: every figure, its goal, its baseline measured in the same run, the ratio.

A bench calls `figure(...)` for each thing it measured; when the variable
BENCH_REPORT names a file, the figure is appended to it as one JSON line.

    python bench/report.py                  run every bench, then print the table
    python bench/report.py BENCH.py ...     run these benches, then print the table
    python bench/report.py --table FILE     print the table of a file of figures

Each bench runs in its own process with its output shown as it comes. A
missed goal is a figure like any other (MISSED in the table); a bench that
fails is a row saying so, and the run then ends with status 1.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

HERE = Path(__file__).resolve().parent
# Every bench `make bench` runs, in this order (tests/test_bench_smoke.py
# checks that no script in bench/ is left out).
BENCHES = ("tap_latency.py", "tap_untrusted.py", "sync_push.py", "sync_pull.py", "sync_many.py", "sync_tap_wait.py",
           "pages_log.py", "stocktake.py", "reader_idle.py", "screen_bench.py", "idle_cpu.py", "idle_rotation.py",
           "district.py", "import_push.py")
HELPERS = ("report.py", "sync_common.py", "workload.py", "fleet.py")
LIMITS = {"at_most": "<=", "at_least": ">=", "ratio_at_most": "ratio <=", "ratio_at_least": "ratio >="}


def figure(name: str, value: float, unit: str, *, baseline: float | None = None, baseline_is: str = "",
           **goal: float) -> None:
    """Note one figure for the table (a no-op unless BENCH_REPORT is set).

    `goal` is one of at_most, at_least (on the value) or ratio_at_most,
    ratio_at_least (on value / baseline); `baseline_is` says what the
    baseline is, in a few words.
    """
    unknown = set(goal) - set(LIMITS)
    if unknown or len(goal) > 1:
        raise TypeError(f"a figure has at most one goal of {', '.join(LIMITS)}, not {', '.join(goal)}")
    path = os.environ.get("BENCH_REPORT")
    if not path:
        return
    row = {"bench": Path(sys.argv[0]).stem, "figure": name, "value": value, "unit": unit, "baseline": baseline,
           "baseline_is": baseline_is, "goal": next(iter(goal.items()), None)}
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")


def number(value: float) -> str:
    """A figure as a person reads it: thousands separated, no false precision."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.3g}"


def verdict(row: dict) -> tuple[str, str]:
    """(the goal as text, met / MISSED / blank) for one row."""
    if row.get("failed"):
        return "", "FAILED"
    if not row["goal"]:
        return "", ""
    kind, limit = row["goal"]
    on_ratio = kind.startswith("ratio")
    if on_ratio and not row["baseline"]:
        return f"{LIMITS[kind]} {number(limit)}", "no baseline"
    measured = row["value"] / row["baseline"] if on_ratio else row["value"]
    ok = measured <= limit if kind.endswith("at_most") else measured >= limit
    text = f"{LIMITS[kind]} {number(limit)}" + ("" if on_ratio else f" {row['unit']}")
    return text, "met" if ok else "MISSED"


def table(rows: list[dict]) -> str:
    """The figures as one aligned text table."""
    lines = []
    for row in rows:
        goal, outcome = verdict(row)
        if row.get("failed"):
            lines.append([row["bench"], row["figure"], "", "", "", "", outcome])
            continue
        base = f"{number(row['baseline'])} {row['unit']}  {row['baseline_is']}" if row["baseline"] is not None else ""
        ratio = number(row["value"] / row["baseline"]) if row["baseline"] else ""
        lines.append([row["bench"], row["figure"], f"{number(row['value'])} {row['unit']}", goal, base, ratio,
                      outcome])
    return tabulate(lines, headers=["bench", "figure", "measured", "goal", "baseline (same run)", "ratio", ""],
                    tablefmt="simple", disable_numparse=True)


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(benches: list[str]) -> int:
    """Run `benches` one after the other, then print the table; 1 if any failed."""
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figures.jsonl"
        path.touch()
        env = dict(os.environ, BENCH_REPORT=str(path))
        started = time.monotonic()
        for bench in benches:
            script = HERE / Path(bench).name
            print(f"== {script.relative_to(HERE.parent)}", flush=True)
            begun = time.monotonic()
            status = subprocess.run([sys.executable, str(script)], env=env).returncode
            print(f"   ({time.monotonic() - begun:.0f} s)", flush=True)
            if status != 0:
                failed += 1
                with open(path, "a", encoding="utf-8") as out:
                    out.write(json.dumps({"bench": script.stem, "figure": f"ended with status {status}",
                                          "failed": True}) + "\n")
        print(f"\n== every figure ({len(benches)} benches, {(time.monotonic() - started) / 60:.1f} minutes)")
        print(table(read(path)))
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--table"]:
        if len(argv) != 2:
            raise SystemExit("usage: report.py --table FILE")
        print(table(read(Path(argv[1]))))
        return 0
    return run(argv or list(BENCHES))



def bare_inserts(path, count: int) -> list[float]:
    """The baseline of a tap: `count` durable INSERT+COMMITs of a small row in WAL with synchronous=FULL."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT)")
    times = []
    for i in range(count):
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.execute("INSERT INTO t(body) VALUES (?)", [json.dumps({"n": i})])
        conn.execute("COMMIT")
        times.append(time.perf_counter() - start)
    conn.close()
    return times


def pct(values: list[float], p: float) -> float:
    """The p-th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
