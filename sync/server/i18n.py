"""The pages' languages: gettext catalogs in sync/server/locale (domain `pages`), English as the msgid.

The same mechanism as the kiosk's (kiosk/locale, domain `kiosk`): texts in
Python are marked N_() and translated where they are shown; templates use
jinja2's i18n extension. A librarian's choice is kept in a cookie; before
she chooses, the browser's Accept-Language decides.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "pages"
LANGUAGES = ("en", "zh_CN")
COOKIE = "kiosk_lang"


@lru_cache(maxsize=None)
def catalog(language: str) -> gettext.NullTranslations:
    """The catalog for `language`; English (the msgids) when there is none."""
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[language], fallback=True)


def from_accept_language(header: str) -> str:
    """The first of our languages the browser asks for (by its q weights), else English."""
    wanted = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        wanted.append((-weight, position, tag.strip().lower()))
    for _, _, tag in sorted(wanted):
        if tag.startswith("zh"):
            return "zh_CN"
        if tag.startswith("en"):
            return "en"
    return "en"


def language_of(cookie: str | None, accept_language: str | None) -> str:
    """The pages' language: the librarian's choice, else her browser's."""
    if cookie in LANGUAGES:
        return cookie
    return from_accept_language(accept_language or "")
