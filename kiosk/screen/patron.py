"""The screens of someone whose card was tapped: a session, its summary, the staff screen."""

from __future__ import annotations

import pygame

from kiosk.version import version

from kiosk.domain import reading
from kiosk.domain.reading import progress_text
from kiosk.domain.view import N_, Message
from kiosk.i18n import format_date, format_time
from kiosk.screen import ACCENT, GOOD, INK, LATE, MUTED, Icon, line_height
from kiosk.screen.scenes import banner, banner_lines, progress_bar


def _heading(screen, box: pygame.Rect, picture: str) -> int:
    """The greeting in one line, with the screen's picture before it; returns where the rest starts."""
    L, f = screen.layout, screen.fonts["heading"]
    size = line_height(f)
    screen.icon(picture, pygame.Rect(box.left, box.top, size, size), ACCENT)
    used = screen.put(screen.view.heading, "heading", pygame.Rect(box.left + size + L.pad, box.top,
                                                                   box.width - size - L.pad, size))
    return used.bottom + L.gap


def session(screen, box: pygame.Rect) -> None:
    """Hello; the one instruction or outcome in a band (as many lines as it needs); what the patron may still
    do, what readers also read, the progress bar; then the books on loan."""
    v, L = screen.view, screen.layout
    top = _heading(screen, box, v.picture or "book")
    if v.message is not None:
        lines = 6 if v.tone == "info" else 3
        top = banner(screen, pygame.Rect(box.left, top, box.width, box.bottom - top), v.tone, v.message,
                     max_lines=lines).bottom + L.gap
    small = screen.fonts["small"]
    line = line_height(small)
    # The books on loan (a late one above all) keep a few lines; the rest goes where there is room.
    end = box.bottom - ((min(len(v.loans), 2) + 1) * line + L.gap if v.loans else 0)
    if v.blocked is not None and v.blocked != v.message:
        top = _warned(screen, pygame.Rect(box.left, top, box.width, box.bottom - top), v.blocked)
    if v.can_do is not None and top + line <= box.bottom:
        top = screen.put(v.can_do, small, pygame.Rect(box.left, top, box.width, 2 * line), max_lines=2).bottom
    if v.also and top + line <= end:
        titles = "、".join(b.title for b in v.also) if v.language == "zh_CN" else ", ".join(b.title for b in v.also)
        said = Message(N_("Readers of this book also read: {titles}"), {"titles": titles})
        top = screen.put(said, small, pygame.Rect(box.left, top, box.width, 2 * line), color=ACCENT,
                         max_lines=2).bottom
    if v.progress is not None and top + 2 * line + L.gap <= end:
        top = progress_bar(screen, pygame.Rect(box.left, top, box.width, end - top), v.progress.term_books,
                           v.progress.term_goal, progress_text(v.progress)).bottom + L.gap
    if v.allowance is not None and top + line <= end:
        text = screen.t(N_("You may borrow {count} more.")).format(count=v.allowance)
        top = screen.put(text, small, pygame.Rect(box.left, top, box.width, line)).bottom
    loans(screen, pygame.Rect(box.left, top + L.gap, box.width, box.bottom - top - L.gap))


def _warned(screen, box: pygame.Rect, message: Message) -> int:
    L, f = screen.layout, screen.fonts["small"]
    size = f.get_ascent()
    screen.icon("warn", pygame.Rect(box.left, box.top + (line_height(f) - size) // 2, size, size), LATE)
    return screen.put(message, f, pygame.Rect(box.left + size + L.pad, box.top, box.width - size - L.pad,
                                              box.height), color=LATE, max_lines=2).bottom


def summary(screen, box: pygame.Rect) -> None:
    """Goodbye: what was borrowed, a word of praise at a milestone, the progress bar, the books and dates."""
    v, L = screen.view, screen.layout
    top = _heading(screen, box, "books")
    top = banner(screen, pygame.Rect(box.left, top, box.width, box.bottom - top), v.tone, v.message).bottom + L.gap
    small = screen.fonts["small"]
    line = line_height(small)
    if v.praise is not None and top + line <= box.bottom:
        star = line * 4 // 5
        screen.icon("star", pygame.Rect(box.left, top + (line - star) // 2, star, star), GOOD)
        top = screen.put(v.praise, "small", pygame.Rect(box.left + star + L.gap, top, box.width - star - L.gap,
                                                        2 * line), color=GOOD, max_lines=2).bottom
    if v.progress is not None and top + 2 * line <= box.bottom:
        top = progress_bar(screen, pygame.Rect(box.left, top, box.width, box.bottom - top), v.progress.term_books,
                           v.progress.term_goal, progress_text(v.progress)).bottom + L.gap
    if v.progress is not None and v.progress.class_goal and top + 2 * line <= box.bottom:
        p = v.progress
        caption = Message(N_("Class {name}: {books} books this month, goal reached!"),
                          {"name": p.class_name, "books": p.class_books}) if p.class_books >= p.class_goal \
            else reading.class_text(p.class_name, p.class_books, p.class_goal)
        top = progress_bar(screen, pygame.Rect(box.left, top, box.width, box.bottom - top), p.class_books,
                           p.class_goal, caption).bottom + L.gap
    loans(screen, pygame.Rect(box.left, top, box.width, box.bottom - top))


def loans(screen, box: pygame.Rect) -> None:
    """The patron's books: title and return date; a late one in red with the word LATE too.

    ★ marks a book borrowed or renewed just now. What does not fit ends in
    "and N more".
    """
    v, f = screen.view, screen.fonts["small"]
    line = line_height(f)
    rows = box.height // line - 1  # one row for the column headings
    items = list(v.loans)
    if rows < 1 or not items:
        return
    shown, more = (items, 0) if len(items) <= rows else (items[:rows - 1], len(items) - rows + 1)
    late = screen.t(N_("LATE"))
    dues = [(late + " " if loan.overdue else "") + format_date(loan.due, v.language) for loan in shown]
    due_width = min(box.width // 2, max([f.size(screen.t(N_("Return by")))[0]] + [f.size(d)[0] for d in dues]))
    title_width = box.width - due_width - screen.layout.pad
    screen.put(screen.t(N_("Your books")), f, pygame.Rect(box.left, box.top, title_width, line), color=MUTED)
    screen.put(screen.t(N_("Return by")), f, pygame.Rect(box.right - due_width, box.top, due_width, line),
               color=MUTED, align="right")
    for index, (loan, due) in enumerate(zip(shown, dues)):
        y = box.top + (index + 1) * line
        colour = LATE if loan.overdue else INK
        mark = "★ " if loan.new else "• "
        screen.put(mark + loan.title, f, pygame.Rect(box.left, y, title_width, line), color=colour, may_cut=True)
        screen.put(due, f, pygame.Rect(box.right - due_width, y, due_width, line), color=colour, align="right")
    if more:
        text = N_("and {count} more") if shown else N_("Books on loan: {count}")
        screen.put(screen.t(text).format(count=more), f,
                   pygame.Rect(box.left, box.top + (len(shown) + 1) * line, box.width, line), color=MUTED)


def staff(screen, box: pygame.Rect) -> None:
    """The kiosk's status and the unknown tags, two facts to a line where they fit half the width.

    Where they do not all fit (a 320x240 panel has room for three lines
    under the heading), they go on pages that take turns, each with dots
    saying which it is; a message (a task's outcome) comes first.
    """
    v, L = screen.view, screen.layout
    line = line_height(screen.fonts["small"])
    top = box.top + line_height(screen.fonts["body"]) + L.gap
    rows: list[tuple[list, int]] = []
    if v.message is not None:
        font, lines = banner_lines(screen, pygame.Rect(box.left, top, box.width, box.bottom - top), v.message, 2)
        rows.append(([v.message], min(box.bottom - top, 2 * L.pad + lines * line_height(screen.fonts[font]))
                     + L.gap))
    rows += [(texts, lines * line) for texts, lines in _status_rows(screen, box.width)]
    pages: list[list[tuple[list, int]]] = [[]]
    for row in rows:
        if pages[-1] and sum(height for _, height in pages[-1]) + row[1] > box.bottom - top:
            pages.append([])
        pages[-1].append(row)
    draw = [lambda screen, rect, page=page, n=n: _staff_page(screen, rect, page, n, len(pages))
            for n, page in enumerate(pages)]
    if len(draw) == 1:
        draw[0](screen, box)
    else:
        screen.slide_rect, screen.pages = pygame.Rect(box), draw


def _status_rows(screen, width: int) -> list[tuple[list[str], int]]:
    """The status as rows: (the texts side by side, how many lines the row takes)."""
    v, L, f = screen.view, screen.layout, screen.fonts["small"]
    s, zone = v.status, v.now.tzinfo
    facts = [screen.t(N_("Reader: working")) if s.reader_ok else screen.t(N_("Reader: not working")),
             screen.t(N_("Waiting to sync: {count}")).format(count=s.pending),
             screen.t(N_("Last sync: {when}")).format(when=format_time(s.last_sync, zone, v.language)
                                                      or screen.t(N_("never"))),
             screen.t(N_("Clock: synced")) if s.clock_trusted else screen.t(N_("Clock: not synced")),
             screen.t(N_("IP: {address}")).format(address=s.ip) if s.ip else None,
             screen.t(N_("Cabinet door: open")) if s.door_open else None,
             screen.t(N_("Version {version}")).format(version=version())]
    wide = [screen.t(N_("Unknown tags: {tags}")).format(
        tags=", ".join(f"{uid} ({format_time(seen, zone, v.language) or ''})" for uid, seen in v.unknown_tags))
        if v.unknown_tags else None,
        screen.t(N_("Exit closes the kiosk for maintenance; it is logged.")) if v.can_exit else None]
    half = (width - L.pad) // 2
    rows: list[tuple[list[str], int]] = []
    for fact in filter(None, facts):
        if f.size(fact)[0] > half:
            rows.append(([fact], 1))
        elif rows and len(rows[-1][0]) == 1 and f.size(rows[-1][0][0])[0] <= half:
            rows[-1] = (rows[-1][0] + [fact], 1)
        else:
            rows.append(([fact], 1))
    return rows + [([text], screen.lines_needed(text, "small", width, 2)) for text in filter(None, wide)]


def _staff_page(screen, box: pygame.Rect, rows: list[tuple[list, int]], page: int, pages: int) -> None:
    """The heading (with a dot for each page, this one filled) and this page's rows (the message's banner too)."""
    v, L, f = screen.view, screen.layout, screen.fonts["small"]
    height = line_height(screen.fonts["body"])
    dot = height // 3
    dots = (pages * 2 * dot + L.gap) if pages > 1 else 0
    top = screen.put(v.heading, "body", pygame.Rect(box.left, box.top, box.width - dots, height),
                     may_cut=True).bottom + L.gap
    for n in range(pages if pages > 1 else 0):
        centre = (box.right - (pages - n) * 2 * dot + dot, box.top + height // 2)
        pygame.draw.circle(screen.surface, ACCENT, centre, dot // 2 + 2, width=0 if n == page else 2)
    if pages > 1:
        screen.icons.append(Icon("pages", pygame.Rect(box.right - dots, box.top, dots, height)))
    half = (box.width - L.pad) // 2
    for texts, rows_height in rows:
        if isinstance(texts[0], Message):
            banner(screen, pygame.Rect(box.left, top, box.width, rows_height - L.gap), v.tone, texts[0])
        for n, text in enumerate(t for t in texts if isinstance(t, str)):
            width = half if len(texts) > 1 else box.width
            screen.put(text, f, pygame.Rect(box.left + n * (half + L.pad), top, width, rows_height),
                       max_lines=rows_height // line_height(f), may_cut=True)
        top += rows_height
