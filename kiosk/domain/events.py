"""What goes into the state machine (events) and what comes out (effects).

Events carry the facts the machine needs, already looked up at the edge
(`kiosk.app` resolves a UID against the local store), so that `step` stays a
pure function of (state, event, now). Effects are instructions carried out at
the edge, in order; every `Record` is committed before any other effect of
the same step is carried out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Union, get_args

from kiosk.domain.model import Item, Loan, Patron
from kiosk.domain.records import Record
from kiosk.domain.view import Book, Message, Progress, Slide, View

# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Tap:
    """A tag read by the reader. `found` is whatever the UID belongs to.

    For a patron, `loans` are that patron's current loans and `progress`
    their reading (students only); for an item, `loan` is its current loan
    if it has one and `also` the books its readers also read, on the shelf
    here.
    """

    uid: str
    found: Patron | Item | None = None
    loan: Loan | None = None
    loans: tuple[Loan, ...] = ()
    progress: Progress | None = None
    also: tuple[Book, ...] = ()


@dataclass(frozen=True)
class Scan:
    """A barcode typed by a USB scanner. Barcodes only ever name items."""

    barcode: str
    found: Item | None = None
    loan: Loan | None = None
    also: tuple[Book, ...] = ()


Button = Literal["done", "help", "lang", "find", "inventory", "receive", "sync", "exit", "back"]
BUTTONS: tuple[str, ...] = get_args(Button)
# Buttons that may also be wired to a GPIO pin (`button_NAME` in the config's [hardware.pins]).
HARDWARE_BUTTONS: tuple[str, ...] = ("done", "help", "lang")


@dataclass(frozen=True)
class Press:
    """A button: a hardware button or a touch button on the screen."""

    button: Button


@dataclass(frozen=True)
class Type:
    """Letters typed into Find a book; `query` is the search text after them, `found` its answers."""

    text: str
    query: str
    found: tuple[Book, ...] = ()


@dataclass(frozen=True)
class ShowcaseUpdate:
    """New slides for the idle screen's rotation (after a sync or a session)."""

    slides: tuple[Slide, ...]


@dataclass(frozen=True)
class Tick:
    """The clock moved on; timeouts are checked here."""


@dataclass(frozen=True)
class ReaderFault:
    """The reader stopped answering (or was unplugged)."""

    detail: str = ""


@dataclass(frozen=True)
class ReaderOk:
    """The reader answers again."""


@dataclass(frozen=True)
class Door:
    """The cabinet door switch changed."""

    is_open: bool


@dataclass(frozen=True)
class StatusUpdate:
    """Facts about the kiosk for the idle and staff screens (from the edge)."""

    online: bool | None = None
    pending: int | None = None
    last_sync: str | None = None
    clock_trusted: bool | None = None
    ip: str | None = None


Event = Union[Tap, Scan, Press, Type, ShowcaseUpdate, Tick, ReaderFault, ReaderOk, Door, StatusUpdate]

# ---------------------------------------------------------------- effects

OutcomeKind = Literal["session_start", "session_end", "checkout", "return", "renew", "refused", "unknown_tag",
                      "ignored", "staff", "info"]
OUTCOMES: tuple[str, ...] = get_args(OutcomeKind)
# Every reason an outcome may give (`reason` of kiosk simulate's JSON line): refusals and blocks
# (`kiosk.domain.rules.REASONS`), and the rest by outcome: docs/design.md has the table.
Reason = Literal[
    "card_blocked", "card_expired", "blocked_overdue", "limit_reached", "item_unavailable", "on_loan_to_other",
    "renewal_limit",  # refused (and session_start for the blocks)
    "same_card", "done", "timeout",  # session_end
    "debounce", "not_here", "bad_read",  # ignored
    "inventory", "receive", "inventory_done", "receive_done", "sync", "exit", "find",  # staff, and find a book
    "belongs_here", "belongs_elsewhere", "on_loan_returned", "unavailable",  # info: a book counted in a stocktake
    "rehomed", "already_here",  # info: a book received
    "not_on_loan", "found_lost", "found_withdrawn", "help", "language", "reader_fault", "reader_ok", "door_open",
    "door_closed", "door_open_too_long", "item_details", "already_yours",  # info
    "unknown_tag",
]
REASONS: tuple[str, ...] = get_args(Reason)
LightPattern = Literal["ok", "error", "fault", "off"]
SoundName = Literal["ok", "error", "librarian"]


def _check(value, allowed: tuple[str, ...], what: str) -> None:
    # The names are the contract of kiosk simulate's JSON lines: a new one is added above, never made up.
    if value not in allowed:
        raise ValueError(f"{value!r} is not a known {what} ({', '.join(allowed)})")


@dataclass(frozen=True)
class Light:
    """LED pattern: ok (green), error (red), fault (blinking red), off."""

    pattern: LightPattern

    def __post_init__(self):
        _check(self.pattern, get_args(LightPattern), "light pattern")


@dataclass(frozen=True)
class Sound:
    """Buzzer: ok (done: one short beep), error (refused: two beeps), librarian (see the librarian: one long)."""

    name: SoundName

    def __post_init__(self):
        _check(self.name, get_args(SoundName), "sound")


@dataclass(frozen=True)
class Unlock:
    """Open the cabinet lock for `seconds`; it always closes again."""

    seconds: float


@dataclass(frozen=True)
class Show:
    """Draw this view."""

    view: View


@dataclass(frozen=True)
class SyncNow:
    """Ask the sync process to sync now (staff screen)."""


@dataclass(frozen=True)
class ExitKiosk:
    """Leave the kiosk program for maintenance (librarian only, logged)."""


@dataclass(frozen=True)
class Outcome:
    """What one event amounted to, for the scripted kiosk's JSON line.

    `kind` is one of `OUTCOMES`; `reason` is a stable code for refusals
    (and for info outcomes); `message` is what the screen says; `progress`
    a student's reading, on a session's start and end; `also` the books
    recommended after a checkout.
    """

    kind: OutcomeKind
    message: Message
    reason: Reason | None = None
    patron_id: str | None = None
    item_id: str | None = None
    due: date | None = None
    flagged: bool = False
    progress: Progress | None = None
    also: tuple[Book, ...] = ()

    def __post_init__(self):
        _check(self.kind, OUTCOMES, "outcome")
        if self.reason is not None:
            _check(self.reason, REASONS, "reason")


Effect = Union[Record, Light, Sound, Unlock, Show, SyncNow, ExitKiosk, Outcome]
