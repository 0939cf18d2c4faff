"""The `kiosk` command: a thin shell over the library.

Each command opens the database, calls one library function and turns the
library's errors into a clear message and a non-zero exit status. Other
parts register their commands here with `main.add_command`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable

import click

from kiosk import store
from kiosk.config import load_config
from kiosk.errors import KioskError

DB = click.option("--db", "db_path", required=True, type=click.Path(dir_okay=False), help="The kiosk's database file.")
CONFIG = click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
                      help="The config file (default: $KIOSK_CONFIG, else built-in defaults).")


def fail(message: str, status: int = 1):
    click.echo(f"kiosk: {message}", err=True)
    sys.exit(status)


def open_existing(db_path: str):
    if not Path(db_path).exists():
        fail(f"{db_path}: no such database (create it with: kiosk init --db {db_path})")
    return store.open_db(db_path)


class KioskGroup(click.Group):
    """Turns any `KioskError` into a one-line message and exit status 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KioskError as exc:
            fail(str(exc))


@click.group(cls=KioskGroup)
@click.version_option(package_name="library-kiosk", prog_name="kiosk")
def main():
    """The school library self-service kiosk."""


@main.command()
@DB
@click.option("--kiosk-id", default=None, help="This kiosk's id (letters, digits, '-', '_', '.').")
def init(db_path, kiosk_id):
    """Create the kiosk's database (safe to run again)."""
    if kiosk_id is not None and (not kiosk_id or not all(c.isalnum() or c in "-_." for c in kiosk_id)):
        fail(f"--kiosk-id {kiosk_id!r}: use letters, digits, '-', '_' or '.'")
    db = store.init_db(db_path, kiosk_id)
    click.echo(f"{db_path}: ready for kiosk {store.get_meta(db, 'kiosk_id') or '(id set at first run)'}")


def import_commands(group: click.Group, do_import: Callable[[str, str, str], int], db_option) -> None:
    """`import patrons CSV` and `import items CSV` under `group`; `do_import(kind, csv_path, db_path)` counts."""
    for kind, columns in (("patrons", "id,name,type,class,card_uid,status,expires"),
                          ("items", "id,title,author,call_number,tag_uid,barcode,home,status")):
        def command(csv_path, db_path, kind=kind):
            count = do_import(kind, csv_path, db_path)
            click.echo(f"{csv_path}: imported {count} {kind}")

        command.__doc__ = f"{kind.capitalize()}: {columns}."
        group.command(name=kind)(
            click.argument("csv_path", metavar="CSV", type=click.Path(dir_okay=False))(db_option(command)))


def read_csv(csv_path: str) -> str:
    """A CSV file's text; `KioskError` naming the file when it cannot be read."""
    from kiosk import imports

    try:
        data = Path(csv_path).read_bytes()
    except OSError as exc:
        raise KioskError(f"{csv_path}: cannot read: {exc.strerror}") from None
    return imports.decode(data, csv_path)


@main.group(name="import", cls=KioskGroup)
def import_():
    """Import patrons or items from CSV (all or nothing)."""


def _import(kind: str, csv_path: str, db_path: str) -> int:
    from kiosk import imports

    db = open_existing(db_path)
    text = read_csv(csv_path)
    patron_uids, item_uids = store.uids_in_use(db, "patrons"), store.uids_in_use(db, "items")
    if kind == "patrons":
        rows = imports.parse_patrons(text, csv_path, patron_uids, item_uids)
        store.save_patrons(db, rows)
    else:
        rows = imports.parse_items(text, csv_path, item_uids, patron_uids)
        store.save_items(db, rows)
    return len(rows)


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
    db = store.init_db(db_path)
    try:
        handle = sys.stdin if script == "-" else open(script, encoding="utf-8")
    except OSError as exc:
        fail(f"{script}: cannot read: {exc.strerror}")
    clock = ScriptClock(db)
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
    """Push the log to the central store and pull changes (SIGUSR1: sync now)."""
    import logging
    import signal
    import threading

    from sync.client import SyncClient

    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    config = load_config(config_path)
    client = SyncClient(store.init_db(db_path), config)
    if once:
        ok = client.run_once()
        facts = store.status(client.db)
        click.echo(f"pending {facts['pending']}, last sync {facts['last_sync'] or 'never'}"
                   + (f", error: {facts['last_error']}" if facts["last_error"] else ""))
        sys.exit(0 if ok and facts["pending"] == 0 else 1)
    stop, wake = threading.Event(), threading.Event()

    def end(*_):
        stop.set()
        wake.set()

    signal.signal(signal.SIGTERM, end)
    signal.signal(signal.SIGINT, end)
    signal.signal(signal.SIGUSR1, lambda *_: wake.set())
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
    try:
        status = run(config, db_path, config_path=config_path, window=window, demo=demo)
    except MissingHardware as exc:
        fail(str(exc), MISSING_HARDWARE_EXIT)
    sys.exit(status)


from kiosk.hwtest import hw_test  # noqa: E402

main.add_command(hw_test)


if __name__ == "__main__":
    main()
