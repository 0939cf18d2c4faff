"""What the sync benchmarks share: a central store in its own process, kiosks that sync as on a Pi, a baseline.

The central store runs as `kiosk-central serve --db DB` on loopback, and
each kiosk syncs by running `kiosk sync --once --db ... --config ...`, the
command of kiosk-sync.service, with a config that sets only its id, the
store's URL and its token: every other setting (batch size, timeouts,
retries) is the default. A kiosk's records are loans of real items to real
patrons (checkouts, renewals, returns), so every push goes through the
merge. The baseline is bare SQLite: as many rows inserted in the same
batches, WAL and `synchronous=FULL`, on the same disk in the same run.

The central store is reached only through `kiosk-central` and the functions
of `sync.server.db`, and read back only in `Central`'s methods, so that
`DB` can be any database URL those accept.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk import store  # noqa: E402
from kiosk.domain.events import Record  # noqa: E402
from kiosk.domain.model import Item, Patron  # noqa: E402
from sync.server import db as central_db  # noqa: E402

START = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)
BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")


def command(name: str, module: str) -> list[str]:
    """The installed console script `name` (what a Pi runs), else `python -m module`."""
    script = BIN / name
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of every thread of process `pid` so far (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def baseline_inserts(folder: Path, rows: int, batch: int, name: str) -> float:
    """Seconds for bare SQLite to insert `rows` log rows, `batch` per transaction."""
    conn = sqlite3.connect(folder / f"baseline-{name}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE log (kiosk_id TEXT, seq INTEGER, kind TEXT, at TEXT, trusted INTEGER, boot_id TEXT,"
                 " monotonic REAL, item_id TEXT, details TEXT, PRIMARY KEY (kiosk_id, seq)) WITHOUT ROWID")
    at = START.isoformat(timespec="milliseconds")
    start = time.perf_counter()
    for first in range(0, rows, batch):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO log VALUES ('k', ?, 'checkout', ?, 1, 'b', 1.0, ?, '{\"due\": \"2026-11-16\"}')",
                         [(n + 1, at, f"B{n:05d}") for n in range(first, min(rows, first + batch))])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - start
    conn.close()
    return seconds


def school(patrons: int, items: int):
    """A `prepare` for `central_store`: `patrons` students in 36 classes and `items` books, imported."""
    def prepare(db) -> None:
        central_db.save_patrons(db, [Patron(id=f"P{n}", name=f"Patron {n}", class_name=f"{1 + n % 6}{'ABCDEF'[n // 6 % 6]}",
                                            card_uid=f"{0x10000000 + n:08X}") for n in range(patrons)])
        central_db.save_items(db, [Item(id=f"B{n}", title=f"Book {n}", tag_uid=f"04{n:012X}", home="library")
                                   for n in range(items)])
    return prepare


@dataclass
class Central:
    """The running central store: its URL, its process, its database (for setting up and reading back), tokens."""

    url: str
    pid: int
    db: object
    tokens: dict[str, str]


    def held(self) -> tuple[int, int]:
        """(records held, distinct identities among them)."""
        return tuple(self.db.execute("SELECT COUNT(*), COUNT(DISTINCT kiosk_id || '/' || seq) FROM log").fetchone())

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM log").fetchone()[0]

    def acked(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT id, acked_seq FROM kiosks").fetchall())

    def loans(self, item_ids: set[str]) -> set[tuple]:
        """(item, patron, due) of the current loans of these items."""
        rows = self.db.execute("SELECT item_id, patron_id, due FROM loans").fetchall()
        return {tuple(r) for r in rows if r[0] in item_ids}


@contextmanager
def central_store(folder: Path, kiosk_ids: list[str], prepare=None, location: str | None = None,
                  options: tuple[str, ...] = ()) -> Iterator[Central]:
    """`kiosk-central serve [options]` on a free loopback port with these kiosks, over a new store in `folder`
    (or at `location`, a PostgreSQL URL say)."""
    location = location or str(folder / "central.db")
    db = central_db.init_db(location)
    tokens = {kiosk_id: central_db.add_kiosk(db, kiosk_id) for kiosk_id in kiosk_ids}
    if prepare is not None:
        prepare(db)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(folder / "central.log", "wb")
    server = subprocess.Popen(command("kiosk-central", "sync.server.cli") + ["serve", "--db", location, "--port",
                              str(port), *options], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                              env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the central store did not start:\n" + tail(folder / "central.log")) from None
                time.sleep(0.05)
        yield Central(f"http://127.0.0.1:{port}", server.pid, db, tokens)
    finally:
        server.terminate()
        server.wait(15)
        log.close()


def tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def kiosk_files(folder: Path, kiosk_id: str, url: str, token: str) -> tuple[Path, Path]:
    """A kiosk's database path and its config: only its id, the store's URL and its token; defaults otherwise."""
    config = folder / f"{kiosk_id}.toml"
    config.write_text(f'[kiosk]\nid = "{kiosk_id}"\n\n[central]\nurl = "{url}"\ntoken = "{token}"\n')
    db_path = folder / f"{kiosk_id}.db"
    if not db_path.exists():
        store.init_db(db_path, kiosk_id).conn.close()  # `kiosk init`: nothing else creates a kiosk's database
    return db_path, config


def sync_once(db_path: Path, config: Path) -> subprocess.Popen:
    """`kiosk sync --once` for one kiosk, started; its output is added to a file beside its database."""
    out = open(db_path.with_suffix(".out"), "ab")
    process = subprocess.Popen(command("kiosk", "kiosk.cli") + ["sync", "--once", "--db", str(db_path), "--config",
                               str(config)], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    return process


def pushes_sent_again(db_path: Path) -> int:
    """Pushes a kiosk sent again after a read timeout, from its sync rounds' output (urllib3 says each)."""
    return sum(1 for line in db_path.with_suffix(".out").read_text(errors="replace").splitlines()
               if "Retrying" in line and "ReadTimeout" in line and line.rstrip().endswith("/records"))


def synced(process: subprocess.Popen, db_path: Path) -> None:
    """Wait for a `sync_once`; a failure ends the bench with the kiosk's own words."""
    if process.wait(600) != 0:
        raise SystemExit(f"kiosk sync --once for {db_path.stem} ended with status {process.returncode}:\n"
                         + tail(db_path.with_suffix(".out")))


def clone(template: Path, db_path: Path, kiosk_id: str) -> None:
    """A kiosk that has pulled the catalog: a copy of `template` (a kiosk that did), with its own id."""
    conn = sqlite3.connect(template)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    shutil.copy(template, db_path)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'kiosk_id'", [kiosk_id])
    conn.close()


def lend_and_return(db_path: Path, kiosk_id: str, count: int, items: range, patrons: int, seed: int) -> set[str]:
    """`count` loan records on a kiosk, as its patrons make them (lent, renewed, returned); its items.

    Each record carries its own time, a few minutes after the one before.
    """
    db = store.init_db(db_path) if not Path(db_path).exists() else store.open_db(db_path)
    rng = random.Random(seed)
    on_loan: dict[str, tuple[str, str, int]] = {}  # item -> (patron, due, renewals)
    shelf = [f"B{n}" for n in items]
    free = list(shelf)
    at = START
    with db.atomic():
        for _ in range(count):
            at += timedelta(seconds=rng.uniform(20, 300))
            stamp = {"at": at.isoformat(timespec="milliseconds"), "trusted": True, "boot_id": "bench",
                     "monotonic": (at - START).total_seconds()}
            due = (at + timedelta(days=14)).date().isoformat()
            draw = rng.random()
            item = rng.choice(list(on_loan)) if on_loan else None
            if item and (draw < 0.4 or not free):
                patron, was_due, _ = on_loan.pop(item)
                free.append(item)
                record = Record("return", patron_id=patron, item_id=item, details={"from_patron": patron,
                                                                                    "due": was_due})
            elif item and draw < 0.5 and on_loan[item][2] < 2:
                patron, _, renewals = on_loan[item]
                on_loan[item] = (patron, due, renewals + 1)
                record = Record("renew", patron_id=patron, item_id=item, details={"due": due, "renewals": renewals + 1})
            else:
                item = free.pop(rng.randrange(len(free)))
                patron = f"P{rng.randrange(patrons)}"
                on_loan[item] = (patron, due, 0)
                record = Record("checkout", patron_id=patron, item_id=item, details={"due": due})
            store.append_records(db, kiosk_id, [record], stamp)
    db.conn.close()
    return set(shelf)


def kiosk_loans(db_path: Path, item_ids: set[str]) -> set[tuple]:
    """(item, patron, due) of the loans a kiosk holds of these items."""
    conn = sqlite3.connect(db_path)
    rows = conn.execute("SELECT item_id, patron_id, due FROM loans").fetchall()
    conn.close()
    return {tuple(r) for r in rows if r[0] in item_ids}


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"
