"""The screens nobody has a session on: idle (with its slides), an outcome, help, the fault, Find a book.

Each draws into the body box between the bar and the buttons, through the
`Screen`'s own helpers (`put`, `icon`).
"""

from __future__ import annotations

import pygame

from kiosk.domain.view import N_, Message, Slide
from kiosk.screen import ACCENT, GOOD, INK, LATE, MUTED, PANEL, PAPER, TONES, line_height
from kiosk.screen import pictures

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def picture_size(screen, box: pygame.Rect) -> int:
    return min(box.height // 2, max(line_height(screen.fonts["heading"]) * 2, box.width // 6))


def idle(screen, box: pygame.Rect) -> None:
    """The one big instruction with a card, a book and an arrow to the reader; the slides beside or below."""
    v, L = screen.view, screen.layout
    if v.slides:
        if L.wide:
            split = box.width * 11 // 20
            slides = pygame.Rect(box.left + split + L.pad, box.top, box.width - split - L.pad, box.height)
            rest = pygame.Rect(box.left, box.top, split, box.height)
        else:
            height = box.height * 9 // 20
            slides = pygame.Rect(box.left, box.bottom - height, box.width, height)
            rest = pygame.Rect(box.left, box.top, box.width, box.height - height - L.gap)
        size = min(picture_size(screen, rest), rest.height // 2 - L.gap)
        # The instruction comes first: the slides only where it still fits whole beside them.
        if fitting_font(screen, v.heading, rest.width - size - L.pad, rest.height, ("small",), whole=True):
            screen.slide_rect, box = slides, rest
            screen.pages = [lambda screen, rect, slide=slide: draw_slide(screen, rect, slide) for slide in v.slides]
    instruction(screen, box, v.heading, ("card", "book"))


def instruction(screen, box: pygame.Rect, heading: Message, drawn: tuple[str, ...]) -> None:
    """A heading as large as fits beside its pictures, and the arrow pointing to the reader."""
    L, f = screen.layout, screen.fonts["heading"]
    size = min(picture_size(screen, box), box.height // max(1, len(drawn)) - L.gap)
    column = pygame.Rect(box.left, box.top, size, box.height)
    top = box.top + max(0, (box.height - len(drawn) * (size + L.gap)) // 2)
    for n, kind in enumerate(drawn):
        screen.icon(kind, pygame.Rect(column.left, top + n * (size + L.gap), size, size), ACCENT)
    text = pygame.Rect(column.right + L.pad, box.top, box.right - column.right - L.pad, box.height)
    arrow = max(line_height(f), size // 2)
    room = text.height - (arrow + L.gap if screen.reader == "below" else 0)
    font = fitting_font(screen, heading, text.width, room, ("heading", "body", "small"))
    f = screen.fonts[font]
    lines = screen.lines_needed(heading, font, text.width, max(1, room // line_height(f)))
    height = lines * line_height(f)
    top = text.top + max(0, (room - height) // 2)
    used = screen.put(heading, font, pygame.Rect(text.left, top, text.width, height), max_lines=lines)
    if screen.reader == "below" and used.bottom + L.gap + arrow <= box.bottom:
        screen.icon("arrow", pygame.Rect(text.centerx - arrow // 2, used.bottom + L.gap, arrow, arrow), ACCENT,
                    direction="down")
    elif screen.reader in ("left", "right") and text.width > 2 * arrow:
        x = box.right - arrow if screen.reader == "right" else box.left
        screen.icon("arrow", pygame.Rect(x, box.bottom - arrow, arrow, arrow), ACCENT, direction=screen.reader)


def fitting_font(screen, content, width: int, height: int, fonts: tuple[str, ...], whole: bool = False):
    """The first of `fonts` in which `content` fits `width` x `height` whole; else the last (None if `whole`)."""
    for name in fonts:
        room = height // line_height(screen.fonts[name])
        if room and screen.lines_needed(content, name, width, room + 1) <= room:
            return name
    return None if whole else fonts[-1]


def draw_slide(screen, rect: pygame.Rect, slide: Slide) -> None:
    """One slide on a light card: its heading, then books with their spines, a class's bar, or names."""
    L, f = screen.layout, screen.fonts["small"]
    pygame.draw.rect(screen.surface, PANEL, rect, border_radius=L.pad)
    inner = rect.inflate(-2 * L.pad, -2 * L.pad)
    top = screen.put(slide.heading, "body", pygame.Rect(inner.left, inner.top, inner.width, inner.height),
                     color=ACCENT, max_lines=2, may_cut=True).bottom + L.gap
    line = line_height(f)
    if slide.kind == "class":
        caption = Message(N_("{books} books: goal reached!"), {"books": slide.count}) if slide.count >= slide.goal \
            else Message(N_("{books} of {goal} books"), {"books": slide.count, "goal": slide.goal})
        progress_bar(screen, pygame.Rect(inner.left, top, inner.width, inner.bottom - top), slide.count, slide.goal,
                     caption)
        return
    if slide.kind == "stars":
        for name in slide.names:
            if top + line > inner.bottom:
                break
            screen.icon("star", pygame.Rect(inner.left, top + line // 6, line * 2 // 3, line * 2 // 3), GOOD)
            top = screen.put(name, f, pygame.Rect(inner.left + line, top, inner.width - line, line),
                             may_cut=True).bottom
        return
    for book in slide.books:
        rows = 2 if book.author and inner.bottom - top >= 2 * line else 1
        if top + rows * line > inner.bottom:
            break
        spine = pygame.Rect(inner.left, top + 2, max(6, line // 2), rows * line - 4)
        pictures.spine(screen.surface, spine, book.call_number)
        screen.icons.append(_icon("spine", spine))
        text = pygame.Rect(spine.right + L.gap, top, inner.right - spine.right - L.gap, line)
        screen.put(book.title, f, text, may_cut=True)
        if rows == 2:
            screen.put(book.author, f, text.move(0, line), color=MUTED, may_cut=True)
        top += rows * line + L.gap


def _icon(kind, rect):
    from kiosk.screen import Icon

    return Icon(kind, pygame.Rect(rect))


def progress_bar(screen, box: pygame.Rect, books: int, goal: int, caption: Message) -> pygame.Rect:
    """A bar that fills toward the goal, with its words above it; returns the area used."""
    L, f = screen.layout, screen.fonts["small"]
    lines = screen.lines_needed(caption, "small", box.width, 2)
    used = screen.put(caption, f, pygame.Rect(box.left, box.top, box.width, lines * line_height(f)), max_lines=lines)
    height = max(8, line_height(f) * 2 // 3)
    if used.bottom + L.gap + height > box.bottom:
        return used
    bar = pygame.Rect(box.left, used.bottom + L.gap // 2, box.width, height)
    pygame.draw.rect(screen.surface, (225, 228, 235), bar, border_radius=height // 2)
    filled = bar.copy()
    filled.width = round(bar.width * min(1.0, books / goal)) if goal else 0
    if filled.width:
        pygame.draw.rect(screen.surface, GOOD, filled, border_radius=height // 2)
    pygame.draw.rect(screen.surface, INK, bar, width=1, border_radius=height // 2)
    screen.icons.append(_icon("bar", bar))
    return pygame.Rect(box.left, box.top, box.width, bar.bottom - box.top)


def big_banner(screen, box: pygame.Rect, tone: str, content) -> None:
    """An outcome: a coloured card in `box`, with a large icon, the tone's word and the message."""
    colour, icon, word = TONES.get(tone, TONES["neutral"])
    head, body, pad = screen.fonts["heading"], screen.fonts["body"], screen.layout.pad
    size = line_height(head) + line_height(body)
    width = box.width - 3 * pad - size
    lines = screen.lines_needed(content, "body", width, max(1, (box.height - 2 * pad - line_height(head))
                                                           // line_height(body)))
    height = min(box.height, 2 * pad + max(size, line_height(head) + lines * line_height(body)))
    band = pygame.Rect(box.left, box.top + (box.height - height) // 3, box.width, height)
    pygame.draw.rect(screen.surface, colour, band, border_radius=pad)
    screen.icon(icon, pygame.Rect(band.left + pad, band.top + pad, size, size))
    inner = pygame.Rect(band.left + 2 * pad + size, band.top + pad, width, band.height - 2 * pad)
    used = screen.put(screen.t(word), "heading", pygame.Rect(inner.left, inner.top, inner.width, line_height(head)),
                      color=PAPER)
    screen.put(content, "body", pygame.Rect(inner.left, used.bottom, inner.width, inner.bottom - used.bottom),
               color=PAPER, max_lines=lines)


def banner(screen, box: pygame.Rect, tone: str, content, max_lines: int = 2) -> pygame.Rect:
    """A band in the tone's colour: its icon, and the message beside it in white; returns the band."""
    colour, icon, _ = TONES.get(tone, TONES["neutral"])
    pad, size = screen.layout.pad, line_height(screen.fonts["body"])
    width = box.width - 3 * pad - size
    font, lines = banner_lines(screen, box, content, max_lines)
    f = screen.fonts[font]
    band = pygame.Rect(box.left, box.top, box.width, min(box.height, 2 * pad + lines * line_height(f)))
    pygame.draw.rect(screen.surface, colour, band, border_radius=pad)
    screen.icon(icon, pygame.Rect(band.left + pad, band.top + pad, size, size))
    screen.put(content, font, pygame.Rect(band.left + 2 * pad + size, band.top + pad, width, band.height - 2 * pad),
               color=PAPER, max_lines=lines)
    return band


def banner_lines(screen, box: pygame.Rect, content, max_lines: int = 2) -> tuple[str, int]:
    """The font a banner in `box` takes for `content` (a long text in smaller type, whole) and its lines."""
    pad, size = screen.layout.pad, line_height(screen.fonts["body"])
    width = box.width - 3 * pad - size
    font = fitting_font(screen, content, width, min(box.height - 2 * pad, max_lines * size), ("body", "small"))
    room = max(1, (box.height - 2 * pad) // line_height(screen.fonts[font]))
    return font, max(1, screen.lines_needed(content, font, width, room))


def result(screen, box: pygame.Rect) -> None:
    v = screen.view
    big_banner(screen, box, v.tone, v.message or v.heading)


def fault(screen, box: pygame.Rect) -> None:
    """The reader not working (drawn); or, with a message, the kiosk out of order and what became of the last tap."""
    L = screen.layout
    if screen.view.message is not None:
        band = banner(screen, pygame.Rect(box.left, box.top, box.width, box.height // 2), "error",
                      screen.view.heading, max_lines=3)
        top = band.bottom + L.gap
        screen.put(screen.view.message, "body", pygame.Rect(box.left, top, box.width, box.bottom - top), max_lines=5)
        return
    size = min(box.height // 3, box.width // 5)
    screen.icon("reader", pygame.Rect(box.centerx - size // 2, box.bottom - size, size, size), LATE)
    big_banner(screen, pygame.Rect(box.left, box.top, box.width, box.height - size - L.gap), "error",
               screen.view.heading)


def help_screen(screen, box: pygame.Rect) -> None:
    v, L = screen.view, screen.layout
    f = screen.fonts["heading"]
    size = line_height(f)
    screen.icon("help", pygame.Rect(box.left, box.top, size, size), ACCENT)
    screen.put(v.heading, "heading", pygame.Rect(box.left + size + L.pad, box.top, box.width - size - L.pad, size))
    top = box.top + size + L.gap
    screen.put(v.message, "body", pygame.Rect(box.left, top, box.width, box.bottom - top), max_lines=12)


def find(screen, box: pygame.Rect) -> None:
    """Find a book: what was typed (the instruction while nothing is), the answers, and keys a finger can hit.

    The screen has no bar: a small panel needs its whole height for keys
    of `KEY_MM` (`key_cells`) and a line of answers.
    """
    v, L = screen.view, screen.layout
    f, small = screen.fonts["body"], screen.fonts["small"]
    line = line_height(small)
    hint = 0 if v.query else screen.lines_needed(v.heading, "small", box.width - line_height(f) - 3 * L.gap, 2)
    field = pygame.Rect(box.left, box.top, box.width, max(line_height(f), hint * line) + L.gap)
    cells = key_cells(screen, L.height - L.button_row - field.bottom - 2 * L.gap - line)
    _draw_keys(screen, cells)
    pygame.draw.rect(screen.surface, PAPER, field)
    pygame.draw.rect(screen.surface, INK, field, width=2, border_radius=L.gap)
    screen.icon("search", pygame.Rect(field.left + L.gap, field.top + L.gap // 2, line_height(f), line_height(f)),
                ACCENT)
    inside = pygame.Rect(field.left + line_height(f) + 2 * L.gap, field.top + L.gap // 2,
                         field.width - line_height(f) - 3 * L.gap, field.height - L.gap)
    if v.query:
        screen.put(v.query + "|", f, inside, may_cut=True)
    else:  # the instruction stands in the empty field, where the letters will go
        font = fitting_font(screen, v.heading, inside.width, line_height(f), ("body", "small"))
        screen.put(v.heading, font, inside, color=MUTED, max_lines=2)
    top = field.bottom + L.gap
    bottom = min(rect.top for _, rect in cells) - L.gap
    for book in v.found:
        if top + line > bottom:
            break
        colour = INK if book.available else LATE
        said = Message(N_("{title}: {answer}"), {"title": book.title, "answer": book.answer})
        top = screen.put(said, small, pygame.Rect(box.left, top, box.width, line), color=colour).bottom
    if v.query and not v.found and top + line <= bottom:
        screen.put(Message(N_("No book found for {query}. Try other letters."), {"query": v.query}), small,
                   pygame.Rect(box.left, top, box.width, line), color=MUTED, may_cut=True)


def key_cells(screen, room: int) -> list[tuple[str, pygame.Rect]]:
    """Each key's touch target, at least `key_size` each way, side by side with no gap between.

    The letters in alphabetical order (the order a young child knows), in
    rows of as many as fit across the panel, just above the bottom row;
    backspace and space in the bottom row between the language button and
    Done, where this screen has no button. Where the rows would take more
    than `room` (a 2.8" panel), the last letters go down there too.
    """
    L = screen.layout
    row_top = L.height - L.button_row
    lang, done = L.slot("lang", row_top), L.slot("done", row_top)
    middle = pygame.Rect(lang.right, lang.top, done.left - lang.right, lang.height)
    columns = min(10, L.width // L.key_size)
    width = L.width / columns
    rows, spare = -(-len(LETTERS) // columns), len(LETTERS) % columns
    low = ["backspace", "space"]
    if rows * L.key_size > room and spare and middle.width // (spare + 2) >= L.key_size:
        rows, low = rows - 1, list(LETTERS[-spare:]) + low
    height = max(L.key_size, min(int(width), room // rows))
    letters = LETTERS[:len(LETTERS) - len(low) + 2]
    cells = []
    for row in range(rows):
        names = letters[row * columns:(row + 1) * columns]
        left = (L.width - len(names) * width) / 2
        top = row_top - (rows - row) * height
        cells += [(name, pygame.Rect(round(left + n * width), top, round(left + (n + 1) * width)
                                     - round(left + n * width), height)) for n, name in enumerate(names)]
    step = middle.width / len(low)
    cells += [(name, pygame.Rect(round(middle.left + n * step), middle.top, round(middle.left + (n + 1) * step)
                                 - round(middle.left + n * step), middle.height)) for n, name in enumerate(low)]
    return cells


def _draw_keys(screen, cells: list[tuple[str, pygame.Rect]]) -> None:
    """The keys: each drawn a little inside its touch target, so neighbours stand apart."""
    L = screen.layout
    faces = [(name, cell, cell.inflate(-L.gap, -L.gap)) for name, cell in cells]
    f = screen._font(max(L.min_text_px, min(L.font_sizes()["body"], min(face.height for *_, face in faces) * 2 // 3)))
    for name, cell, face in faces:
        screen.targets[f"key:{name}"] = cell
        pygame.draw.rect(screen.surface, (232, 236, 242), face, border_radius=max(3, L.gap))
        pygame.draw.rect(screen.surface, INK, face, width=1, border_radius=max(3, L.gap))
        mark = face.inflate(-face.width // 3, -face.height // 2)
        mark.height = min(mark.height, line_height(f))
        mark.centery = face.centery
        if name == "backspace":
            screen.icon("arrow", mark, INK, direction="left")
        elif name == "space":
            pygame.draw.lines(screen.surface, INK, False, [mark.topleft, mark.bottomleft, mark.bottomright,
                                                           mark.topright], 2)
        else:
            label = pygame.Rect(face.left, face.centery - line_height(f) // 2, face.width, line_height(f))
            screen.put(name, f, label, align="center")
