"""What every page shares: the templates, the logged-in librarian, the CSRF check."""

from __future__ import annotations

import hmac
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from sync.server import db as store
from sync.server.auth import COOKIE, sid_hash

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))


class LoginNeeded(Exception):
    """No valid session: the page answers with a way to the login form."""


class FormRefused(Exception):
    """A form whose CSRF token is not its session's: from an older page, or from another site."""


class Pages:
    """The app's per-thread connection `get_db` and its `write_lock`, and the checks every page makes."""

    def __init__(self, get_db, write_lock):
        self.get_db = get_db
        self.write_lock = write_lock

    def librarian(self, request: Request) -> dict:
        """The logged-in librarian, or `LoginNeeded`."""
        sid = request.cookies.get(COOKIE, "")
        found = store.session(self.get_db(), sid_hash(sid)) if sid else None
        if found is None:
            raise LoginNeeded()
        return found

    def checked(self, request: Request, csrf: str) -> dict:
        """The librarian, for a form whose CSRF token matches the session's."""
        who = self.librarian(request)
        if not hmac.compare_digest(csrf or "", who["csrf"]):
            raise FormRefused()
        return who

    def page(self, request: Request, template: str, who: dict, status: int = 200, **context) -> HTMLResponse:
        """A template rendered for `who`, with the CSRF token every form carries."""
        return TEMPLATES.TemplateResponse(request, template, {"who": who, "csrf": who["csrf"], **context},
                                          status_code=status)
