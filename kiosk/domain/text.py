"""Rules for text that comes in from outside: files, forms, kiosks' pushes, pulled pages.

One definition for every way in, so that a name refused by an import is
refused by the edit form and by a push too.
"""

from __future__ import annotations

import unicodedata

# Control characters, lone surrogates (which no file can store) and the
# Unicode line and paragraph separators (which break lines in CSV readers).
_REFUSED = ("Cc", "Cs", "Zl", "Zp")

# What a spreadsheet runs as a formula at the start of a cell (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def bad_character(text: str, allow: str = "") -> str | None:
    """The first character of `text` no stored text may hold, as `U+0000`, or None.

    `allow` names control characters that free text may keep (a newline in
    an error message).
    """
    for char in text:
        if char not in allow and unicodedata.category(char) in _REFUSED:
            return f"U+{ord(char):04X}"
    return None


def without_formula_mark(text: str) -> str:
    """A cell as written by the CSV export, with its `'` before a formula start taken off again."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
