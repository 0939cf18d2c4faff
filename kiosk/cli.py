"""The `kiosk` command: a thin shell over the library.

Each command opens the database, calls one library function and turns the
library's errors into a clear message and a non-zero exit status. Only
`kiosk init` (and `kiosk restore`, from the central store) makes a database:
every other command refuses a missing one, so a mistyped --db creates
nothing. Other parts register their commands here with `main.add_command`.
"""

from __future__ import annotations

import json
import sys
from typing import NoReturn
from pathlib import Path

import click

from kiosk import store
from kiosk.config import load_config
from kiosk.core.cli import CommandLine, Refused, import_commands, note_db
from kiosk.core.csvfile import read_csv_named
from kiosk.domain.model import KIOSK_ID_RULE, is_kiosk_id

DB = click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="The kiosk's database file.")
CONFIG = click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                      help="The config file (default: $KIOSK_CONFIG, else built-in defaults).")


def fail(message: str, status: int = 1) -> NoReturn:
    """End the command with one line `kiosk: message` and `status`."""
    raise Refused("kiosk", message, status)


def open_existing(db_path: str, writable: bool = False):
    """The kiosk's database, checked; a missing, damaged or foreign one ends the command with one line."""
    note_db(db_path)
    if not Path(db_path).exists():
        fail(f"{db_path}: no such database (create it with: kiosk init --db {db_path}, or rebuild it from the "
             f"central store with: kiosk restore --db {db_path} --config CONFIG)")
    return store.open_db(db_path, writable=writable)


class KioskGroup(CommandLine):
    prog = "kiosk"


@click.group(cls=KioskGroup)
@click.version_option(package_name="library-kiosk", prog_name="kiosk")
def main():
    """The school library self-service kiosk."""


@main.command()
@DB
@click.option("--kiosk-id", default=None, help="This kiosk's id (letters, digits, '-', '_', '.').")
def init(db_path, kiosk_id):
    """Create the kiosk's database (safe to run again on it; refuses any other file, or a database gone missing)."""
    if kiosk_id is not None and not is_kiosk_id(kiosk_id):
        fail(f"--kiosk-id {kiosk_id!r}: use {KIOSK_ID_RULE}")
    note_db(db_path)
    db = store.init_db(db_path, kiosk_id)
    click.echo(f"{db_path}: ready for kiosk {store.get_meta(db, 'kiosk_id') or '(id set at first run)'}")


@main.group(name="import", cls=KioskGroup)
def import_():
    """Import patrons or items from CSV (all or nothing)."""


def _import(kind: str, csv_path: str, db_path: str) -> tuple[int, str]:
    from kiosk.domain import catalog

    db = open_existing(db_path, writable=True)
    text, encoding = read_csv_named(csv_path)
    patron_uids, item_uids = store.uids_in_use(db, "patrons"), store.uids_in_use(db, "items")
    if kind == "patrons":
        rows = catalog.parse_patrons(text, csv_path, patron_uids, item_uids)
        store.save_patrons(db, rows)
    else:
        rows = catalog.parse_items(text, csv_path, item_uids, patron_uids)
        store.save_items(db, rows)
    return len(rows), encoding


import_commands(import_, _import, DB)


@main.command()
@click.argument("script", type=click.Path(dir_okay=False, allow_dash=True))
@DB
@CONFIG
def simulate(script, db_path, config_path):
    """Run the kiosk headless from a script; one JSON line per outcome."""
    from hardware.fake import FakeLights, FakeLock, FakeSounder
    from kiosk.app import Kiosk, run_script
    from kiosk.clock import ScriptClock

    config = load_config(config_path)
    db = open_existing(db_path, writable=True)
    store.check_not_behind(db, db_path)
    try:
        handle = sys.stdin if script == "-" else open(script, encoding="utf-8")
    except OSError as exc:
        fail(f"{script}: cannot read: {exc.strerror}")
    clock = ScriptClock()
    kiosk = Kiosk(db, config, clock, lights=FakeLights(), sounder=FakeSounder(), lock=FakeLock())

    def emit(outcome: dict) -> None:
        click.echo(json.dumps(outcome, ensure_ascii=False))
        sys.stdout.flush()

    with handle:
        run_script(kiosk, clock, handle, emit, source=script)


@main.command(name="log")
@DB
def log_(db_path):
    """The kiosk's log as JSON lines."""
    db = open_existing(db_path)
    for record in store.iter_log(db):
        click.echo(json.dumps(record, ensure_ascii=False))


@main.command()
@DB
def status(db_path):
    """Counts, pending records, last sync and last error, as JSON."""
    db = open_existing(db_path)
    facts = store.status(db)
    # What stopped `kiosk run` at its last start, and a reader fault: None when all is well.
    facts.update(start_error=store.get_meta(db, "start_error"), reader_fault=store.get_meta(db, "reader_fault"))
    click.echo(json.dumps(facts, ensure_ascii=False, indent=2))


@main.command()
@DB
@CONFIG
@click.option("--once", is_flag=True, help="Push and pull once; exit 0 only if everything was pushed and pulled.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between syncs (default: [central] interval).")
def sync(db_path, config_path, once, interval):
    """Push the log to the central store and pull changes (SIGUSR1: sync now); one process per database."""
    import logging
    import signal
    import threading

    from sync.client import SyncClient
    from sync.lock import SyncLock, SyncRunning, ask_sync_now

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    stop, wake = threading.Event(), threading.Event()

    def end(*_):
        stop.set()
        wake.set()

    # Before the lock is taken: once it is, the staff screen may send SIGUSR1
    # at any moment, and its default action would end the process.
    signal.signal(signal.SIGUSR1, lambda *_: wake.set())
    config = load_config(config_path)
    db = open_existing(db_path, writable=True)
    store.check_not_behind(db, db_path)
    try:
        SyncLock(db_path).acquire()  # held until this process ends
    except SyncRunning as exc:
        ask_sync_now(db_path)
        fail(f"{exc}; it was asked to sync now (SIGUSR1)")
    client = SyncClient(db, config)
    if once:
        ok = client.run_once()
        facts = store.status(client.db)
        click.echo(f"pending {facts['pending']}, last sync {facts['last_sync'] or 'never'}"
                   + (f", error: {facts['last_error']}" if facts["last_error"] else ""))
        sys.exit(0 if ok and facts["pending"] == 0 else 1)
    signal.signal(signal.SIGTERM, end)
    signal.signal(signal.SIGINT, end)
    client.run_forever(interval or config.central.interval, stop, wake)


@main.command(name="run")
@DB
@CONFIG
@click.option("--window", is_flag=True, help="A window instead of full screen (development).")
@click.option("--demo", is_flag=True, help="Keys stand for taps of the demo cards and books (legend on screen).")
def run_(db_path, config_path, window, demo):
    """Run the kiosk: screen, reader, lights, buzzer, buttons and lock.

    Exits 69 when there is no display or no GPIO chip, saying which in one
    line; 64 after a librarian's exit for maintenance.
    """
    import logging
    import os

    from kiosk.run import MISSING_HARDWARE_EXIT, MissingHardware, run

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    config = load_config(config_path)
    config_path = config_path or os.environ.get("KIOSK_CONFIG")
    # Absolute, because importing lgpio moves the process into $LG_WD (and "sync now" runs from there).
    db_path = os.path.abspath(db_path)
    config_path = os.path.abspath(config_path) if config_path else None
    if not Path(db_path).exists() and not store.marker_path(db_path).exists():
        open_existing(db_path)  # a mistyped --db: one line; any other fault shows the out-of-order screen
    try:
        status = run(config, db_path, config_path=config_path, window=window, demo=demo)
    except MissingHardware as exc:
        fail(str(exc), MISSING_HARDWARE_EXIT)
    sys.exit(status)


@main.command()
@DB
@click.option("--config", "config_path", type=click.Path(dir_okay=False), required=True,
              help="The kiosk's config file: its id, and the central store's url and token.")
def restore(db_path, config_path):
    """Rebuild a lost database from the central store: the kiosk's records, catalog, loans and rules."""
    from sync.restore import restore as rebuild

    config = load_config(config_path)
    note_db(db_path)
    facts = rebuild(db_path, config)
    click.echo(f"{db_path}: restored kiosk {facts['kiosk_id']}: {facts['records']} records (numbering on after "
               f"#{facts['last_seq']}), {facts['patrons']} patrons, {facts['items']} items, {facts['loans']} loans")


from kiosk.hwtest import hw_test  # noqa: E402

main.add_command(hw_test)


if __name__ == "__main__":
    main()
