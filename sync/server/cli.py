"""The `kiosk-central` command: serve the central store and look after it.

A thin shell like `kiosk`: each command opens the database, calls one
function of `sync.server.db`, and turns its errors into one clear line and
a non-zero exit status. Only `kiosk-central init` makes a database (and
`restore` puts a backup in place); every other command refuses a missing one.
"""

from __future__ import annotations

import json
import os
import sys
from typing import NoReturn
import unicodedata
from datetime import date

import click

from kiosk.core.cli import CommandLine, Refused, import_commands, note_db
from kiosk.core.csvfile import csv_text, read_csv_named
from kiosk.domain.model import KIOSK_ID_RULE, is_kiosk_id
from kiosk.domain.text import bad_character
from sync.server import db as store
from sync.server.cli_desk import desk_commands
from sync.server.cli_district import district_commands

DB = click.option("--db", "db_path", required=True, metavar="FILE|URL",
                  help="The central store: a SQLite file, or a postgresql://user@host/dbname URL.")
SCHOOL = click.option("--school", default=None, metavar="NAME",
                      help="The school, in a store that holds several (kiosk-central add-school).")


def db_and_school(command):
    """`--db` and `--school` for a command about one school."""
    return DB(SCHOOL(command))


def fail(message: str, status: int = 1) -> NoReturn:
    """End the command with one line `kiosk-central: message` and `status`."""
    raise Refused("kiosk-central", message, status)


def open_existing(db_path: str, school: str | None = None, district: bool = False):
    """The central store, checked, working in `school` (or the district's accounts); a missing, damaged, foreign
    or newer one ends the command with one line."""
    note_db(store.shown(db_path))
    return store.open_db(db_path, school, district=district)


class CentralGroup(CommandLine):
    prog = "kiosk-central"


@click.group(cls=CentralGroup)
@click.version_option(package_name="library-kiosk", prog_name="kiosk-central")
def main():
    """The library kiosks' central store."""


@main.command()
@DB
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Serve HTTPS with this certificate (PEM, with its chain).")
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The certificate's private key (PEM).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Processes answering requests (PostgreSQL only: a SQLite store has one writer).")
@click.option("--trusted-proxy", "trusted_proxies", multiple=True, metavar="ADDRESS",
              help="A web server in front of the store (an address or a network; repeatable) whose "
                   "X-Forwarded-Proto and X-Forwarded-For are believed.")
@click.option("--max-upload-mb", type=click.FloatRange(min=0.001, max=1024), default=10, show_default=True,
              help="The largest CSV file the import page takes.")
def serve(db_path, host, port, ssl_certfile, ssl_keyfile, workers, trusted_proxies, max_upload_mb):
    """Run the central store's web service."""
    import uvicorn

    from sync.server.app import DB_VARIABLE, SETTINGS_VARIABLE, create_app, settings_for_workers
    from sync.server.settings import Settings

    if bool(ssl_certfile) != bool(ssl_keyfile):
        fail("--ssl-certfile and --ssl-keyfile go together")
    if workers > 1 and not store.is_postgres(db_path):
        fail("--workers: a SQLite store is written by one process; several need a PostgreSQL store")
    try:
        settings = Settings(trusted_proxies=tuple(trusted_proxies), max_upload_mb=max_upload_mb)
    except ValueError as exc:
        fail(str(exc))
    note_db(store.shown(db_path))
    # Access logs would show request lines only; tokens travel in headers and
    # are never logged. Proxy headers are the app's to judge (--trusted-proxy).
    options = dict(host=host, port=port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, log_level="info",
                   access_log=True, proxy_headers=False)
    if workers == 1:
        uvicorn.run(create_app(db_path, settings), **options)
        return
    # Each worker process builds its own application from the URL (uvicorn imports the factory by name).
    os.environ[DB_VARIABLE] = db_path
    os.environ[SETTINGS_VARIABLE] = settings_for_workers(settings)
    uvicorn.run("sync.server.app:app_from_environment", factory=True, workers=workers, **options)


@main.command(name="add-kiosk")
@click.argument("kiosk_id", metavar="ID")
@db_and_school
@click.option("--name", default=None, help="A name for people (default: the id).")
@click.option("--new-token", is_flag=True, help="Give an existing kiosk a new token (the old one stops working).")
def add_kiosk(kiosk_id, db_path, school, name, new_token):
    """Register a kiosk of a school; prints its token once (put it in the kiosk's [central] token)."""
    if not is_kiosk_id(kiosk_id):  # said before the database is even looked at
        fail(f"kiosk id {kiosk_id!r}: use {KIOSK_ID_RULE}")
    db = open_existing(db_path, school)
    token = store.add_kiosk(db, kiosk_id, name, replace=new_token)
    click.echo(token)
    click.echo(f"kiosk {kiosk_id}: token above is shown only now; the store keeps only its hash", err=True)


@main.command(name="add-librarian")
@click.argument("name")
@db_and_school
@click.option("--district", is_flag=True, help="A district account: every school, and the district's statistics.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
def add_librarian(name, db_path, school, district, password_stdin):
    """Add a librarian account of a school (or the district), or set a new password (which ends the old sessions)."""
    from sync.server.auth import hash_password, password_problem

    if district and school:
        fail("a librarian belongs to one school (--school) or to the district (--district), not both")
    db = open_existing(db_path, school, district=district)
    if not name.strip() or len(name) > 64 or bad_character(name):
        fail(f"librarian name {name!r}: 1 to 64 characters, none of them a control character")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, name)
    if problem:
        fail(problem)
    store.add_librarian(db, name, hash_password(password), db.school_id)
    click.echo(f"librarian {name}: password set")


@main.group(name="import", cls=CentralGroup)
def import_():
    """Import patrons or items from CSV (all or nothing); kiosks get them at their next sync."""


def _import(kind: str, csv_path: str, db_path: str, school: str | None = None) -> tuple[int, str]:
    db = open_existing(db_path, school)
    text, encoding = read_csv_named(csv_path)
    return store.import_csv(db, kind, text, csv_path), encoding


import_commands(import_, _import, db_and_school)
district_commands(main, DB)


@main.command()
@db_and_school
@click.option("--before", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Forget loans returned before this day (default: the start of this term).")
def forget(db_path, school, before):
    """Privacy: returned loans older than the retention lose their link to the student; counts stay."""
    db = open_existing(db_path, school)
    day = before.date() if before else store.term_start(db, date.today())
    count = store.forget_returned(db, day)
    click.echo(f"{count} returned loans before {day.isoformat()} kept as counts only")


@main.command()
@DB
def init(db_path):
    """Create the central store's database (safe to run again on it; refuses any other file)."""
    note_db(store.shown(db_path))
    db = store.init_db(db_path)
    click.echo(f"{store.shown(db_path)}: central store ready (epoch {store.epoch(db)})")


@main.command()
@DB
@click.argument("to", type=click.Path(file_okay=True, dir_okay=True))
@click.option("--keep", type=click.IntRange(min=1), default=None,
              help="With a folder: keep only the newest KEEP dated backups there.")
def backup(db_path, to, keep):
    """Copy the database to TO (a new file, or a folder for central-DATE-TIME.db); safe while serving."""
    note_db(db_path)
    click.echo(f"{store.backup(db_path, to, keep)}: backup of {db_path}")


@main.command()
@DB
@click.argument("backup_path", metavar="BACKUP", type=click.Path(dir_okay=False))
def restore(db_path, backup_path):
    """Put BACKUP in place as the database, under a new epoch (stop the service first); the old one is kept aside."""
    note_db(db_path)
    facts = store.restore(db_path, backup_path)
    click.echo(f"{db_path}: restored from {backup_path}, epoch {facts['epoch']}, {facts['records']} records"
               + (f"; the database it replaced is kept as {facts['kept']}" if facts["kept"] else ""))
    for kiosk_id, acked in facts["kiosks"].items():
        click.echo(f"  kiosk {kiosk_id}: the store holds its records up to #{acked}; at its next sync it sends "
                   "the rest again and pulls everything again")


REPORTS = ("loans", "overdue", "log", "flagged", "charges", "stocktake", "homes")


@main.command()
@click.argument("name", type=click.Choice(REPORTS))
@db_and_school
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header line.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day overdue days are counted to (default: today).")
@click.option("--class", "class_name", default=None, help="Loans or overdue loans of this class only.")
@click.option("--home", default=None, help="stocktake: the home whose shelves were counted, like class-3a.")
@click.option("--since", default=None, help="stocktake: the day from which counts are taken, like 2026-11-23.")
def report(name, db_path, school, as_json, as_csv, today, class_name, home, since):
    """Reports: current loans, overdue loans, the merged log, flagged records, charges, a stocktake, the homes."""
    if as_json and as_csv:
        fail("choose one of --json and --csv")
    db = open_existing(db_path, school)
    day = today.date() if today else store.local_today(db)
    if name == "loans":
        rows = store.current_loans(db, day)
    elif name == "overdue":
        rows = [r for r in store.current_loans(db, day) if r["days_overdue"] > 0]
    elif name == "log":
        rows = list(store.log_records(db))
    elif name == "charges":
        rows = store.charges_report(db)
    elif name == "flagged":
        rows = store.flagged(db)
    elif name == "stocktake":
        rows = stocktake_rows(db, home, since)
    else:
        rows = store.homes_report(db)
    if class_name is not None:
        if name not in ("loans", "overdue"):
            fail("--class goes with the loans and overdue reports")
        rows = [r for r in rows if (r["class_name"] or "").casefold() == class_name.strip().casefold()]
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False, default=str))
    elif as_csv:
        columns = {"stocktake": store.REPORT_KEYS, "homes": store.HOME_REPORT_KEYS}.get(name)
        click.echo(csv_text(rows, list(columns) if columns else None), nl=False)
    else:
        click.echo(table(rows) if rows else f"no {name}")


def stocktake_rows(db, home: str | None, since: str | None) -> list[dict]:
    """The stocktake report's rows (`store.REPORT_KEYS`) for `--home` counted since `--since`."""
    if not home or not since:
        fail("report stocktake needs --home (like class-3a) and --since (like 2026-11-23)")
    day = store.parse_day(since)
    if not store.known_home(db, home):
        fail(f"--home {home!r}: no book belongs there and it has no name (see: kiosk-central report homes)")
    return store.reconcile(db, home, day)


def width(text: str) -> int:
    """Columns a terminal gives `text`: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(rows: list[dict]) -> str:
    """Rows as aligned text columns, for a terminal."""
    columns = list(rows[0])
    cells = [[("" if row[c] is None else str(row[c])) for c in columns] for row in rows]
    widths = [max(width(c), *(width(r[i]) for r in cells)) for i, c in enumerate(columns)]

    def line(values):
        return "  ".join(v + " " * (w - width(v)) for v, w in zip(values, widths)).rstrip()

    return "\n".join([line(columns)] + [line(r) for r in cells])


desk_commands(main, DB)


if __name__ == "__main__":
    main()
