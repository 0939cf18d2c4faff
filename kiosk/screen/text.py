"""Fitting text into a box: wrapping, and shortening with an ellipsis only what may be shortened.

A line may break at a space, and between any two Chinese characters, but
never before a closing mark (，。》) or after an opening one (《“). Where a
text is a template with a long title or name in it, the title is shortened
first, so the words around it (the due date, "Thank you!") stay on screen.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Protocol

ELLIPSIS = "…"
NO_LINE_START = set("，。！？、；：”’）》」』…,.!?;:)")
NO_LINE_END = set("“‘（《「『(")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")


class Measures(Protocol):
    """What fitting needs of a font: the size of a rendered text (pygame.font.Font has it)."""

    def size(self, text: str) -> tuple[int, int]: ...


def is_wide(char: str) -> bool:
    return ord(char) >= 0x2E80  # CJK and beyond: a line may break between any two


def tokens(text: str) -> list[str]:
    """The pieces a line may break between: words with their trailing space, single CJK characters."""
    out: list[str] = []
    current = ""
    for char in text:
        if char == " ":
            out.append(current + " ")
            current = ""
            continue
        if (current and char not in NO_LINE_START and current[-1] not in NO_LINE_END
                and (is_wide(char) or is_wide(current[-1]))):
            out.append(current)
            current = ""
        current += char
    if current:
        out.append(current)
    return out


def wrap(font: Measures, text: str, width: int) -> list[str]:
    """Every line of `text` wrapped to `width`; a word wider than the box is broken; a newline breaks."""
    if "\n" in text:
        return [line for part in text.split("\n") for line in wrap(font, part, width)]
    lines: list[str] = []
    line = ""
    for token in tokens(text):
        candidate = line + token
        if font.size(candidate.rstrip())[0] <= width:
            line = candidate
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = token
        while len(line.rstrip()) > 1 and font.size(line.rstrip())[0] > width:
            cut = len(line) - 1
            while cut > 1 and font.size(line[:cut])[0] > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines


def fits(font: Measures, text: str, width: int, max_lines: int) -> bool:
    """Whether `text` goes into `max_lines` lines of `width` without shortening."""
    return len(wrap(font, text, width)) <= max_lines


def fit_text(font: Measures, text: str, width: int, max_lines: int) -> list[str]:
    """`text` in at most `max_lines` lines no wider than `width`; the last shortened with … if needed.

    Where each sentence can have lines of its own within `max_lines`, it does.
    """
    sentences = [s for s in SENTENCE_END.split(text.strip()) if s]
    if len(sentences) > 1:
        by_sentence = [line for sentence in sentences for line in wrap(font, sentence, width)]
        if len(by_sentence) <= max_lines:
            return by_sentence
    lines = wrap(font, text, width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = shorten(font, lines[-1], width, always=True)
    return lines


def shorten(font: Measures, text: str, width: int, *, always: bool = False) -> str:
    """`text`, or as much of it as fits in `width` followed by …; with `always`, the … is added anyway."""
    if not always and font.size(text)[0] <= width:
        return text
    body = text.removesuffix(ELLIPSIS)
    while body and font.size(body.rstrip() + ELLIPSIS)[0] > width:
        body = body[:-1]
    return body.rstrip() + ELLIPSIS


def fit_template(font: Measures, template: str, params: Mapping[str, Any], width: int,
                 max_lines: int) -> tuple[str, list[str]]:
    """A filled-in template in `max_lines` lines: the longest text parameter (a title, a name) shortened first.

    Returns the text as shown and its lines. Only when shortening a
    parameter is not enough is the whole text cut with an ellipsis.
    """
    text = template.format(**params)
    if fits(font, text, width, max_lines):
        return text, fit_text(font, text, width, max_lines)
    names = sorted((k for k, v in params.items() if isinstance(v, str) and len(v) > 1), key=lambda k: -len(params[k]))
    for name in names:
        value = params[name]
        low, high, best = 1, len(value) - 1, None
        while low <= high:
            keep = (low + high) // 2
            trial = template.format(**{**params, name: value[:keep].rstrip() + ELLIPSIS})
            if fits(font, trial, width, max_lines):
                best, low = trial, keep + 1
            else:
                high = keep - 1
        if best is not None:
            return best, fit_text(font, best, width, max_lines)
    return text, fit_text(font, text, width, max_lines)
