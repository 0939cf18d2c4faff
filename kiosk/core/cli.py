"""Command-line pieces shared by `kiosk` and `kiosk-central`: errors as one line, the import commands."""

from __future__ import annotations

from typing import Callable

import click

from kiosk.domain.catalog import ITEM_COLUMNS, PATRON_COLUMNS
from kiosk.domain.errors import KioskError


class Refused(click.ClickException):
    """A command that cannot do what was asked: one line `PROG: message` on stderr, then `status`."""

    def __init__(self, prog: str, message: str, status: int = 1):
        super().__init__(message)
        self.prog = prog
        self.exit_code = status

    def show(self, file=None) -> None:
        click.echo(f"{self.prog}: {self.format_message()}", err=True, file=file)


class CommandLine(click.Group):
    """A group of commands whose library errors (`KioskError`) end the program as a `Refused` line.

    Subclasses name their program in `prog`.
    """

    prog = "kiosk"

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KioskError as exc:
            raise Refused(self.prog, str(exc)) from None


def import_commands(group: click.Group, do_import: Callable[..., int], db_option) -> None:
    """`import patrons CSV` and `import items CSV` under `group`; `do_import(kind, csv_path, db_path)` counts.

    `db_option` may add options of its own: they are passed on to `do_import` by name.
    """
    for kind, columns in (("patrons", PATRON_COLUMNS), ("items", ITEM_COLUMNS)):
        def command(csv_path, db_path, kind=kind, **options):
            count = do_import(kind, csv_path, db_path, **options)
            click.echo(f"{csv_path}: imported {count} {kind}")

        command.__doc__ = f"{kind.capitalize()}: {','.join(columns)}."
        group.command(name=kind)(
            click.argument("csv_path", metavar="CSV", type=click.Path(dir_okay=False))(db_option(command)))
