"""`kiosk-central desk`, `lost` and `settings`: the librarian's desk from the command line.

`desk checkout|return|renew` does what the desk page does and prints the same
JSON object as a line of `kiosk simulate`; a refusal is an outcome (exit 0),
an unknown id or a bad date is one line on stderr (exit 1).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import click

from kiosk.domain.money import money_text, parse_money
from sync.server import db as store
from sync.server import words

DATE = click.DateTime(["%Y-%m-%d"])


def _existing(db_path: str):
    if not store.is_postgres(db_path) and not Path(db_path).exists():
        raise store.CentralError(f"{db_path}: no such database")
    return store.open_db(db_path)


def _english(text: str) -> str:
    return text


def outcome_line(db, outcome: dict) -> dict:
    """A desk outcome as `kiosk simulate` prints it: its words in English, without the facts behind them."""
    item = store.find_item(db, outcome["item"]) if outcome["item"] else None
    patron = store.find_patron(db, outcome["patron"]) if outcome["patron"] else None
    holder = (outcome.get("facts") or {}).get("holder")
    holder_patron = store.find_patron(db, holder) if holder else None
    line = {k: v for k, v in outcome.items() if k != "facts"}
    line["message"] = line["message_en"] = words.desk_message(
        outcome, item.title if item else "", patron.name if patron else "", _english,
        holder_patron.name if holder_patron else (holder or ""))
    return line


def desk_commands(main: click.Group, db_option) -> None:
    """Register `desk`, `lost` and `settings` on the `kiosk-central` group."""

    @main.group(name="desk")
    def desk_group():
        """Lend, take back and renew at the desk, by the kiosks' rules (one JSON line each)."""

    for action, needs_patron in (("checkout", True), ("return", False), ("renew", True)):
        def command(db_path, patron, item, librarian, override, today, due, action=action):
            db = _existing(db_path)
            outcome = store.desk_action(db, action, patron or "", item, librarian=librarian or getpass.getuser(),
                                        override=override or "", today=today.date() if today else None,
                                        due=due.date() if due else None)
            click.echo(json.dumps(outcome_line(db, outcome), ensure_ascii=False))

        command.__doc__ = {"checkout": "Lend a book to a patron.", "return": "Take a book back.",
                           "renew": "Renew a patron's loan of a book."}[action]
        for decorate in reversed([
            desk_group.command(name=action), db_option,
            click.option("--patron", required=needs_patron, help="The patron's id or card UID."),
            click.option("--item", required=True, help="The book's id, barcode or tag UID."),
            click.option("--librarian", default=None, help="Who did it (default: the login name)."),
            click.option("--override", default=None, metavar="REASON",
                         help="Lift a block or a limit once, for this reason."),
            click.option("--today", type=DATE, default=None, help="The day of the action (default: today)."),
            click.option("--due", type=DATE, default=None, help="A due date instead of the rules' one."),
        ]):
            command = decorate(command)

    @main.command()
    @db_option
    @click.option("--item", required=True, help="The book's id, barcode or tag UID.")
    @click.option("--charge", default=None, metavar="AMOUNT",
                  help="Charge this (default: the book's price, else the school's amount for a lost book).")
    @click.option("--damaged", is_flag=True, help="Damaged, not lost: the book goes to repair.")
    @click.option("--librarian", default=None, help="Who did it (default: the login name).")
    def lost(db_path, item, charge, damaged, librarian):
        """Mark a book lost: its loan is closed and the borrower charged."""
        db = _existing(db_path)
        try:
            cents = parse_money(charge, "--charge") if charge is not None else None
        except ValueError as exc:
            raise store.CentralError(str(exc)) from None
        done = store.close_as(db, item, "damaged" if damaged else "lost", librarian=librarian or getpass.getuser(),
                              charge=cents)
        said = f"{done['item']} {done['title']}: {done['status']}"
        if done["patron"]:
            said += f"; the loan of {done['patron']} is closed (record {store.DESK_ID} #{done['record']})"
        if done["charge"]:
            said += f"; charge #{done['charge']} of {money_text(done['amount'])} raised on {done['patron']}"
        click.echo(said)

    @main.command()
    @db_option
    @click.option("--school-name", default=None, help="Printed on overdue lists and slips.")
    @click.option("--timezone", default=None, help="The school's time zone, e.g. Asia/Shanghai.")
    @click.option("--lost-charge", default=None, metavar="AMOUNT", help="Charged for a lost book without a price.")
    @click.option("--charge-limit", default=None, metavar="AMOUNT",
                  help="Unpaid charges above this stop borrowing ('' : never).")
    @click.option("--librarian", default=None, help="Who changed them (default: the login name).")
    def settings(db_path, school_name, timezone, lost_charge, charge_limit, librarian):
        """Show the school's settings, or change them."""
        db = _existing(db_path)
        changes = {k: v for k, v in (("school_name", school_name), ("timezone", timezone),
                                     ("lost_charge", lost_charge), ("charge_limit", charge_limit)) if v is not None}
        if changes:
            store.save_settings(db, librarian or getpass.getuser(), changes)
        for key, value in store.get_settings(db).items():
            click.echo(f"{key} = {value}")
