"""The scripted kiosk's input: one event a line, read one line at a time.

    at 2026-11-23T09:00:00+08:00   set the clock (trusted, as after a time sync)
    at 1970-01-01T00:00:00+00:00 untrusted
                                   set a clock the kiosk cannot trust (a boot with
                                   no real-time clock and no network)
    wait 25                        let time pass (seconds)
    tap 04A1B2C3                   a tag on the reader
    scan 9780141365466             a barcode from the scanner
    press done                     a button (done, help, lang, find, inventory, receive, sync, exit, back)
    type CFZ                       letters typed into Find a book (press find opens it, press done leaves)
    reader fail | reader ok        the reader stops / starts answering
    door open | door close         the cabinet door switch
    # a comment (also after a command)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

from kiosk.domain.errors import BadUid, ScriptError
from kiosk.domain.events import BUTTONS
from kiosk.domain.find import MAX_QUERY
from kiosk.domain.model import normalize_uid

MAX_WAIT = 366 * 24 * 3600


@dataclass(frozen=True)
class Command:
    """One script line: `verb` and its argument, with where it came from."""

    line: int
    text: str
    verb: str
    arg: object = None


def parse_line(number: int, text: str, source: str = "script") -> Command | None:
    """The command on one line, None for a blank or comment line."""
    body = text.split("#", 1)[0].strip()
    if not body:
        return None
    where = f"{source}: line {number}"
    verb, _, arg = body.partition(" ")
    verb, arg = verb.lower(), arg.strip()

    def need(what: str):
        if not arg:
            raise ScriptError(f"{where}: '{verb}' needs {what}: {text.strip()!r}")

    if verb == "at":
        need("a date and time like 2026-11-23T09:00:00+08:00")
        moment, _, trust = arg.partition(" ")
        if trust.strip() not in ("", "untrusted"):
            raise ScriptError(f"{where}: after the time, 'at' takes only 'untrusted', not {trust.strip()!r}")
        try:
            when = datetime.fromisoformat(moment)
        except ValueError:
            raise ScriptError(f"{where}: {moment!r} is not a date and time like 2026-11-23T09:00:00+08:00") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return Command(number, text, "at", (when, trust.strip() != "untrusted"))
    if verb == "wait":
        need("a number of seconds")
        try:
            seconds = float(arg)
        except ValueError:
            raise ScriptError(f"{where}: wait {arg!r} is not a number of seconds") from None
        if not math.isfinite(seconds) or not 0 <= seconds <= MAX_WAIT:
            raise ScriptError(f"{where}: wait {arg!r} must be between 0 and {MAX_WAIT} seconds")
        return Command(number, text, "wait", seconds)
    if verb == "tap":
        need("a tag UID")
        try:
            return Command(number, text, "tap", normalize_uid(arg))
        except BadUid as exc:
            raise ScriptError(f"{where}: {exc}") from None
    if verb == "scan":
        need("a barcode")
        if len(arg) > 64 or not arg.isprintable() or " " in arg:
            raise ScriptError(f"{where}: {arg!r} is not a barcode (up to 64 characters, no spaces)")
        return Command(number, text, "scan", arg)
    if verb == "press":
        need("a button")
        if arg.lower() not in BUTTONS:
            raise ScriptError(f"{where}: no button {arg!r}; buttons are {', '.join(BUTTONS)}")
        return Command(number, text, "press", arg.lower())
    if verb == "type":
        need("the letters to type")
        typed = body.partition(" ")[2].strip()
        if len(typed) > MAX_QUERY or not typed.isprintable():
            raise ScriptError(f"{where}: type {typed!r} must be up to {MAX_QUERY} printable characters")
        return Command(number, text, "type", typed)
    if verb == "reader":
        if arg not in ("fail", "ok"):
            raise ScriptError(f"{where}: 'reader' takes 'fail' or 'ok', not {arg!r}")
        return Command(number, text, "reader", arg)
    if verb == "door":
        if arg not in ("open", "close"):
            raise ScriptError(f"{where}: 'door' takes 'open' or 'close', not {arg!r}")
        return Command(number, text, "door", arg)
    raise ScriptError(f"{where}: unknown command {verb!r}; expected at, wait, tap, scan, press, type, reader, door")
