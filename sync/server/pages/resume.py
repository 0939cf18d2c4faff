"""A session that ends in the middle of a form: the login page, then the form again with what was typed.

A form sent after its session ended (8 hours, or a log out in another tab)
gets the login page with a message, carrying what was typed; after the
login a page lists it and sends it again with one click, under the new
session's CSRF token. Only a form that came from these pages (its Origin,
else its Referer, names this host) is carried, so another site cannot
line up a form for a librarian to send; a password, a CSRF token and a
file are never carried (a file is chosen again).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response


MAX_FIELDS = 200
MAX_VALUE = 20_000  # characters of one carried value
NOT_CARRIED = ("csrf", "password")
NOT_RESENT = ("/login", "/logout")


def local_path(text: str) -> str | None:
    """`text` as a path on this site (with its query), or None: never another site, never the login itself."""
    parts = urlsplit(text or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    if parts.path in NOT_RESENT:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def came_from_here(request: Request) -> bool:
    """Whether the browser says the form was on one of this store's pages."""
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    return bool(source) and urlsplit(source).netloc == request.headers.get("host", "")


async def typed(request: Request) -> tuple[list[list[str]] | None, str]:
    """What the ended form held ([] for a file form, None when not carried) and the page it was on."""
    referer = urlsplit(request.headers.get("referer", ""))
    back = None
    if came_from_here(request) and referer.netloc == request.headers.get("host", ""):
        back = local_path(referer.path + (f"?{referer.query}" if referer.query else ""))
    if not came_from_here(request) or local_path(request.url.path) is None:
        return None, back or "/"
    if request.headers.get("content-type", "").startswith("multipart/"):
        return [], back or "/"  # an upload: the file is chosen again, never kept here
    try:
        form = await request.form()
    except RuntimeError:  # the body was read without being kept
        return None, back or "/"
    fields = [[k, v] for k, v in form.multi_items() if k not in NOT_CARRIED and isinstance(v, str)]
    return fields[:MAX_FIELDS], back or "/"


def from_login_form(text: str) -> list[list[str]] | None:
    """The carried fields as the login form sent them back, or None when they are not a list of pairs."""
    try:
        fields = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
        return None
    if not all(isinstance(f, list) and len(f) == 2 and all(isinstance(x, str) for x in f) and len(f[1]) <= MAX_VALUE
               and f[0] not in NOT_CARRIED for f in fields):
        return None
    return fields


def login_context(carried: list | None, next_path: str, back: str) -> dict:
    """What the login page needs to carry a form across the login."""
    return {"carried": carried, "carried_json": json.dumps(carried) if carried is not None else "",
            "next": next_path, "back": back}


def resumed(ctx, request: Request, who: dict, carried: list | None, next_path: str, back: str) -> Response:
    """After a login: the carried form to send again, or the page the librarian was on, or home."""
    target, back = local_path(next_path), local_path(back) or "/"
    if carried and target:
        return ctx.render(request, "resume.html", {"who": who, "csrf": who["csrf"], "carried": carried,
                                                   "next": target, "back": back})
    return RedirectResponse(back if carried is not None else "/", status_code=303)
