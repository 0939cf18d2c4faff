"""The school's settings: its name on printed lists, its time zone, what lost books cost and when charges block."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kiosk.domain.errors import KioskError
from sync.server import db as store
from sync.server.db.settings import DEFAULTS
from sync.server.pages.common import Pages


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db, write_lock = ctx.librarian, ctx.checked, ctx.page, ctx.get_db, ctx.write_lock

    @pages.get("/settings", response_class=HTMLResponse)
    def settings_form(request: Request, saved: int = 0):
        return page(request, "settings.html", librarian(request), values=store.get_settings(get_db()),
                    problems=None, saved=saved)

    @pages.post("/settings", response_class=HTMLResponse)
    async def settings_save(request: Request):
        form = await request.form()
        who = checked(request, str(form.get("csrf", "")))
        values = {key: str(form.get(key, "")) for key in DEFAULTS}
        try:
            with write_lock:
                store.save_settings(get_db(), who["librarian"], values)
        except KioskError as exc:
            return page(request, "settings.html", who, 422, values=values, problems=[str(exc)], saved=0)
        return RedirectResponse("/settings?saved=1", status_code=303)

    return pages
