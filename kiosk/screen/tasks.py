"""The staff tasks' screen: a stocktake ("Inventory") or receiving books, with its running count.

Drawn with the screen's own helpers, so its texts are fitted and checked
like every other: the task and its shelf as the heading, the count in large
type, and the word for the last book in a band of its tone.
"""

from __future__ import annotations

import pygame

from kiosk.domain.view import Message, N_
from kiosk.screen import ACCENT, line_height
from kiosk.screen.scenes import banner

COUNTS = {
    "inventory": N_("Books counted: {count}"),
    "receive": N_("Books received: {count}"),
}


def task(screen, box: pygame.Rect) -> None:
    """Draw the task of `screen.view` (screen `inventory` or `receive`) into `box`."""
    v, L = screen.view, screen.layout
    size = line_height(screen.fonts["heading"])
    screen.icon(v.picture or "books", pygame.Rect(box.left, box.top, size, size), ACCENT)
    screen.put(v.heading, "heading", pygame.Rect(box.left + size + L.pad, box.top, box.width - size - L.pad, size),
               may_cut=True)
    count = Message(COUNTS[v.screen], {"count": v.counted})
    top = screen.put(count, "heading", pygame.Rect(box.left, box.top + size + L.gap, box.width, size),
                     align="center").bottom + L.gap
    if v.message is not None and top < box.bottom:
        banner(screen, pygame.Rect(box.left, top, box.width, box.bottom - top), v.tone, v.message, max_lines=4)
