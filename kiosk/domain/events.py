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
from kiosk.domain.view import Message, View

# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Tap:
    """A tag read by the reader. `found` is whatever the UID belongs to.

    For a patron, `loans` are that patron's current loans; for an item,
    `loan` is its current loan if it has one.
    """

    uid: str
    found: Patron | Item | None = None
    loan: Loan | None = None
    loans: tuple[Loan, ...] = ()


@dataclass(frozen=True)
class Scan:
    """A barcode typed by a USB scanner. Barcodes only ever name items."""

    barcode: str
    found: Item | None = None
    loan: Loan | None = None


Button = Literal["done", "help", "lang", "inventory", "receive", "sync", "exit", "back"]
BUTTONS: tuple[str, ...] = get_args(Button)
# Buttons that may also be wired to a GPIO pin (`button_NAME` in the config's [hardware.pins]).
HARDWARE_BUTTONS: tuple[str, ...] = ("done", "help", "lang")


@dataclass(frozen=True)
class Press:
    """A button: a hardware button or a touch button on the screen."""

    button: Button


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


Event = Union[Tap, Scan, Press, Tick, ReaderFault, ReaderOk, Door, StatusUpdate]

# ---------------------------------------------------------------- effects

OUTCOMES = (
    "session_start",
    "session_end",
    "checkout",
    "return",
    "renew",
    "refused",
    "unknown_tag",
    "ignored",
    "staff",
    "info",
)


@dataclass(frozen=True)
class Light:
    """LED pattern: ok (green), error (red), fault (blinking red), off."""

    pattern: str


@dataclass(frozen=True)
class Sound:
    """Buzzer: ok (one short beep) or error (two beeps)."""

    name: str


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
    (and for info outcomes); `message` is what the screen says.
    """

    kind: str
    message: Message
    reason: str | None = None
    patron_id: str | None = None
    item_id: str | None = None
    due: date | None = None
    flagged: bool = False


Effect = Union[Record, Light, Sound, Unlock, Show, SyncNow, ExitKiosk, Outcome]
