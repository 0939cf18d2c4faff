"""The CPU that a whole `kiosk run` process uses at idle (target: under 3 % of one core).

`kiosk run` starts as `kiosk.service` starts it (notify socket, watchdog, full
screen) on SDL's dummy driver with the fake hardware and the demo catalog.
After it says READY and settles, its CPU time (user + system, every thread,
from /proc) is read over N seconds of nothing happening, and set against a
baseline process that only sleeps a quarter second at a time, measured the
same way in the same run. `bench/screen_bench.py` measures the loop's turns
in-process; this one counts everything the process does.

Run: .venv/bin/python bench/idle_cpu.py [SECONDS]   (Linux: reads /proc)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.demo import prepare_demo_db  # noqa: E402

from report import figure  # noqa: E402
from sync_common import cpu_seconds  # noqa: E402

SETTLE = 1.0  # imports and the first screen are start-up, not idle


def share(pid: int, seconds: float) -> float:
    """CPU seconds over wall seconds for `pid` during the next `seconds`."""
    cpu0, wall0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)


def baseline(seconds: float) -> float:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time\nwhile True:\n    time.sleep(0.25)"])
    try:
        time.sleep(SETTLE)
        return share(sleeper.pid, seconds)
    finally:
        sleeper.terminate()
        sleeper.wait()


def kiosk_idle(seconds: float, folder: Path) -> float:
    db_path = folder / "kiosk.db"
    prepare_demo_db(db_path)
    config = folder / "kiosk.toml"
    config.write_text('[kiosk]\nid = "demo-door"\n[hardware]\ndriver = "fake"\n'
                      '[screen]\nfullscreen = true\nwidth = 800\nheight = 480\n')
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(folder / "notify"))
    notify.settimeout(60)
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", NOTIFY_SOCKET=str(folder / "notify"),
               WATCHDOG_USEC="30000000")
    kiosk = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", "--config", str(config), "--db",
                              str(db_path)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        while notify.recv(256) != b"READY=1":
            pass
        time.sleep(SETTLE)
        return share(kiosk.pid, seconds)
    finally:
        kiosk.send_signal(signal.SIGTERM)
        kiosk.wait(30)
        notify.close()
        if kiosk.returncode != 0:
            raise SystemExit(f"kiosk run ended with status {kiosk.returncode}")


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    with tempfile.TemporaryDirectory() as tmp:
        kiosk = kiosk_idle(seconds, Path(tmp))
    base = baseline(seconds)
    print(f"idle CPU over {seconds:.0f} s, whole process: kiosk run {kiosk * 100:.2f} % of one core; "
          f"a process that only sleeps {base * 100:.2f} %   target < 3 %")
    figure("kiosk run at idle, whole process, CPU", kiosk * 100, "% of a core", baseline=base * 100,
           baseline_is="a process that only sleeps", at_most=3.0)


if __name__ == "__main__":
    main()
