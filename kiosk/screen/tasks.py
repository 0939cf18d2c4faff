"""The staff tasks' screen: a stocktake ("Inventory") or receiving books, with its running count.

Drawn with the `Screen`'s own helpers, so its texts are fitted and checked
like every other: the task and its shelf as the heading, the count in large
type, and the word for the last book in a banner of its tone.
"""

from __future__ import annotations

import pygame

from kiosk.domain.view import N_

COUNTS = {
    "inventory": N_("Books counted: {count}"),
    "receive": N_("Books received: {count}"),
}


def draw_task(screen, box: pygame.Rect) -> None:
    """Draw the task of `screen.view` (screen `inventory` or `receive`) into `box`."""
    v, pad = screen.view, screen.layout.pad
    top = screen._heading(box)
    font = screen.fonts["heading"]
    count = screen._t(COUNTS[v.screen]).format(count=v.counted)
    used = screen._put(count, "heading", pygame.Rect(box.left, top, box.width, font.get_linesize()), align="center")
    top = used.bottom + pad // 2
    if v.message is not None and top < box.bottom:
        screen._banner(pygame.Rect(box.left, top, box.width, box.bottom - top), v.tone, screen._text(v.message),
                       max_lines=3)
