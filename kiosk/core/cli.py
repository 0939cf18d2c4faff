"""Command-line pieces shared by `kiosk` and `kiosk-central`: errors as one line, the import commands."""

from __future__ import annotations

import sqlite3
from typing import Callable

import click

from kiosk.core.durable import describe
from kiosk.domain.catalog import ITEM_COLUMNS, PATRON_COLUMNS
from kiosk.domain.errors import KioskError

DB_META = "database"  # the click context's note of the database a command works on, for its error line


class Refused(click.ClickException):
    """A command that cannot do what was asked: one line `PROG: message` on stderr, then `status`."""

    def __init__(self, prog: str, message: str, status: int = 1):
        super().__init__(message)
        self.prog = prog
        self.exit_code = status

    def show(self, file=None) -> None:
        click.echo(f"{self.prog}: {self.format_message()}", err=True, file=file)


def note_db(path) -> None:
    """Name the database the running command works on, for the line a storage error ends it with."""
    click.get_current_context().meta[DB_META] = str(path)


class CommandLine(click.Group):
    """A group of commands whose library errors (`KioskError`) and storage errors end the program as a
    `Refused` line: a full disk or a damaged file is named with the database (`note_db`), never a traceback.

    Subclasses name their program in `prog`.
    """

    prog = "kiosk"

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KioskError as exc:
            raise Refused(self.prog, str(exc)) from None
        except sqlite3.Error as exc:
            raise Refused(self.prog, f"{ctx.meta.get(DB_META, 'the database')}: {describe(exc)}") from None


def import_commands(group: click.Group, do_import: Callable[..., tuple[int, str]], db_option) -> None:
    """`import patrons CSV` and `import items CSV` under `group`.

    `do_import(kind, csv_path, db_path)` returns the rows imported and the
    encoding the file was read in (UTF-8, GBK or GB18030), which is said.
    `db_option` may add options of its own: they are passed on to `do_import` by name.
    """
    for kind, columns in (("patrons", PATRON_COLUMNS), ("items", ITEM_COLUMNS)):
        def command(csv_path, db_path, kind=kind, **options):
            count, encoding = do_import(kind, csv_path, db_path, **options)
            click.echo(f"{csv_path}: imported {count} {kind} (read as {encoding})")

        command.__doc__ = f"{kind.capitalize()}: {','.join(columns)}."
        group.command(name=kind)(
            click.argument("csv_path", metavar="CSV", type=click.Path(dir_okay=False))(db_option(command)))
