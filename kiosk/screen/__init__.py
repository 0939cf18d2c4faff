"""The kiosk's screen, drawn with pygame-ce from the view model alone.

`Screen.show(view)` remembers what to show; `Screen.draw(now)` draws it when
something changed, or only the clock when its minute changed, and returns
the rectangles drawn (an empty list when nothing was). No circulation logic
lives here: every word and number comes from `kiosk.view.View`.

Every text is placed in a box and fitted to it: wrapped at words (at
characters for Chinese), and shortened with an ellipsis when it still does
not fit. `Screen.boxes` keeps what was drawn where, so tests can check that
no text overflows. Tones are never colour alone: each banner has an icon and
a word.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

import pygame

from kiosk.errors import ConfigError
from kiosk.i18n import translator  # noqa: F401  (re-exported: Kiosk(translate=translator))
from kiosk.version import version
from kiosk.view import N_, View

SIZES = ((320, 240), (480, 320), (800, 480))

# High contrast: near-black on white, and strong tone colours with white text.
INK = (20, 20, 20)
PAPER = (255, 255, 255)
MUTED = (90, 90, 90)
BAR = (24, 48, 96)
TONES = {
    "ok": ((0, 110, 50), "ok", N_("OK")),
    "error": ((170, 20, 20), "cross", N_("Sorry")),
    "info": ((20, 70, 150), "info", N_("Note")),
    "neutral": ((60, 60, 60), "info", N_("Note")),
}
LATE = (170, 20, 20)
BUTTON = (230, 230, 230)

BUTTON_LABELS = {
    "done": N_("Done"),
    "help": N_("Help"),
    "inventory": N_("Inventory"),
    "sync": N_("Sync now"),
    "exit": N_("Exit"),
    "back": N_("Back"),
}
LANGUAGE_LABEL = {"en": "中文", "zh_CN": "English"}  # the button names the other language, in that language

KNOWN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


def find_cjk_font(configured: Optional[str] = None) -> str:
    """A font file with Chinese characters: `configured`, else one fontconfig or a known path finds."""
    if configured:
        if not Path(configured).is_file():
            raise ConfigError(f"[screen] font: no such font file: {configured}")
        return configured
    if shutil.which("fc-match"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True,
                                   timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        # fc-match always answers something; only a CJK family will do.
        if found and any(name in found.lower() for name in ("wqy", "cjk", "han", "droidsansfallback")):
            return found
    for path in KNOWN_FONTS:
        if os.path.isfile(path):
            return path
    raise ConfigError("no font with Chinese characters found: install one (on Debian and Raspberry Pi OS: "
                      "sudo apt install fonts-wqy-microhei) or name a font file in [screen] font")


@dataclass(frozen=True)
class Box:
    """One text drawn: the box it had to fit and where its lines landed."""

    box: pygame.Rect
    drawn: tuple[pygame.Rect, ...]
    text: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    """Sizes for one screen size, scaled from 800x480."""

    width: int
    height: int

    @property
    def scale(self) -> float:
        return min(self.width / 800, self.height / 480)

    @property
    def pad(self) -> int:
        return max(4, round(12 * self.scale))

    @property
    def top(self) -> int:
        return max(28, round(54 * self.scale))

    @property
    def buttons(self) -> int:
        # A child's fingertip: about 10 mm on the 7" 800x480 and 3.5" 480x320
        # displays, 9 mm on a 2.8" 320x240.
        return max(50, round(self.height * 0.14))

    def font_sizes(self) -> dict[str, int]:
        s = self.scale
        return {"heading": max(20, round(42 * s)), "body": max(16, round(30 * s)),
                "small": max(13, round(22 * s)), "bar": max(14, round(24 * s))}


def _is_wide(char: str) -> bool:
    return ord(char) >= 0x2E80  # CJK and beyond: a line may break between any two


def _tokens(text: str) -> list[str]:
    """Words (with their trailing space) and single CJK characters."""
    out, word = [], ""
    for char in text:
        if _is_wide(char):
            if word:
                out.append(word)
                word = ""
            out.append(char)
        elif char == " ":
            out.append(word + " ")
            word = ""
        else:
            word += char
    if word:
        out.append(word)
    return out


def fit_text(font: pygame.font.Font, text: str, width: int, max_lines: int) -> list[str]:
    """`text` in at most `max_lines` lines no wider than `width`; the last shortened with … if needed."""
    lines: list[str] = []
    line = ""
    for token in _tokens(text):
        candidate = line + token
        if font.size(candidate.rstrip())[0] <= width:
            line = candidate
            continue
        if line:
            lines.append(line.rstrip())
        line = token
        while font.size(line.rstrip())[0] > width:  # one word wider than the box: break it
            cut = len(line) - 1
            while cut > 1 and font.size(line[:cut])[0] > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _ellipsis(font, lines[-1] + "…", width)
    return lines


def _ellipsis(font: pygame.font.Font, text: str, width: int) -> str:
    body = text[:-1] if text.endswith("…") else text
    if font.size(body + "…")[0] <= width and not text.endswith("…"):
        return text
    while body and font.size(body.rstrip() + "…")[0] > width:
        body = body[:-1]
    return body.rstrip() + "…"


class Screen:
    """Draws `View`s onto a pygame surface (the display, or any surface in tests)."""

    def __init__(self, surface: pygame.Surface, translate: Callable[[str], Callable[[str], str]], *,
                 font_path: Optional[str] = None, legend: Sequence[tuple[str, str]] = ()):
        if not pygame.font.get_init():
            pygame.font.init()
        self.surface = surface
        self.translate = translate
        self.layout = Layout(*surface.get_size())
        path = font_path or find_cjk_font()
        self.fonts = {name: pygame.font.Font(path, size) for name, size in self.layout.font_sizes().items()}
        self.legend = tuple(legend)
        self.view: Optional[View] = None
        self.dirty = True
        self.clock_text = ""
        self.clock_rect = pygame.Rect(0, 0, 0, 0)
        self.boxes: list[Box] = []
        self.targets: dict[str, pygame.Rect] = {}

    # ------------------------------------------------------------ the interface

    def show(self, view: View) -> None:
        """Remember `view`; it is drawn at the next `draw` if it differs from the one shown."""
        if self.view is None or replace(view, now=self.view.now) != self.view:
            self.dirty = True
        self.view = view

    def draw(self, now: datetime) -> list[pygame.Rect]:
        """Draw what changed; returns the rectangles drawn ([] when nothing did)."""
        if self.view is None:
            return []
        if self.dirty:
            self._draw_all(now)
            self.dirty = False
            return [self.surface.get_rect()]
        text = now.strftime("%H:%M")
        if text != self.clock_text:
            return [self._draw_clock(now)]
        return []

    def hit(self, pos: tuple[int, int]) -> Optional[str]:
        """The touch button under `pos`, if any."""
        for name, rect in self.targets.items():
            if rect.collidepoint(pos):
                return name
        return None

    # ------------------------------------------------------------ drawing

    def _t(self, template: str) -> str:
        return self.translate(self.view.language)(template)

    def _text(self, message) -> str:
        return message.render(self.translate(self.view.language)) if message is not None else ""

    def _put(self, text: str, font: str, box: pygame.Rect, *, color=INK, max_lines: int = 1,
             align: str = "left") -> pygame.Rect:
        """Fit `text` into `box` and draw it; returns the area used."""
        f = self.fonts[font]
        lines = fit_text(f, text, box.width, max(1, min(max_lines, box.height // f.get_linesize() or 1)))
        drawn = []
        y = box.top
        for line in lines:
            image = f.render(line, True, color)
            rect = image.get_rect(top=y)
            if align == "center":
                rect.centerx = box.centerx
            elif align == "right":
                rect.right = box.right
            else:
                rect.left = box.left
            self.surface.blit(image, rect)
            drawn.append(rect)
            y += f.get_linesize()
        self.boxes.append(Box(pygame.Rect(box), tuple(drawn), text, tuple(lines)))
        used = pygame.Rect(box.left, box.top, box.width, y - box.top)
        return used

    def _draw_all(self, now: datetime) -> None:
        v, L = self.view, self.layout
        self.boxes, self.targets = [], {}
        self.surface.fill(PAPER)
        self._draw_bar(now)
        body = pygame.Rect(L.pad, L.top + L.pad, L.width - 2 * L.pad,
                           L.height - L.top - L.buttons - 2 * L.pad - self._legend_height())
        {"idle": self._idle, "result": self._result, "session": self._session, "summary": self._summary,
         "staff": self._staff, "help": self._help, "fault": self._fault}.get(v.screen, self._result)(body)
        self._draw_legend()
        self._draw_buttons()

    def _draw_bar(self, now: datetime) -> None:
        v, L = self.view, self.layout
        pygame.draw.rect(self.surface, BAR, (0, 0, L.width, L.top))
        f = self.fonts["bar"]
        y = (L.top - f.get_linesize()) // 2
        clock_w = f.size("88:88")[0]
        self._draw_clock(now)
        # The online mark: a filled dot and a word; a hollow ring and a word.
        word = self._t(N_("Online")) if v.status.online else self._t(N_("Offline"))
        pending = v.status.pending
        mark = word + (" · " + self._t(N_("{count} waiting")).format(count=pending) if pending else "")
        mark_w = min(f.size(mark)[0], L.width // 2 - clock_w)
        mark_box = pygame.Rect(L.width - L.pad - clock_w - L.pad - mark_w, y, mark_w, f.get_linesize())
        radius = max(4, f.get_linesize() // 4)
        centre = (mark_box.left - radius - L.pad // 2, L.top // 2)
        if v.status.online:
            pygame.draw.circle(self.surface, (120, 220, 140), centre, radius)
        else:
            pygame.draw.circle(self.surface, (250, 200, 80), centre, radius, width=max(2, radius // 2))
        self._put(mark, "bar", mark_box, color=PAPER, align="right")
        name_box = pygame.Rect(L.pad, y, centre[0] - radius - 2 * L.pad, f.get_linesize())
        self._put(v.kiosk_name, "bar", name_box, color=PAPER)

    def _draw_clock(self, now: datetime) -> pygame.Rect:
        L, f = self.layout, self.fonts["bar"]
        self.clock_text = now.strftime("%H:%M")
        width = f.size("88:88")[0]
        rect = pygame.Rect(L.width - L.pad - width, (L.top - f.get_linesize()) // 2, width, f.get_linesize())
        self.surface.fill(BAR, rect)
        self.boxes = [b for b in self.boxes if b.box != rect]
        self._put(self.clock_text, "bar", rect, color=PAPER, align="right")
        self.clock_rect = rect
        return rect

    def _legend_height(self) -> int:
        return self.fonts["small"].get_linesize() + self.layout.pad // 2 if self.legend else 0

    def _draw_legend(self) -> None:
        if not self.legend:
            return
        L = self.layout
        f = self.fonts["small"]
        top = L.height - L.buttons - self._legend_height()
        text = "  ".join(f"{key}: {meaning}" for key, meaning in self.legend)
        self._put(text, "small", pygame.Rect(L.pad, top, L.width - 2 * L.pad, f.get_linesize()), color=MUTED)

    def _draw_buttons(self) -> None:
        v, L = self.view, self.layout
        names = [b for b in v.buttons if b in BUTTON_LABELS or b == "lang"]
        if not names:
            return
        top = L.height - L.buttons
        gap = L.pad // 2
        width = (L.width - gap * (len(names) + 1)) // len(names)
        for index, name in enumerate(names):
            rect = pygame.Rect(gap + index * (width + gap), top + gap, width, L.buttons - 2 * gap)
            pygame.draw.rect(self.surface, BUTTON, rect, border_radius=max(4, gap))
            pygame.draw.rect(self.surface, INK, rect, width=2, border_radius=max(4, gap))
            label = LANGUAGE_LABEL.get(v.language, "中文") if name == "lang" else self._t(BUTTON_LABELS[name])
            f = self.fonts["body"] if self.fonts["body"].size(label)[0] <= rect.width - gap else self.fonts["small"]
            font = "body" if f is self.fonts["body"] else "small"
            inner = rect.inflate(-gap, 0)
            inner.height = f.get_linesize()
            inner.centery = rect.centery
            self._put(label, font, inner, align="center")
            self.targets[name] = rect

    def _banner(self, box: pygame.Rect, tone: str, text: str, max_lines: int = 3) -> pygame.Rect:
        """A coloured band with an icon and a word, then the message in white."""
        colour, icon, word = TONES.get(tone, TONES["neutral"])
        f = self.fonts["body"]
        pad = self.layout.pad
        lines = len(fit_text(f, text, box.width - 3 * pad - f.get_linesize() * 2, max_lines)) if text else 0
        height = min(box.height, pad * 2 + f.get_linesize() * (1 + lines))
        band = pygame.Rect(box.left, box.top, box.width, height)
        pygame.draw.rect(self.surface, colour, band, border_radius=pad)
        size = f.get_linesize() * 2 - pad
        icon_rect = pygame.Rect(band.left + pad, band.top + pad, size, size)
        self._icon(icon, icon_rect)
        inner = pygame.Rect(icon_rect.right + pad, band.top + pad, band.right - icon_rect.right - 2 * pad,
                            band.height - 2 * pad)
        used = self._put(self._t(word), "body", pygame.Rect(inner.left, inner.top, inner.width, f.get_linesize()),
                         color=PAPER)
        if text:
            self._put(text, "body", pygame.Rect(inner.left, used.bottom, inner.width, inner.bottom - used.bottom),
                      color=PAPER, max_lines=max_lines)
        return band

    def _icon(self, kind: str, rect: pygame.Rect) -> None:
        width = max(3, rect.width // 8)
        pygame.draw.circle(self.surface, PAPER, rect.center, rect.width // 2, width=width)
        inset = rect.inflate(-rect.width // 2, -rect.height // 2)
        if kind == "ok":
            pygame.draw.lines(self.surface, PAPER, False, [(inset.left, inset.centery),
                                                           (inset.left + inset.width // 3, inset.bottom),
                                                           (inset.right, inset.top)], width)
        elif kind == "cross":
            pygame.draw.line(self.surface, PAPER, inset.topleft, inset.bottomright, width)
            pygame.draw.line(self.surface, PAPER, inset.bottomleft, inset.topright, width)
        else:
            pygame.draw.line(self.surface, PAPER, (inset.centerx, inset.top + inset.height // 3),
                             (inset.centerx, inset.bottom), width)
            pygame.draw.circle(self.surface, PAPER, (inset.centerx, inset.top), width)

    # ------------------------------------------------------------ the screens

    def _idle(self, box: pygame.Rect) -> None:
        v = self.view
        f = self.fonts["heading"]
        heading = pygame.Rect(box.left, box.top + box.height // 6, box.width, f.get_linesize() * 3)
        self._put(self._text(v.heading), "heading", heading, max_lines=3, align="center")
        if v.message is not None:
            self._put(self._text(v.message), "body", pygame.Rect(box.left, heading.bottom, box.width,
                                                                 box.bottom - heading.bottom), max_lines=2,
                      align="center")

    def _result(self, box: pygame.Rect) -> None:
        v = self.view
        self._banner(box, v.tone, self._text(v.message or v.heading), max_lines=4)

    def _session(self, box: pygame.Rect) -> None:
        v = self.view
        top = self._heading(box)
        if v.message is not None:
            band = self._banner(pygame.Rect(box.left, top, box.width, box.bottom - top), v.tone,
                                self._text(v.message), max_lines=2)
            top = band.bottom + self.layout.pad // 2
        if v.blocked is not None:
            used = self._put(self._text(v.blocked), "small", pygame.Rect(box.left, top, box.width, box.bottom - top),
                             color=LATE, max_lines=2)
            top = used.bottom
        if v.allowance is not None:
            text = self._t(N_("You may borrow {count} more.")).format(count=v.allowance)
            used = self._put(text, "small", pygame.Rect(box.left, top, box.width, box.bottom - top))
            top = used.bottom
        self._loans(pygame.Rect(box.left, top, box.width, box.bottom - top))

    def _summary(self, box: pygame.Rect) -> None:
        v = self.view
        top = self._heading(box)
        band = self._banner(pygame.Rect(box.left, top, box.width, box.bottom - top), v.tone, self._text(v.message),
                            max_lines=2)
        self._loans(pygame.Rect(box.left, band.bottom + self.layout.pad // 2, box.width,
                                box.bottom - band.bottom - self.layout.pad // 2))

    def _heading(self, box: pygame.Rect) -> int:
        f = self.fonts["heading"]
        used = self._put(self._text(self.view.heading), "heading",
                         pygame.Rect(box.left, box.top, box.width, f.get_linesize()))
        return used.bottom + self.layout.pad // 2

    def _loans(self, box: pygame.Rect) -> None:
        """One line a book: title, due date; a late one in red with the word "late" too."""
        v, f = self.view, self.fonts["small"]
        height = f.get_linesize()
        rows = max(0, box.height // height)
        loans = list(v.loans)
        if not rows or not loans:
            return
        if len(loans) > rows:
            shown, more = loans[:rows - 1], len(loans) - (rows - 1)
        else:
            shown, more = loans, 0
        date_w = f.size("8888-88-88 " + self._t(N_("LATE")))[0]
        for index, loan in enumerate(shown):
            y = box.top + index * height
            colour = LATE if loan.overdue else INK
            due = loan.due.isoformat() + (" " + self._t(N_("LATE")) if loan.overdue else "")
            mark = "★ " if loan.new else "• "
            self._put(mark + loan.title, "small", pygame.Rect(box.left, y, box.width - date_w - 8, height), color=colour)
            self._put(due, "small", pygame.Rect(box.right - date_w, y, date_w, height), color=colour, align="right")
        if more:
            self._put(self._t(N_("and {count} more")).format(count=more), "small",
                      pygame.Rect(box.left, box.top + len(shown) * height, box.width, height), color=MUTED)

    def _staff(self, box: pygame.Rect) -> None:
        v, f = self.view, self.fonts["small"]
        top = self._heading(box)
        if v.message is not None:
            band = self._banner(pygame.Rect(box.left, top, box.width, box.bottom - top), v.tone, self._text(v.message),
                                max_lines=1)
            top = band.bottom + self.layout.pad // 2
        s = v.status
        facts = [
            self._t(N_("Inventory: {count} books seen")).format(count=v.inventory_count) if v.inventory else None,
            self._t(N_("Records waiting to sync: {count}")).format(count=s.pending),
            self._t(N_("Last sync: {when}")).format(when=s.last_sync or self._t(N_("never"))),
            self._t(N_("Clock: synced")) if s.clock_trusted else self._t(N_("Clock: not synced")),
            self._t(N_("Reader: working")) if s.reader_ok else self._t(N_("Reader: not working")),
            f"library-kiosk {version()}",  # a name and a number: the same in every language
        ]
        if v.can_exit:
            facts.append(self._t(N_("Exit closes the kiosk for maintenance; it is logged.")))
        if v.unknown_tags:
            tags = ", ".join(uid for uid, _ in v.unknown_tags)
            facts.append(self._t(N_("Unknown tags: {tags}")).format(tags=tags))
        for fact in facts:
            if fact is None or top + f.get_linesize() > box.bottom:
                continue
            used = self._put(fact, "small", pygame.Rect(box.left, top, box.width, f.get_linesize()))
            top = used.bottom

    def _help(self, box: pygame.Rect) -> None:
        v = self.view
        top = self._heading(box)
        self._put(self._text(v.message), "body", pygame.Rect(box.left, top, box.width, box.bottom - top), max_lines=6)

    def _fault(self, box: pygame.Rect) -> None:
        self._banner(box, "error", self._text(self.view.heading), max_lines=4)


def overflowing(boxes: Iterable[Box], screen: pygame.Rect) -> list[str]:
    """Texts drawn outside their box or the screen (for tests and the gallery)."""
    bad = []
    for b in boxes:
        for rect in b.drawn:
            if not b.box.inflate(2, 2).contains(rect) or not screen.contains(rect):
                bad.append(f"{b.text!r} drawn at {tuple(rect)} outside {tuple(b.box)}")
    return bad
