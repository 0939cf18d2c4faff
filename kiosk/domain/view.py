"""The view model: everything a screen needs to draw, and nothing else.

The state machine produces a `View`; the pygame screen (`kiosk.screen`) and
the scripted kiosk's JSON lines only read it. Texts are `Message`s: an
English template (also the gettext msgid) and its parameters, translated at
the edge into the kiosk's language (`kiosk.i18n.render`). A parameter may be
a `date` (shown as a child reads a date) or a `Message` (translated too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, get_args

Screen = Literal["idle", "result", "session", "summary", "staff", "inventory", "receive", "help", "fault", "find"]
SCREENS: tuple[str, ...] = get_args(Screen)
Tone = Literal["neutral", "ok", "error", "info"]
TONES: tuple[str, ...] = get_args(Tone)
LANGUAGES = ("en", "zh_CN")  # the kiosk's languages, the first the default; gettext catalogs in kiosk/locale


def N_(template: str) -> str:
    """Mark a string for translation without translating it (gettext's N_)."""
    return template


# What each button says (the language button names the other language instead).
BUTTON_LABELS = {
    "done": N_("Done"),
    "help": N_("Help"),
    "lang": N_("Language"),
    "find": N_("Find a book"),
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
        """The text in the language `translate` stands for (dates left as ISO; see `kiosk.i18n.render`)."""
        params = {k: v.render(translate) if isinstance(v, Message) else v for k, v in self.params.items()}
        return translate(self.template).format(**params)


@dataclass(frozen=True)
class LoanLine:
    """One book on a patron's list."""

    item_id: str
    title: str
    due: date
    overdue: bool = False
    new: bool = False  # borrowed or renewed in this session


@dataclass(frozen=True)
class Progress:
    """A student's reading this term and, at a class cabinet, the class's this month."""

    term_books: int
    term_goal: int
    class_name: str = ""
    class_books: int | None = None
    class_goal: int | None = None

    def as_json(self) -> dict:
        """The `progress` object of an outcome line (the contract: `term_books`, `term_goal`)."""
        out: dict[str, Any] = {"term_books": self.term_books, "term_goal": self.term_goal}
        if self.class_goal is not None:
            out.update(class_name=self.class_name, class_books=self.class_books, class_goal=self.class_goal)
        return out


@dataclass(frozen=True)
class Book:
    """A book shown on a slide, in a recommendation or a search answer.

    `call_number` colours its drawn spine; `answer` says where it is or when
    it is back (find a book).
    """

    title: str
    author: str = ""
    call_number: str = ""
    answer: Message | None = None
    available: bool = True


@dataclass(frozen=True)
class Slide:
    """One card of the idle screen's quiet rotation.

    `kind` is "new" (new books here), "popular" (most borrowed this month),
    "class" (a class's progress toward its monthly goal) or "stars" (first
    names of keen readers, only where the school turned names on).
    """

    kind: str
    heading: Message
    books: tuple[Book, ...] = ()
    names: tuple[str, ...] = ()
    count: int = 0
    goal: int = 0


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

    `screen` is one of `SCREENS`. `heading` is the screen's one big
    instruction or greeting, `picture` the drawn picture beside it (card,
    book, books, help, reader, search: `kiosk.screen.pictures`). `tone`
    colours the outcome banner and is always paired with an icon and a
    word, never colour alone. `buttons` are the touch buttons
    to offer (names from `kiosk.domain.events.BUTTONS`); each has its own
    fixed place on every screen. `can_do` says what a stopped patron may
    still do; `progress` and `praise` are the student's reading; `also` the
    titles recommended after a checkout; `slides` the idle rotation; `query`
    and `found` the find-a-book search.
    """

    screen: Screen
    language: str
    kiosk_name: str
    now: datetime
    status: KioskStatus = KioskStatus()
    tone: Tone = "neutral"
    heading: Message | None = None
    picture: str = ""
    message: Message | None = None
    patron_name: str | None = None
    loans: tuple[LoanLine, ...] = ()
    allowance: int | None = None
    blocked: Message | None = None
    can_do: Message | None = None
    progress: Progress | None = None
    praise: Message | None = None
    also: tuple[Book, ...] = ()
    slides: tuple[Slide, ...] = ()
    query: str = ""
    found: tuple[Book, ...] = ()
    shelf: Message | str = ""  # inventory and receive: the home counted or received for, as people call it
    counted: int = 0  # inventory and receive: books counted or received so far
    unknown_tags: tuple[tuple[str, str], ...] = ()  # (uid, ISO time)
    buttons: tuple[str, ...] = ()
    can_exit: bool = False

    def __post_init__(self):
        # The names are contracts (kiosk simulate's `screen`, the screen's colours): never made up.
        if self.screen not in SCREENS or self.tone not in TONES:
            raise ValueError(f"no screen {self.screen!r} or tone {self.tone!r}")