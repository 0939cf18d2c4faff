"""Pinyin initials of Chinese titles and authors, so Find a book finds 草房子 by typing CFZ.

Worked out once, when books are imported (on the central store, and by a
kiosk's own import), with the `pypinyin` library, which knows the reading
of each character in its words (长 in 长城 is "chang", in 成长 "zhang").
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _lazy_pinyin():
    from pypinyin import Style, lazy_pinyin

    return lambda text: lazy_pinyin(text, style=Style.FIRST_LETTER, errors="ignore")


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" for char in text)


def initials(*texts: str) -> str:
    """The pinyin initials of each Chinese text, upper case, space between texts: "CFZ CWX".

    Texts without Chinese characters add nothing (they are searched by
    their own letters).
    """
    out = []
    for text in texts:
        if text and has_chinese(text):
            letters = "".join(_lazy_pinyin()(text)).upper()
            if letters:
                out.append(letters)
    return " ".join(out)
