"""The view model: everything a screen needs to draw, and nothing else.

The state machine produces a `View`; the pygame screen (`kiosk.screen`) and
the scripted kiosk's JSON lines only read it. Texts are `Message`s: an
English template (also the gettext msgid) and its parameters, translated at
the edge into the kiosk's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

SCREENS = ("idle", "result", "session", "summary", "staff", "inventory", "receive", "help", "fault")
TONES = ("neutral", "ok", "error", "info")
LANGUAGES = ("en", "zh_CN")  # the kiosk's languages, the first the default; gettext catalogs in kiosk/locale


def N_(template: str) -> str:
    """Mark a string for translation without translating it (gettext's N_)."""
    return template


# What each button says (the language button names the other language instead).
BUTTON_LABELS = {
    "done": N_("Done"),
    "help": N_("Help"),
    "lang": N_("Language"),
    "inventory": N_("Inventory"),
    "receive": N_("Receive"),
    "sync": N_("Sync now"),
    "exit": N_("Exit"),
    "back": N_("Back"),
}


@dataclass(frozen=True)
class Message:
    """A text to show: `template` is the gettext msgid, `params` fill it."""

    template: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, translate=lambda s: s) -> str:
        """The text in the language `translate` stands for."""
        return translate(self.template).format(**self.params)


@dataclass(frozen=True)
class LoanLine:
    """One book on a patron's list."""

    item_id: str
    title: str
    due: date
    overdue: bool = False
    new: bool = False  # borrowed or renewed in this session


@dataclass(frozen=True)
class KioskStatus:
    """Facts for the idle mark and the staff status screen."""

    online: bool = False
    pending: int = 0
    last_sync: str | None = None
    clock_trusted: bool = False
    reader_ok: bool = True
    ip: str | None = None
    door_open: bool = False


@dataclass(frozen=True)
class View:
    """One screen's content.

    `screen` is one of `SCREENS`. `tone` colours the outcome banner and is
    always paired with a word or icon, never colour alone. `buttons` are the
    touch buttons to offer (names from `kiosk.domain.events.BUTTONS`).
    """

    screen: str
    language: str
    kiosk_name: str
    now: datetime
    status: KioskStatus = KioskStatus()
    tone: str = "neutral"
    heading: Message | None = None
    message: Message | None = None
    patron_name: str | None = None
    loans: tuple[LoanLine, ...] = ()
    allowance: int | None = None
    blocked: Message | None = None
    shelf: str = ""  # inventory and receive: the name of the home counted or received for
    counted: int = 0  # inventory and receive: books counted or received so far
    unknown_tags: tuple[tuple[str, str], ...] = ()  # (uid, ISO time)
    buttons: tuple[str, ...] = ()
    can_exit: bool = False
