"""Many kiosks' `kiosk sync --once` at one moment: the command imported once, then forked per kiosk.

    python bench/fleet.py [--rounds N] [--nice N] DB CONFIG [DB CONFIG ...]

Prints "ready" once the `kiosk` command is imported, waits for a line on its
standard input, then forks one process per kiosk, each running the command's
own code as kiosk-sync.service does (`kiosk sync --once --db DB --config
CONFIG`, its output in a file beside DB with the suffix .out), and prints one
JSON line: each kiosk's exit status and the CPU seconds it used, in the
order given. With --rounds N, a kiosk whose round failed (the store
answered 503, say) runs it again at once, on its own, up to N rounds in
all, as its service would at its next round: no kiosk waits for the
others. With --nice N the kiosks run at that CPU priority (19, the lowest:
on a school's network each kiosk is its own Pi; on the bench machine 200
of them pulling pages would otherwise take the central store's CPU). On a
bench machine, forty Python start-ups take seconds of CPU that forty Pis would each spend on
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


def rounds_until_done(db: str, config: str, rounds: int) -> int:
    """Rounds until one completes, at most `rounds`; the exit status of the last."""
    status = 1
    for _ in range(rounds):
        status = run(db, config)
        if status == 0:
            break
    return status


def main(args: list[str]) -> None:
    rounds, nice = 1, 0
    while args[:1] in (["--rounds"], ["--nice"]):
        if args[0] == "--rounds":
            rounds = int(args[1])
        else:
            nice = int(args[1])
        args = args[2:]
    pairs = list(zip(args[::2], args[1::2]))
    print("ready", flush=True)
    sys.stdin.readline()
    children = []
    for db, config in pairs:
        pid = os.fork()
        if pid == 0:
            os.nice(nice)
            os._exit(rounds_until_done(db, config, rounds))
        children.append(pid)
    ended = []
    for pid in children:
        _, status, usage = os.wait4(pid, 0)
        ended.append({"status": os.waitstatus_to_exitcode(status), "cpu": usage.ru_utime + usage.ru_stime})
    print(json.dumps(ended), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
