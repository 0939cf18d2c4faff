"""What every page shares: the templates, the logged-in librarian and her school, the CSRF check, the language,
local times.

A librarian works in her school: every page's `get_db()` is her school's
connection (`db/schools.py`), so a page shows no other school's rows. A
district account works in the school it last chose on the district page.
"""

from __future__ import annotations

import hmac
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from sync.server import db as store
from sync.server import i18n, words
from sync.server.auth import COOKIE, sid_hash

TEMPLATES = Jinja2Templates(env=jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"), autoescape=True,
    extensions=["jinja2.ext.i18n"]))
# The templates' gettext is the request's (see `Pages.render`); these stand in outside a request.
TEMPLATES.env.install_null_translations(newstyle=True)
SCHOOL_COOKIE = "kiosk_school"  # the school a district account works in


def session_id(scope: int, secret: str) -> str:
    """A session cookie's value: where the account is kept (a school, or the district), then the secret."""
    return f"{scope}.{secret}"


def session_scope(sid: str, schools: list[dict]) -> Optional[int]:
    """Where the session named by a cookie is kept; a cookie from before schools is the store's only school's."""
    scope, dot, _ = sid.partition(".")
    if not dot:
        return schools[0]["id"] if len(schools) == 1 else None
    return int(scope) if scope.isascii() and scope.isdigit() and len(scope) < 10 else None


class LoginNeeded(Exception):
    """No valid session: the page answers with a way to the login form."""


class FormRefused(Exception):
    """A form whose CSRF token is not its session's: from an older page, or from another site."""
def language(request: Request) -> str:
    """The librarian's language: her choice (a cookie), else her browser's Accept-Language."""
    return i18n.language_of(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))


def translator(lang: str):
    """The plain gettext function of `lang` (for words made in Python)."""
    return i18n.catalog(lang).gettext


def _newstyle(catalog):
    """gettext and ngettext as jinja2's newstyle i18n wants them: they fill `%(name)s` and escape the values."""
    @jinja2.pass_context
    def gettext(context, text, **values):
        out = catalog.gettext(text)
        if context.eval_ctx.autoescape:
            out = Markup(out)
        return out % values if values else out

    @jinja2.pass_context
    def ngettext(context, singular, plural, n, **values):
        out = catalog.ngettext(singular, plural, n)
        if context.eval_ctx.autoescape:
            out = Markup(out)
        return out % dict(values, num=n)

    return gettext, ngettext


def local_time(text: str | None, tz: ZoneInfo, seconds: bool = False) -> str:
    """A stored UTC time as the school's local time, `2026-11-23 08:50` (no offset, no milliseconds)."""
    if not text:
        return ""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return text
    if when.tzinfo is None:
        return text
    return when.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


class Pages:
    """The app's per-thread connection `school_db(school)` and its `write_lock`, and the checks every page makes."""

    def __init__(self, school_db, write_lock):
        self.school_db = school_db
        self.write_lock = write_lock
        self.school: ContextVar[Optional[int]] = ContextVar("school", default=None)

    def get_db(self):
        """The connection, in the school of this request's librarian (`librarian` comes first: no school before)."""
        school = self.school.get()
        if school is None:
            raise LoginNeeded()
        return self.school_db(school)

    def district_db(self):
        """The connection, for what is the district's: the list of schools, which school an account is in."""
        return self.school_db(store.DISTRICT)

    def librarian(self, request: Request) -> dict:
        """The logged-in librarian, or `LoginNeeded`; from here on `get_db()` works in her school."""
        sid = request.cookies.get(COOKIE, "")
        schools = store.schools(self.district_db())
        scope = session_scope(sid, schools) if sid else None
        if scope is not None and scope != store.DISTRICT and all(s["id"] != scope for s in schools):
            scope = None
        found = store.session(self.school_db(scope), sid_hash(sid)) if scope is not None else None
        if found is None:
            raise LoginNeeded()
        found["scope"], found["district"] = scope, scope == store.DISTRICT
        school = scope
        if found["district"]:
            chosen = request.cookies.get(SCHOOL_COOKIE, "")
            school = next((s["id"] for s in schools if str(s["id"]) == chosen), schools[0]["id"])
        self.school.set(school)
        found["school_id"] = school
        # With one school there is nothing to name: the pages look as they always did.
        found["school_name"] = next(s["name"] for s in schools if s["id"] == school) if len(schools) > 1 else None
        return found

    async def librarian_off_loop(self, request: Request, csrf: Optional[str] = None) -> dict:
        """`librarian` (or, with `csrf`, `checked`) in a worker thread; the school also set for the caller, so that
        the page and later worker threads work in her school."""
        if csrf is None:
            who = await run_in_threadpool(self.librarian, request)
        else:
            who = await run_in_threadpool(self.checked, request, csrf)
        self.school.set(who["school_id"])
        return who

    def account_db(self, who: dict):
        """The connection where the librarian's own account and sessions are kept."""
        return self.school_db(who["scope"])

    def checked(self, request: Request, csrf: str) -> dict:
        """The librarian, for a form whose CSRF token matches the session's."""
        who = self.librarian(request)
        if not hmac.compare_digest(csrf or "", who["csrf"]):
            raise FormRefused()
        return who

    def render(self, request: Request, template: str, context: dict, status: int = 200) -> HTMLResponse:
        """A template in the librarian's language, with local times and the school's settings."""
        lang = language(request)
        catalog = i18n.catalog(lang)
        gettext, ngettext = _newstyle(catalog)
        # Before a login (the login form) the settings are the district's own, or the only school's.
        school = self.school.get()
        settings = store.get_settings(self.school_db(school) if school is not None else self.district_db())
        tz = ZoneInfo(settings["timezone"])
        return TEMPLATES.TemplateResponse(request, template, {
            "lang": lang, "html_lang": "zh-CN" if lang == "zh_CN" else "en", "gettext": gettext, "_": gettext,
            "ngettext": ngettext, "t": catalog.gettext, "words": words, "settings": settings,
            "local": lambda text, seconds=False: local_time(text, tz, seconds), **context,
        }, status_code=status)

    def page(self, request: Request, template: str, who: dict, status: int = 200, **context) -> HTMLResponse:
        """A template rendered for `who`, with the CSRF token every form carries."""
        return self.render(request, template, {"who": who, "csrf": who["csrf"], **context}, status)
