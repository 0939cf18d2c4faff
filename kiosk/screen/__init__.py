"""The kiosk's screen, drawn with pygame-ce from the view model alone.

`Screen.show(view)` remembers what to show; `Screen.draw(now)` draws it when
it changed, the clock when its minute changed, and the page that takes turns
(the idle screen's slides, the staff screen's status on a small panel) when
its turn came (`ROTATE_SECONDS`), and returns the rectangles drawn: an
empty list when nothing was. No circulation logic lives here: every word and
number comes from `kiosk.domain.view.View`; every picture is drawn by the
program (`kiosk.screen.pictures`).

Each screen has one big instruction or greeting with its picture; buttons
keep their places on every screen (`kiosk.screen.layout`). Every text is
fitted to a box (`kiosk.screen.text`): only titles and names are ever
shortened, never an instruction. `Screen.boxes` keeps what was drawn where,
in which size, and `Screen.problems()` names any text outside its box or the
screen, on top of another, cut short or under the least size, for the tests
and the gallery.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable, Optional, Sequence, Union

import pygame

from kiosk.domain.view import BUTTON_LABELS, N_, Message, View
from kiosk.i18n import render, shown_params, translator
from kiosk.screen import pictures
from kiosk.screen.fonts import find_cjk_font
from kiosk.screen.layout import SIZES, STAFF, Layout
from kiosk.screen.text import ELLIPSIS, fit_template, fit_text, tokens, wrap

__all__ = ["SIZES", "Screen", "find_cjk_font", "translator", "fit_text"]

# High contrast: near-black on white, strong tone colours under white text.
INK = (20, 20, 20)
PAPER = (255, 255, 255)
MUTED = (80, 80, 80)
BAR = (24, 48, 96)
LATE = (170, 20, 20)
BUTTON = (232, 236, 242)
PANEL = (240, 244, 250)
ACCENT = (24, 48, 96)
ONLINE = (120, 220, 140)
OFFLINE = (250, 200, 80)
GOOD = (0, 110, 50)
TONES = {  # colour, icon, word
    "ok": ((0, 110, 50), "ok", N_("OK")),
    "error": ((170, 20, 20), "cross", N_("Sorry")),
    "info": ((20, 70, 150), "info", N_("Note")),
    "neutral": ((60, 60, 60), "info", N_("Note")),
}
LANGUAGE_LABEL = {"en": "中文", "zh_CN": "English"}  # the button names the other language, in that language
ROTATE_SECONDS = 8  # the pages of a screen (the idle screen's slides) take turns this often

Content = Union[str, Message, None]


def line_height(font: pygame.font.Font) -> int:
    """The step from one line to the next: some sizes draw a pixel taller than their line spacing."""
    return max(font.get_linesize(), font.get_height(), font.size("Ag")[1])


@dataclass(frozen=True)
class Box:
    """One text drawn: the box it had to fit, where its lines landed, its colour and size.

    `cut` is true when the text itself was cut short with an ellipsis (not
    just a title in it); only texts that `may_cut` (titles, names) may be.
    """

    box: pygame.Rect
    drawn: tuple[pygame.Rect, ...]
    text: str
    lines: tuple[str, ...]
    color: tuple[int, int, int]
    size: int = 0
    cut: bool = False
    may_cut: bool = False


@dataclass(frozen=True)
class Icon:
    """A drawn picture that carries a meaning beside colour: ok, cross, info, warn, star, card, book, ..."""

    kind: str
    rect: pygame.Rect


class Screen:
    """Draws `View`s onto a pygame surface (the display, or any surface in tests).

    `reader` says where the card reader is, seen from the screen (below,
    left or right): the idle screen's arrow points there.
    """

    def __init__(self, surface: pygame.Surface, translate: Callable[[str], Callable[[str], str]] = translator, *,
                 font_path: Optional[str] = None, legend: Sequence[tuple[str, str]] = (), reader: str = "below"):
        if not pygame.font.get_init():
            pygame.font.init()
        self.surface = surface
        self.translate = translate
        self.layout = Layout(*surface.get_size())
        self.font_path = font_path or find_cjk_font()
        self._by_size: dict[int, pygame.font.Font] = {}
        self.fonts = {name: self._font(size) for name, size in self.layout.font_sizes().items()}
        self.legend = tuple(legend)
        self.reader = reader
        self.view: Optional[View] = None
        self.dirty = True
        self.clock_shown: Optional[str] = None
        self.clock_rect = pygame.Rect(0, 0, 0, 0)
        # Where pages take turns, and each page's drawing (a function of the screen and that rectangle).
        self.slide_rect: Optional[pygame.Rect] = None
        self.slide_shown: Optional[int] = None
        self.pages: list[Callable[["Screen", pygame.Rect], None]] = []
        self.boxes: list[Box] = []
        self.icons: list[Icon] = []
        self.targets: dict[str, pygame.Rect] = {}
        # A frame draws the same few texts and pictures again and again: fitted lines, rendered lines and
        # drawn pictures are kept, so a frame costs blits, not layout (bench/idle_rotation.py).
        self._fitted: dict[tuple, tuple[str, list[str]]] = {}
        self._rendered: dict[tuple, pygame.Surface] = {}
        self._pictures: dict[tuple, pygame.Surface] = {}

    # ------------------------------------------------------------ the interface

    def show(self, view: View) -> None:
        """Remember `view`; it is drawn at the next `draw` if it differs from the one shown (the time aside)."""
        if self.view is None or replace(view, now=self.view.now) != self.view:
            self.dirty = True
        self.view = view

    def draw(self, now: datetime) -> list[pygame.Rect]:
        """Draw what changed since the last call; returns the rectangles drawn ([] when nothing did)."""
        if self.view is None:
            return []
        if self.dirty:
            self._draw_all(now)
            self.dirty = False
            return [self.surface.get_rect()]
        rects = []
        if self.slide_rect is not None and self.slide_index(now) != self.slide_shown:
            self.boxes = [b for b in self.boxes if not self.slide_rect.contains(b.box)]
            self.icons = [i for i in self.icons if not self.slide_rect.contains(i.rect)]
            self.surface.fill(PAPER, self.slide_rect)
            self.slide_shown = self.slide_index(now)
            self.pages[self.slide_shown](self, self.slide_rect)
            rects.append(pygame.Rect(self.slide_rect))
        if self.clock_rect.width and now.strftime("%H:%M") != self.clock_shown:
            rects.append(self._draw_clock(now))
        return rects

    def slide_index(self, now: datetime) -> int:
        """Which of the pages has its turn at `now`."""
        return int(now.timestamp() // ROTATE_SECONDS) % max(1, len(self.pages))

    def hit(self, pos: tuple[int, int]) -> Optional[str]:
        """The name of the touch target under `pos` ('done', 'help', 'lang', 'key:A', ...), else None."""
        for name, rect in self.targets.items():
            if rect.collidepoint(pos):
                return name
        return None

    def problems(self) -> list[str]:
        """Texts outside their box or the screen, over another text or a button, cut short or too small."""
        screen = self.surface.get_rect()
        least = self.layout.min_text_px
        bad = []
        for b in self.boxes:
            if not screen.contains(b.box):
                bad.append(f"{b.text!r}: box {tuple(b.box)} is not on the screen")
            bad += [f"{b.text!r} drawn at {tuple(r)} outside its box {tuple(b.box)}" for r in b.drawn
                    if not b.box.contains(r)]
            if b.cut and not b.may_cut:
                bad.append(f"{b.text!r} was cut short: {b.lines[-1]!r}")
            if b.size < least:
                bad.append(f"{b.text!r} is {b.size} px, under the least {least} px")
        drawn = [(b, rect) for b in self.boxes for rect in b.drawn]
        for i, (b1, r1) in enumerate(drawn):
            for b2, r2 in drawn[i + 1:]:
                if b1 is not b2 and r1.colliderect(r2):
                    bad.append(f"{b1.text!r} at {tuple(r1)} overlaps {b2.text!r} at {tuple(r2)}")
            for name, button in self.targets.items():
                if r1.colliderect(button) and not button.contains(r1):
                    bad.append(f"{b1.text!r} at {tuple(r1)} overlaps the {name} button")
        return bad

    # ------------------------------------------------------------ text

    def _font(self, size: int) -> pygame.font.Font:
        if size not in self._by_size:
            self._by_size[size] = pygame.font.Font(self.font_path, size)
        return self._by_size[size]

    def t(self, template: str) -> str:
        """`template` in the view's language."""
        return self.translate(self.view.language)(template)

    def text(self, message: Optional[Message]) -> str:
        """`message` as shown, dates in words (the same text `kiosk simulate` prints)."""
        return render(message, self.view.language, self.translate) if message is not None else ""

    def put(self, content: Content, font: Union[str, pygame.font.Font], box: pygame.Rect, *, color=INK,
            max_lines: int = 1, align: str = "left", may_cut: bool = False) -> pygame.Rect:
        """Fit `content` (a text or a `Message`) into `box` and draw it; returns the area used.

        A message's longest parameter (a title, a name) is shortened first;
        only `may_cut` texts may lose their end.
        """
        f = self.fonts[font] if isinstance(font, str) else font
        room = min(max_lines, box.height // line_height(f))
        if content is None or room < 1:
            return pygame.Rect(box.left, box.top, box.width, 0)
        text, lines = self._fit(f, content, box.width, room)
        drawn, y = [], box.top
        for line in lines:
            image = self._render(f, line, color)
            rect = image.get_rect(top=y)
            setattr(rect, {"center": "centerx", "right": "right"}.get(align, "left"),
                    {"center": box.centerx, "right": box.right}.get(align, box.left))
            self.surface.blit(image, rect)
            drawn.append(rect)
            y += line_height(f)
        cut = bool(lines) and lines[-1].endswith(ELLIPSIS) and not text.replace("\n", " ").endswith(ELLIPSIS)
        self.boxes.append(Box(pygame.Rect(box), tuple(drawn), text, tuple(lines), color, self._size_of(f), cut,
                              may_cut))
        return pygame.Rect(box.left, box.top, box.width, y - box.top)

    def _fit(self, f: pygame.font.Font, content: Content, width: int, room: int) -> tuple[str, list[str]]:
        """`content` as shown and its lines in `room` lines of `width` (kept for the next frame)."""
        if isinstance(content, Message):
            language = self.view.language
            template = self.translate(language)(content.template)
            params = shown_params(content.params, language, self.translate)
            key = (self._size_of(f), template, tuple(sorted(params.items())), width, room)
            if key not in self._fitted:
                self._fitted[key] = fit_template(f, template, params, width, room)
        else:
            key = (self._size_of(f), content, width, room)
            if key not in self._fitted:
                self._fitted[key] = (content, fit_text(f, content, width, room))
        if len(self._fitted) > 4000:
            self._fitted.clear()
        return self._fitted[key]

    def _render(self, f: pygame.font.Font, line: str, color) -> pygame.Surface:
        key = (self._size_of(f), line, tuple(color))
        if key not in self._rendered:
            if len(self._rendered) > 2000:
                self._rendered.clear()
            self._rendered[key] = f.render(line, True, color)
        return self._rendered[key]

    def _size_of(self, font: pygame.font.Font) -> int:
        return next(size for size, f in self._by_size.items() if f is font)

    def lines_needed(self, content: Content, font: str, width: int, max_lines: int) -> int:
        """How many lines `content` takes in `width`, at most `max_lines`."""
        if content is None:
            return 0
        return len(self._fit(self.fonts[font], content, width, max_lines)[1])

    def icon(self, kind: str, rect: pygame.Rect, colour=PAPER, **extra) -> None:
        """Draw a picture or an outcome icon and note it (tests check that colour is never alone)."""
        key = (kind, rect.size, tuple(colour), extra.get("direction"))
        if key not in self._pictures:
            image = pygame.Surface(rect.size, pygame.SRCALPHA)
            place = image.get_rect()
            if kind in pictures.PICTURES:
                pictures.PICTURES[kind](image, place, colour)
            elif kind == "arrow":
                pictures.arrow(image, place, colour, extra.get("direction", "down"))
            else:
                pictures.tone(image, kind, place, colour)
            self._pictures[key] = image
        self.surface.blit(self._pictures[key], rect)
        self.icons.append(Icon(kind, pygame.Rect(rect)))

    # ------------------------------------------------------------ frame

    def _draw_all(self, now: datetime) -> None:
        from kiosk.screen import patron, scenes, tasks

        v, L = self.view, self.layout
        self.boxes, self.icons, self.targets = [], [], {}
        self.slide_rect, self.slide_shown, self.pages = None, None, []
        self.surface.fill(PAPER)
        # Find a book has neither the bar nor the legend: its keys need the height (scenes.key_cells).
        framed = v.screen != "find"
        self.clock_rect = pygame.Rect(0, 0, 0, 0)
        if framed:
            self._draw_bar(now)
        staff_row = L.button_row if v.screen == "staff" else 0
        bottom = L.height - L.button_row - staff_row - (self._legend_height() if framed else 0)
        top = self.bar_height() + L.pad if framed else L.pad
        body = pygame.Rect(L.pad, top, L.width - 2 * L.pad, bottom - top - L.pad)
        draw = {"idle": scenes.idle, "session": patron.session, "summary": patron.summary, "staff": patron.staff,
                "inventory": tasks.task, "receive": tasks.task, "help": scenes.help_screen, "fault": scenes.fault,
                "find": scenes.find}.get(v.screen, scenes.result)
        draw(self, body)
        if self.slide_rect is not None:
            self.slide_shown = self.slide_index(now)
            self.pages[self.slide_shown](self, self.slide_rect)
        if framed:
            self._draw_legend(bottom)
        self._draw_buttons(L.height - L.button_row - staff_row)

    def bar_height(self) -> int:
        return line_height(self.fonts["bar"]) + self.layout.pad

    def _draw_bar(self, now: datetime) -> None:
        """The kiosk's name; online or offline (a dot or a ring, and the word), records waiting; the clock."""
        v, L, f = self.view, self.layout, self.fonts["bar"]
        height = self.bar_height()
        pygame.draw.rect(self.surface, BAR, (0, 0, L.width, height))
        y = (height - line_height(f)) // 2
        self._draw_clock(now)
        word = self.t(N_("Online")) if v.status.online else self.t(N_("Offline"))
        if v.status.pending:
            word += " · " + self.t(N_("{count} waiting")).format(count=v.status.pending)
        width = min(f.size(word)[0], self.clock_rect.left - L.pad - L.width // 3)
        mark_box = pygame.Rect(self.clock_rect.left - L.pad - width, y, width, line_height(f))
        self.put(word, f, mark_box, color=PAPER, align="right", may_cut=True)
        radius = max(4, line_height(f) // 4)
        centre = (mark_box.left - radius - L.gap, height // 2)
        if v.status.online:
            pygame.draw.circle(self.surface, ONLINE, centre, radius)
        else:
            pygame.draw.circle(self.surface, OFFLINE, centre, radius, width=max(2, radius // 2))
        name_box = pygame.Rect(L.pad, y, centre[0] - radius - 2 * L.pad, line_height(f))
        self.put(v.kiosk_name, f, name_box, color=PAPER, may_cut=True)

    def _draw_clock(self, now: datetime) -> pygame.Rect:
        L, f = self.layout, self.fonts["bar"]
        self.clock_shown = now.strftime("%H:%M")
        width = f.size("88:88")[0]
        rect = pygame.Rect(L.width - L.pad - width, (self.bar_height() - line_height(f)) // 2, width, line_height(f))
        self.surface.fill(BAR, rect)
        self.boxes = [b for b in self.boxes if b.box != rect]
        self.put(self.clock_shown, f, rect, color=PAPER, align="right")
        self.clock_rect = rect
        return rect

    def _legend_height(self) -> int:
        if not self.legend:
            return 0
        lines = self.lines_needed(self._legend_text(), "small", self.layout.width - 2 * self.layout.pad, 2)
        return line_height(self.fonts["small"]) * lines + self.layout.gap

    def _legend_text(self) -> str:
        return "   ".join(f"{key}: {meaning}" for key, meaning in self.legend)

    def _draw_legend(self, top: int) -> None:
        if self.legend:
            L = self.layout
            box = pygame.Rect(L.pad, top, L.width - 2 * L.pad, self._legend_height() - L.gap)
            self.put(self._legend_text(), "small", box, color=MUTED, max_lines=2)

    def _draw_buttons(self, staff_top: int) -> None:
        """Each offered button in its own place; the staff row above the bottom row."""
        v, L = self.view, self.layout
        for name in v.buttons:
            rect = L.slot(name, L.height - L.button_row if name not in STAFF else staff_top)
            if rect is None:
                continue
            gap = L.gap
            pygame.draw.rect(self.surface, BUTTON, rect, border_radius=max(4, gap))
            pygame.draw.rect(self.surface, INK, rect, width=2, border_radius=max(4, gap))
            label = LANGUAGE_LABEL.get(v.language, "中文") if name == "lang" else self.t(BUTTON_LABELS[name])
            self._label(label, rect.inflate(-2 * gap, -2 * gap))
            self.targets[name] = rect

    def _label(self, label: str, inner: pygame.Rect) -> None:
        """A button's label: one line as large as fits, else two lines, never under the least text size."""
        key = ("label", label, inner.size)
        if key not in self._fitted:
            self._fitted[key] = self._label_lines(label, inner)
        f, lines = self._fitted[key]
        box = pygame.Rect(inner.left, 0, inner.width, len(lines) * line_height(f))
        box.centery = inner.centery
        self.put("\n".join(lines), f, box, max_lines=len(lines), align="center")

    def _label_lines(self, label: str, inner: pygame.Rect) -> tuple[pygame.font.Font, list[str]]:
        sizes = self.layout.font_sizes()
        least = self.layout.min_text_px
        for size in range(sizes["label"], least - 1, -1):
            f = self._font(size)
            if f.size(label)[0] <= inner.width:
                lines = [label]
                break
            lines = wrap(f, label, inner.width)
            if len(lines) == 2 and 2 * line_height(f) <= inner.height + 2 and \
                    max(f.size(w.strip())[0] for w in tokens(label)) <= inner.width:
                break
        else:
            f, lines = self._font(least), [label]
        return f, lines
