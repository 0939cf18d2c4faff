"""Logging in and out (a session cookie that expires, CSRF double submit before there is a session); the language."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from sync.server import db as store
from sync.server.auth import (
    COOKIE, LOGIN_COOKIE, SESSION_HOURS, check_password, hash_password, needs_rehash, sid_hash,
)
from sync.server.i18n import COOKIE as LANG_COOKIE
from sync.server.i18n import LANGUAGES
from sync.server.pages import resume
from sync.server.pages.common import Pages, session_id


def login_page(ctx: Pages, request: Request, status: int = 200, headers: dict | None = None, **context):
    """The login form, with a token of its own, and `context` (a message, a form carried across the login)."""
    # Before there is a session, the form's token is checked against a
    # cookie of its own (double submit), so no other site can log a
    # browser in under someone else's account.
    token = secrets.token_urlsafe(24)
    response = ctx.render(request, "login.html", {"who": None, "csrf": token, **context}, status)
    response.headers.update(headers or {})
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict")
    return response


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    checked, write_lock = ctx.checked, ctx.write_lock

    @pages.get("/login")
    def login_form(request: Request, failed: str = ""):
        return login_page(ctx, request, failed=failed == "1")

    @pages.post("/login")
    def login(request: Request, name: str = Form(""), password: str = Form(""), csrf: str = Form(""),
              carried: str = Form(""), next: str = Form(""), back: str = Form("")):  # noqa: A002
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(csrf, expected):
            return RedirectResponse("/login", status_code=303)
        # A form the session ended under rides along until the login succeeds.
        form = resume.from_login_form(carried)
        kept = resume.login_context(form, next, back) if form is not None else {}
        throttle = request.app.state.throttle
        address = request.client.host if request.client else "-"
        wait = throttle.attempt(name, address)
        if wait:
            return login_page(ctx, request, 429, locked=wait, headers={"Retry-After": str(wait)}, **kept)
        # The account's school holds its password: the form asks no school, a name is unique in the store.
        scope = store.account_school(ctx.district_db(), name)
        schools = store.schools(ctx.district_db())
        if scope is None and len(schools) == 1:
            scope = schools[0]["id"]  # an account made before schools, or by set_librarian alone
        db = ctx.school_db(scope) if scope is not None else None
        stored = store.librarian_hash(db, name) if db is not None else None
        if not check_password(password, stored):
            if kept:
                return login_page(ctx, request, 200, failed=True, **kept)
            return RedirectResponse("/login?failed=1", status_code=303)
        throttle.succeeded(name, address)
        if needs_rehash(stored):
            with write_lock:
                store.rehash_librarian(db, name, hash_password(password))
        sid, token = session_id(scope, secrets.token_urlsafe(32)), secrets.token_urlsafe(24)
        with write_lock:
            store.start_session(db, sid_hash(sid), name, token, store.utc_now() + timedelta(hours=SESSION_HOURS))
        response = resume.resumed(ctx, request, {"librarian": name, "csrf": token}, form, next, back)
        response.set_cookie(COOKIE, sid, max_age=SESSION_HOURS * 3600, httponly=True, samesite="strict")
        return response

    @pages.get("/lang/{code}")
    def choose_language(code: str, back: str = "/"):
        # Only a path on this site: never a way to send the browser elsewhere.
        if not back.startswith("/") or back.startswith("//") or "\\" in back:
            back = "/"
        response = RedirectResponse(back, status_code=303)
        if code in LANGUAGES:
            response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
        return response

    @pages.post("/logout")
    def logout(request: Request, csrf: str = Form("")):
        who = checked(request, csrf)
        with write_lock:
            store.end_session(ctx.account_db(who), sid_hash(request.cookies.get(COOKIE, "")))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    return pages
