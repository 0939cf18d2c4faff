"""What a page answers when it cannot do what was asked: a page with a message, never raw JSON or a 500.

A value the librarian (or a link) got wrong shows the page's frame with one
line naming the value; a form whose session ended gets the login page,
carrying what was typed (`resume`); the kiosks' API keeps answering JSON
(`sync.server.errors`).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from kiosk.domain.errors import KioskError
from sync.server.errors import AsciiJSONResponse, api_refusal, is_api
from sync.server.pages import resume
from sync.server.pages.common import FormRefused, LoginNeeded, Pages
from sync.server.pages.login import login_page


def describe(exc: RequestValidationError) -> str:
    """The refused values of a request, in words: `seq: Input should be a valid integer`."""
    parts = []
    for error in exc.errors():
        where = [str(p) for p in error.get("loc", ()) if p not in ("query", "body", "path")]
        parts.append(f"{'.'.join(where) or 'the request'}: {error.get('msg', 'not understood')}")
    return "; ".join(parts)


def install(app: FastAPI, ctx: Pages) -> None:
    """Answer refused values and errors on the pages with a page, and on the API with JSON."""

    async def problem_page(request: Request, text: str, status: int):
        try:
            who = await ctx.librarian_off_loop(request)
        except LoginNeeded:
            return RedirectResponse("/login", status_code=303)
        return ctx.page(request, "base.html", who, status, problem=text)

    @app.exception_handler(LoginNeeded)
    async def login_needed(request: Request, exc: LoginNeeded):  # noqa: ARG001
        if request.method in ("GET", "HEAD"):
            return RedirectResponse("/login", status_code=303)
        carried, back = await resume.typed(request)
        return login_page(ctx, request, 403, ended=True, **resume.login_context(carried, request.url.path, back))

    @app.exception_handler(FormRefused)
    async def form_refused(request: Request, exc: FormRefused):  # noqa: ARG001
        return await problem_page(request, "This form came from an older page or from another site, so nothing "
                                           "was changed: open the page again and send the form from there.", 403)

    @app.exception_handler(RequestValidationError)
    async def refused(request: Request, exc: RequestValidationError):
        if is_api(request):
            return api_refusal(exc)
        return await problem_page(request, f"Nothing was done: {describe(exc)}.", 400)

    @app.exception_handler(KioskError)
    async def kiosk_error(request: Request, exc: KioskError):
        if is_api(request):
            return AsciiJSONResponse(status_code=422, content={"detail": str(exc)})
        return await problem_page(request, f"Nothing was done: {exc}", 422)
