"""The benches of `make bench` still run: each at a tiny size, its figures in the one table.

Figures are not judged here (timing belongs to bench/, never to a test);
what is checked is that every bench runs to its end, checks what it pushed
or read, and reports its figures to bench/report.py.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import report  # noqa: E402
from report import BENCHES, HELPERS  # noqa: E402

TINY = {
    "tap_latency.py": ["--taps", "20", "--log-records", "2000"],
    "sync_push.py": ["--records", "300"],
    "sync_pull.py": ["--items", "500"],
    "sync_many.py": ["--kiosks", "3", "--records", "150"],
    "pages_log.py": ["--records", "3000", "--repeat", "3"],
    "reader_idle.py": ["--seconds", "0.3", "--taps", "2"],
    "screen_bench.py": ["--repeat", "1", "--seconds", "0.3"],
    "idle_cpu.py": ["0.5"],
    "tap_untrusted.py": ["--taps", "20", "--records", "3000"],
    "sync_tap_wait.py": ["--taps", "20", "--pages", "2"],
    "stocktake.py": ["--books", "10000", "--taps", "4000"],  # its shape (3,000 loans, ...) needs a few thousand books
    "idle_rotation.py": ["0.5"],
    "district.py": ["--kiosks", "3", "--records", "40", "--log-records", "3000", "--repeat", "2"],
    "import_push.py": ["--rows", "300"],
}



def test_every_script_in_bench_is_run_by_make_bench_or_is_a_helper():
    scripts = {p.name for p in BENCH.glob("*.py")}
    assert scripts == set(BENCHES) | set(HELPERS)
    assert set(TINY) == set(BENCHES)


@pytest.mark.slow
@pytest.mark.parametrize("bench", BENCHES)
def test_each_bench_runs_at_a_tiny_size_and_reports_its_figures(bench, tmp_path):
    path = tmp_path / "figures.jsonl"
    env = dict(os.environ, BENCH_REPORT=str(path), SDL_VIDEODRIVER="dummy")
    done = subprocess.run([sys.executable, str(BENCH / bench), *TINY[bench]], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = report.read(path)
    assert rows and {row["bench"] for row in rows} == {bench.removesuffix(".py")}
    assert all(row["value"] >= 0 and row["unit"] for row in rows)
    shown = report.table(rows)
    assert all(row["figure"] in shown for row in rows)


def test_the_table_shows_each_figure_with_its_goal_its_baseline_and_the_ratio(tmp_path, monkeypatch):
    path = tmp_path / "figures.jsonl"
    monkeypatch.setenv("BENCH_REPORT", str(path))
    report.figure("tap p99", 3.0, "ms", baseline=2.0, baseline_is="bare insert", ratio_at_most=2.0)
    report.figure("push", 6.5, "s", baseline=0.5, baseline_is="bare inserts", at_most=5.0)
    report.figure("rate", 2500, "records/s", at_least=2000)
    lines = report.table(report.read(path)).splitlines()
    assert all(word in lines[0] for word in ("figure", "measured", "goal", "baseline (same run)", "ratio"))
    tap, push, rate = (next(line for line in lines if name in line) for name in ("tap p99", "push", "rate"))
    assert "ratio <= 2.00" in tap and "2.00 ms  bare insert" in tap and "1.50" in tap and tap.endswith("met")
    assert "<= 5.00 s" in push and "13.0" in push and push.endswith("MISSED")
    assert "2,500 records/s" in rate and ">= 2,000 records/s" in rate and rate.endswith("met")


def test_a_figure_has_at_most_one_goal_of_the_known_kinds():
    with pytest.raises(TypeError):
        report.figure("x", 1.0, "ms", at_most=1.0, at_least=0.5)
    with pytest.raises(TypeError):
        report.figure("x", 1.0, "ms", below=1.0)
