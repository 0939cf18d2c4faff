"""Pictures drawn by the program (no artwork files): a card, a book, books, the reader, an arrow to it,
help, a magnifier, the outcome icons, and a book's coloured spine from its call number.

Each takes a surface, the rectangle to draw in and a colour; shapes only,
so they scale to any screen and carry meaning beside colour.
"""

from __future__ import annotations

import math

import pygame

# Spine colours: one per shelf section (the call number's first part), strong enough on white.
SPINES = ((196, 60, 50), (40, 110, 180), (40, 140, 90), (220, 140, 30), (130, 70, 160), (20, 140, 150),
          (180, 80, 130), (110, 120, 40), (70, 80, 170), (160, 100, 50))


def spine_colour(call_number: str) -> tuple[int, int, int]:
    """The colour of a book's spine: the same for every book of a shelf section ("F", "I247", "912")."""
    section = (call_number or "?").split()[0]
    return SPINES[sum(map(ord, section)) % len(SPINES)]


def _width(rect: pygame.Rect) -> int:
    return max(2, min(rect.width, rect.height) // 10)


def card(surface, rect: pygame.Rect, colour) -> None:
    """A library card: a rounded card with a chip, a name line, and contactless waves."""
    body = pygame.Rect(0, 0, rect.width, round(rect.width * 0.63))
    body.center = rect.center
    w = _width(body)
    pygame.draw.rect(surface, colour, body, width=w, border_radius=max(3, body.height // 8))
    chip = pygame.Rect(body.left + body.width // 8, body.top + body.height // 4, body.width // 5, body.height // 4)
    pygame.draw.rect(surface, colour, chip, border_radius=max(1, chip.height // 4))
    y = body.bottom - body.height // 4
    pygame.draw.line(surface, colour, (body.left + body.width // 8, y), (body.centerx, y), w)
    centre = (body.right - body.width // 4, body.top + body.height // 3)
    for n in (1, 2):
        r = n * body.height // 7
        arc = pygame.Rect(0, 0, 2 * r, 2 * r)
        arc.center = centre
        pygame.draw.arc(surface, colour, arc, -math.pi / 4, math.pi / 4, max(1, w // 2 + 1))


def book(surface, rect: pygame.Rect, colour, fill=None) -> None:
    """A closed book standing upright: cover, spine band and the edge of its pages."""
    body = pygame.Rect(0, 0, round(rect.height * 0.72), rect.height)
    body.center = rect.center
    w = _width(body)
    if fill is not None:
        pygame.draw.rect(surface, fill, body, border_radius=max(2, w))
    pygame.draw.rect(surface, colour, body, width=w, border_radius=max(2, w))
    x = body.left + body.width // 5
    pygame.draw.line(surface, colour, (x, body.top), (x, body.bottom), w)
    band = pygame.Rect(body.left + body.width // 3, body.top + body.height // 4, body.width // 2, body.height // 6)
    pygame.draw.rect(surface, colour, band, width=max(1, w // 2))


def books(surface, rect: pygame.Rect, colour) -> None:
    """A row of three books of different heights."""
    third = rect.width // 3
    for n, height in enumerate((1.0, 0.8, 0.9)):
        spine = pygame.Rect(rect.left + n * third + third // 8, 0, third - third // 4, round(rect.height * height))
        spine.bottom = rect.bottom
        pygame.draw.rect(surface, colour, spine, width=_width(rect), border_radius=2)


def spine(surface, rect: pygame.Rect, call_number: str) -> None:
    """A book's spine in its section's colour, with a light label band."""
    pygame.draw.rect(surface, spine_colour(call_number), rect, border_radius=max(2, rect.width // 5))
    band = pygame.Rect(rect.left + rect.width // 5, rect.top + rect.height // 5, rect.width - 2 * (rect.width // 5),
                       max(2, rect.height // 6))
    pygame.draw.rect(surface, (250, 250, 250), band)


def reader(surface, rect: pygame.Rect, colour) -> None:
    """The reader: a flat box with contactless waves above it."""
    box = pygame.Rect(rect.left, rect.top + rect.height // 2, rect.width, rect.height // 2)
    w = _width(rect)
    pygame.draw.rect(surface, colour, box, width=w, border_radius=max(3, box.height // 5))
    for n in (1, 2, 3):
        r = n * rect.height // 7
        arc = pygame.Rect(0, 0, 2 * r, 2 * r)
        arc.center = (rect.centerx, box.top)
        pygame.draw.arc(surface, colour, arc, math.pi / 4, 3 * math.pi / 4, max(1, w // 2 + 1))


def arrow(surface, rect: pygame.Rect, colour, direction: str) -> None:
    """A thick arrow pointing `direction` (down, left, right) to where the reader is."""
    if direction in ("left", "right"):
        shaft = pygame.Rect(rect.left, rect.centery - rect.height // 8, rect.width * 3 // 5, rect.height // 4)
        tip = rect.left + rect.width
        head = [(shaft.right, rect.top), (tip, rect.centery), (shaft.right, rect.bottom)]
        if direction == "left":
            shaft.right = rect.right
            head = [(shaft.left, rect.top), (rect.left, rect.centery), (shaft.left, rect.bottom)]
    else:
        shaft = pygame.Rect(rect.centerx - rect.width // 8, rect.top, rect.width // 4, rect.height * 3 // 5)
        head = [(rect.left, shaft.bottom), (rect.centerx, rect.bottom), (rect.right, shaft.bottom)]
    pygame.draw.rect(surface, colour, shaft)
    pygame.draw.polygon(surface, colour, head)


def magnifier(surface, rect: pygame.Rect, colour) -> None:
    """A magnifying glass: Find a book."""
    r = rect.width * 3 // 10
    centre = (rect.left + r + _width(rect), rect.top + r + _width(rect))
    w = _width(rect)
    pygame.draw.circle(surface, colour, centre, r, width=w)
    start = (centre[0] + round(r * 0.7), centre[1] + round(r * 0.7))
    pygame.draw.line(surface, colour, start, (rect.right - w, rect.bottom - w), w * 2)


def question(surface, rect: pygame.Rect, colour) -> None:
    """A question mark in a ring: help."""
    w = _width(rect)
    pygame.draw.circle(surface, colour, rect.center, rect.width // 2, width=w)
    r = rect.width // 6
    arc = pygame.Rect(0, 0, 2 * r, 2 * r)
    arc.center = (rect.centerx, rect.centery - r)
    pygame.draw.arc(surface, colour, arc, -math.pi / 2, math.pi, w)
    pygame.draw.line(surface, colour, (rect.centerx, rect.centery), (rect.centerx, rect.centery + r // 2), w)
    pygame.draw.circle(surface, colour, (rect.centerx, rect.centery + r + w), max(1, w * 2 // 3))


def tone(surface, kind: str, rect: pygame.Rect, colour) -> None:
    """The outcome icons: ok (a tick), cross, info (i), warn (a triangle), star, each in a ring but warn."""
    width = max(2, rect.width // 8)
    inset = rect.inflate(-rect.width // 2, -rect.height // 2)
    if kind == "warn":
        pygame.draw.polygon(surface, colour, [rect.midtop, rect.bottomright, rect.bottomleft], width)
        pygame.draw.line(surface, colour, (rect.centerx, rect.top + rect.height // 3),
                         (rect.centerx, rect.bottom - rect.height // 4), width)
        return
    if kind == "star":
        points = []
        for n in range(10):
            radius = rect.width / 2 if n % 2 == 0 else rect.width / 5
            angle = -math.pi / 2 + n * math.pi / 5
            points.append((rect.centerx + radius * math.cos(angle), rect.centery + radius * math.sin(angle)))
        pygame.draw.polygon(surface, colour, points)
        return
    pygame.draw.circle(surface, colour, rect.center, rect.width // 2, width=width)
    if kind == "ok":
        pygame.draw.lines(surface, colour, False, [(inset.left, inset.centery),
                                                   (inset.left + inset.width // 3, inset.bottom),
                                                   (inset.right, inset.top)], width)
    elif kind == "cross":
        pygame.draw.line(surface, colour, inset.topleft, inset.bottomright, width)
        pygame.draw.line(surface, colour, inset.bottomleft, inset.topright, width)
    else:
        pygame.draw.line(surface, colour, (inset.centerx, inset.top + inset.height // 3),
                         (inset.centerx, inset.bottom), width)
        pygame.draw.circle(surface, colour, (inset.centerx, inset.top), width)


PICTURES = {"card": card, "book": book, "books": books, "reader": reader, "search": magnifier, "help": question}
