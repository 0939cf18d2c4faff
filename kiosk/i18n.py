"""The kiosk's languages: gettext catalogs in kiosk/locale (English is the msgid).

`translator(language)` is what `kiosk.app.Kiosk` takes as `translate`; it
needs no screen, so the scripted kiosk prints Chinese too. `render` gives a
message as the screen shows it, dates in words.
"""

from __future__ import annotations

import gettext
from datetime import date, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

from kiosk.domain.view import Message

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


WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS_ZH = "一二三四五六日"


def format_date(day: date, language: str) -> str:
    """A date as a child reads it: "Mon 7 Dec", "12月7日 周一"."""
    if language == "zh_CN":
        return f"{day.month}月{day.day}日 周{WEEKDAYS_ZH[day.weekday()]}"
    return f"{WEEKDAYS_EN[day.weekday()]} {day.day} {MONTHS_EN[day.month - 1]}"


def format_time(stamp: str | None, zone: tzinfo | None, language: str) -> str | None:
    """An ISO time as local words, "Sun 29 Nov 16:16", in the kiosk's time zone `zone`; None stays None."""
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if zone is not None and when.tzinfo is not None:
        when = when.astimezone(zone)
    return f"{format_date(when.date(), language)} {when:%H:%M}"


def shown_params(params: Mapping[str, Any], language: str,
                 translate: Callable[[str], Callable[[str], str]] = translator) -> dict[str, Any]:
    """A message's parameters as shown: dates in words, nested messages translated."""
    out = {}
    for key, value in params.items():
        if isinstance(value, Message):
            value = render(value, language, translate)
        elif isinstance(value, date):
            value = format_date(value, language)
        out[key] = value
    return out


def render(message: Message, language: str, translate: Callable[[str], Callable[[str], str]] = translator) -> str:
    """`message` as the kiosk shows it in `language` (the screen and `kiosk simulate` alike).

    `translate(language)` gives the template's translation (gettext's by default).
    """
    return translate(language)(message.template).format(**shown_params(message.params, language, translate))
