"""What a page answers when it cannot do what was asked: a page with a message, never raw JSON or a 500.

A value the librarian (or a link) got wrong shows the page's frame with one
line naming the value; the kiosks' API keeps answering JSON
(`sync.server.errors`).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from kiosk.domain.errors import KioskError
from sync.server.errors import AsciiJSONResponse, api_refusal, is_api
from sync.server.pages.common import LoginNeeded, Pages


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
            who = await run_in_threadpool(ctx.librarian, request)
        except LoginNeeded:
            return RedirectResponse("/login", status_code=303)
        return ctx.page(request, "base.html", who, status, problem=text)

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
