"""`kiosk-central add-school`, `migrate`, `move-to` and `restored`: the store's schools, its tables' version, a
school's move, and telling the kiosks of a restore made with PostgreSQL's own tools.

A store with one school never needs these: its commands work as they always
did. A district's store on PostgreSQL holds many schools (db/schools.py).
"""

from __future__ import annotations

import click

from sync.server import db as store


def district_commands(main: click.Group, db_option) -> None:
    """The district's commands under `main`."""

    @main.command(name="add-school")
    @click.argument("name")
    @db_option
    def add_school(name, db_path):
        """Add a school to the store (its first school takes the name while it holds nothing)."""
        db = store.open_db(db_path, district=True)
        before = store.schools(db)
        school = store.add_school(db, name)
        if any(s["id"] == school for s in before):
            click.echo(f"school {name}: the store's school is called {name} now")
        else:
            click.echo(f"school {name}: added; add its kiosks and librarians with --school {name}")

    @main.command()
    @db_option
    def migrate(db_path):
        """Bring the store's tables to this version (also done when the store is opened); says what changed."""
        for place, names in store.migrate(db_path).items():
            click.echo(f"{place}: {', '.join(names) if names else 'up to date'}")

    @main.command(name="move-to")
    @click.argument("url")
    @db_option
    @click.option("--school", required=True, metavar="NAME", help="The school's name in the district's store.")
    def move_to(url, db_path, school):
        """Move this store's school into the district's store at URL (stop `serve` first); the kiosks follow."""
        counts = store.move_school(store.open_db(db_path), store.init_db(url), school)
        click.echo(f"school {school}: moved into {store.shown(url)}: {counts.get('kiosks', 0)} kiosks,"
                   f" {counts.get('patrons', 0)} patrons, {counts.get('items', 0)} books,"
                   f" {counts.get('log', 0)} log records, {counts.get('loans', 0)} loans")
        click.echo("point each kiosk's [central] url at the district's service and restart its sync;"
                   f" {db_path} is left as it was")

    @main.command()
    @db_option
    def restored(db_path):
        """After pg_restore: a new epoch for every school, so each kiosk sends again what the store lacks."""
        for name, epoch in store.renew_epochs(store.open_db(db_path, district=True)).items():
            click.echo(f"school {name}: epoch {epoch}; at their next sync its kiosks send again what the store"
                       " lacks and pull everything again")
