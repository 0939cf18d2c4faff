"""Command-line pieces shared by `kiosk` and `kiosk-central`: the import commands."""

from __future__ import annotations

from typing import Callable

import click

from kiosk.domain.catalog import ITEM_COLUMNS, PATRON_COLUMNS


def import_commands(group: click.Group, do_import: Callable[[str, str, str], tuple[int, str]], db_option) -> None:
    """`import patrons CSV` and `import items CSV` under `group`.

    `do_import(kind, csv_path, db_path)` returns the rows imported and the
    encoding the file was read in (UTF-8, GBK or GB18030), which is said.
    """
    for kind, columns in (("patrons", PATRON_COLUMNS), ("items", ITEM_COLUMNS)):
        def command(csv_path, db_path, kind=kind):
            count, encoding = do_import(kind, csv_path, db_path)
            click.echo(f"{csv_path}: imported {count} {kind} (read as {encoding})")

        command.__doc__ = f"{kind.capitalize()}: {','.join(columns)}."
        group.command(name=kind)(
            click.argument("csv_path", metavar="CSV", type=click.Path(dir_okay=False))(db_option(command)))
