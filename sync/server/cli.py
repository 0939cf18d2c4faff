"""The `kiosk-central` command: serve the central store and look after it.

A thin shell like `kiosk`: each command opens the database, calls one
function of `sync.server.db`, and turns its errors into one clear line and
a non-zero exit status.
"""

from __future__ import annotations

import json
import os
import sys
from typing import NoReturn
import unicodedata
from datetime import date
from pathlib import Path

import click

from kiosk.core.cli import CommandLine, Refused, import_commands
from kiosk.core.csvfile import csv_text, read_csv
from sync.server import db as store
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


def must_exist(db_path: str) -> None:
    """A command that only reads or trims a store does not make one: a SQLite file that is not there is named."""
    if not store.is_postgres(db_path) and not Path(db_path).exists():
        fail(f"{db_path}: no such database")


class CentralGroup(CommandLine):
    prog = "kiosk-central"


@click.group(cls=CentralGroup)
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
def serve(db_path, host, port, ssl_certfile, ssl_keyfile, workers):
    """Run the central store's web service."""
    import uvicorn

    from sync.server.app import DB_VARIABLE, create_app

    if bool(ssl_certfile) != bool(ssl_keyfile):
        fail("--ssl-certfile and --ssl-keyfile go together")
    if workers > 1 and not store.is_postgres(db_path):
        fail("--workers: a SQLite store is written by one process; several need a PostgreSQL store")
    # Access logs would show request lines only; tokens travel in headers and
    # are never logged.
    options = dict(host=host, port=port, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile, log_level="info",
                   access_log=True)
    if workers == 1:
        uvicorn.run(create_app(db_path), **options)
        return
    # Each worker process builds its own application from the URL (uvicorn imports the factory by name).
    os.environ[DB_VARIABLE] = db_path
    uvicorn.run("sync.server.app:app_from_environment", factory=True, workers=workers, **options)


@main.command(name="add-kiosk")
@click.argument("kiosk_id", metavar="ID")
@db_and_school
@click.option("--name", default=None, help="A name for people (default: the id).")
@click.option("--new-token", is_flag=True, help="Give an existing kiosk a new token (the old one stops working).")
def add_kiosk(kiosk_id, db_path, school, name, new_token):
    """Register a kiosk of a school; prints its token once (put it in the kiosk's [central] token)."""
    db = store.open_db(db_path, school)
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
    from sync.server.auth import hash_password

    if not name.strip() or len(name) > 64:
        fail(f"librarian name {name!r}: 1 to 64 characters")
    if district and school:
        fail("a librarian belongs to one school (--school) or to the district (--district), not both")
    db = store.open_db(db_path, school, district=district)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        fail("the password needs at least 8 characters")
    store.add_librarian(db, name, hash_password(password), db.school_id)
    click.echo(f"librarian {name}: password set")


@main.group(name="import", cls=CentralGroup)
def import_():
    """Import patrons or items from CSV (all or nothing); kiosks get them at their next sync."""


def _import(kind: str, csv_path: str, db_path: str, school: str | None = None) -> int:
    text = read_csv(csv_path)
    return store.import_csv(store.open_db(db_path, school), kind, text, csv_path)


import_commands(import_, _import, db_and_school)
district_commands(main, DB)


@main.command()
@db_and_school
@click.option("--before", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Forget loans returned before this day (default: the start of this term).")
def forget(db_path, school, before):
    """Privacy: returned loans older than the retention lose their link to the student; counts stay."""
    must_exist(db_path)
    day = before.date() if before else store.term_start(date.today())
    count = store.forget_returned(store.open_db(db_path, school), day)
    click.echo(f"{count} returned loans before {day.isoformat()} kept as counts only")


REPORTS = ("loans", "overdue", "log", "flagged")


@main.command()
@click.argument("name", type=click.Choice(REPORTS))
@db_and_school
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header line.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day overdue days are counted to (default: today).")
def report(name, db_path, school, as_json, as_csv, today):
    """Reports: current loans, overdue loans, the merged log, flagged records."""
    if as_json and as_csv:
        fail("choose one of --json and --csv")
    must_exist(db_path)
    db = store.open_db(db_path, school)
    day = today.date() if today else date.today()
    if name == "loans":
        rows = store.current_loans(db, day)
    elif name == "overdue":
        rows = [r for r in store.current_loans(db, day) if r["days_overdue"] > 0]
    elif name == "log":
        rows = list(store.log_records(db))
    else:
        rows = store.flagged(db)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False, default=str))
    elif as_csv:
        click.echo(csv_text(rows), nl=False)
    else:
        click.echo(table(rows) if rows else f"no {name}")


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


if __name__ == "__main__":
    main()
