"""Sizes and places: type and buttons in millimetres of the panel, every button in a place of its own.

A 320x240 panel is usually 2.8", 480x320 3.5" and 800x480 7": their pixels
are 5.7, 6.6 and 5.2 to the millimetre. Touch buttons are at least 9 mm
high for a child's fingertip; no text is under `MIN_TEXT_MM` (what a child
reads at arm's length), so type is set in millimetres of the panel and never
smaller than the 800x480 design scaled down.

Buttons keep their places: the bottom row has one slot per button of every
screen (`BOTTOM`), and a screen that does not offer a button leaves its slot
empty, so Help is never where Done was. Staff actions have a row of their
own above it (`STAFF`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import pygame

SIZES = ((320, 240), (480, 320), (800, 480))
PANEL_INCHES = {(320, 240): 2.8, (480, 320): 3.5, (800, 480): 7.0}
DEFAULT_PX_PER_MM = 6.0  # an unknown panel: a little denser than the 7" display, so nothing gets too small
BUTTON_MM = 9.5
MIN_BUTTON_MM = 9.0
# A key of Find a book's keyboard: its touch target (the key and half the gap around it) at least 7 x 7 mm,
# the least the BBC's mobile accessibility guidelines allow ("the smallest average finger", and more so for
# young users); a phone's 5 mm keys were too small for a child's finger.
KEY_MM = 7.0
MIN_TEXT_MM = 2.8

# Each font: its size on the 800x480 design (px) and the least it may be (mm on the panel).
FONTS = {"heading": (42, 4.0), "body": (30, 3.3), "small": (22, MIN_TEXT_MM), "bar": (24, MIN_TEXT_MM),
         "label": (30, 3.3)}

BOTTOM = ("lang", "help", "find", "done")
STAFF = ("inventory", "receive", "sync", "exit")


@dataclass(frozen=True)
class Layout:
    """Where things go on a `width` x `height` screen."""

    width: int
    height: int

    @cached_property
    def px_per_mm(self) -> float:
        inches = PANEL_INCHES.get((self.width, self.height))
        if inches is None:
            return DEFAULT_PX_PER_MM
        return math.hypot(self.width, self.height) / (inches * 25.4)

    @cached_property
    def scale(self) -> float:
        return min(self.width / 800, self.height / 480)

    @cached_property
    def pad(self) -> int:
        return max(4, round(12 * self.scale))

    @cached_property
    def gap(self) -> int:
        return max(2, self.pad // 2)

    @cached_property
    def wide(self) -> bool:
        """Room for two columns (the idle screen's showcase beside the instruction)."""
        return self.width >= 440

    @cached_property
    def min_text_px(self) -> int:
        return math.ceil(MIN_TEXT_MM * self.px_per_mm)

    @cached_property
    def button_height(self) -> int:
        """A touch button's height: `BUTTON_MM` on the panel."""
        return math.ceil(BUTTON_MM * self.px_per_mm)

    @cached_property
    def button_row(self) -> int:
        """A row of touch buttons, with a gap above and below."""
        return self.button_height + 2 * self.gap

    @cached_property
    def key_size(self) -> int:
        """The least step from one key of the keyboard to the next: `KEY_MM` on the panel."""
        return math.ceil(KEY_MM * self.px_per_mm)

    def font_sizes(self) -> dict[str, int]:
        """Pixel size of each font: the design scaled, but never under its millimetres."""
        return self._font_sizes

    @cached_property
    def _font_sizes(self) -> dict[str, int]:
        return {name: max(round(px * self.scale), math.ceil(mm * self.px_per_mm)) for name, (px, mm) in FONTS.items()}

    def slot(self, name: str, row_top: int) -> pygame.Rect | None:
        """The fixed place of button `name` in the bottom row or the staff row starting at `row_top`."""
        names = BOTTOM if name in BOTTOM else STAFF if name in STAFF else None
        if names is None:
            return None
        gap = self.gap
        width = (self.width - gap * (len(names) + 1)) // len(names)
        return pygame.Rect(gap + names.index(name) * (width + gap), row_top + gap, width, self.button_height)
