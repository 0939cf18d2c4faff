"""Many kiosks' `kiosk sync --once` at one moment: the command imported once, then forked per kiosk.

    python bench/fleet.py DB CONFIG [DB CONFIG ...]

Prints "ready" once the `kiosk` command is imported, waits for a line on its
standard input, then forks one process per kiosk, each running the command's
own code as kiosk-sync.service does (`kiosk sync --once --db DB --config
CONFIG`, its output in a file beside DB with the suffix .out), and prints one
JSON line: each kiosk's exit status and the CPU seconds it used, in the order
given. On a bench machine,
forty Python start-ups take seconds of CPU that forty Pis would each spend on
their own, and would reach the central store one after another; forked, the
kiosks start at once and leave the CPU to the central store.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sync.client  # noqa: E402,F401  (the command imports it when it starts: here, once, before the fork)
from kiosk.cli import main as kiosk  # noqa: E402


def run(db: str, config: str) -> int:
    """One kiosk's sync round in this (forked) process; its exit status."""
    out = os.open(Path(db).with_suffix(".out"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(out, 1)
    os.dup2(out, 2)
    try:
        kiosk(["sync", "--once", "--db", db, "--config", config], prog_name="kiosk")
    except SystemExit as end:
        return end.code if isinstance(end.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


def main(args: list[str]) -> None:
    pairs = list(zip(args[::2], args[1::2]))
    print("ready", flush=True)
    sys.stdin.readline()
    children = []
    for db, config in pairs:
        pid = os.fork()
        if pid == 0:
            os._exit(run(db, config))
        children.append(pid)
    ended = []
    for pid in children:
        _, status, usage = os.wait4(pid, 0)
        ended.append({"status": os.waitstatus_to_exitcode(status), "cpu": usage.ru_utime + usage.ru_stime})
    print(json.dumps(ended), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
