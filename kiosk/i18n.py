"""The kiosk's languages: gettext catalogs in kiosk/locale (English is the msgid).

`translator(language)` is what `kiosk.app.Kiosk` takes as `translate`; it
needs no screen, so the scripted kiosk prints Chinese too.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path
from typing import Callable

from kiosk.domain.view import LANGUAGES

__all__ = ["LANGUAGES", "translator"]

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "kiosk"


@lru_cache(maxsize=None)
def translator(language: str) -> Callable[[str], str]:
    """Template -> text in `language`; English (the templates) when there is no catalog."""
    if language == "en":
        return lambda text: text
    catalog = gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[language], fallback=True)
    return catalog.gettext
