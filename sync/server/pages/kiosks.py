"""The home page: every kiosk's health (last sync, pending records, clock offset, reader), silent kiosks marked,
and the accounts and addresses refused for too many failed logins."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sync.server import db as store
from sync.server.pages.common import Pages

SILENT_HOURS = 24  # a kiosk not heard from for longer stands out on the health page


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, page, get_db = ctx.librarian, ctx.page, ctx.get_db

    @pages.get("/", response_class=HTMLResponse)
    def home(request: Request):
        who = librarian(request)
        # The desk is no device: its records are in the log, its health is the server's.
        kiosks = [k for k in store.kiosks(get_db()) if k["id"] != store.DESK_ID]
        now = store.utc_now()
        for k in kiosks:
            seen = k["last_seen"]
            k["silent"] = seen is None or (now - datetime.fromisoformat(seen)) > timedelta(hours=SILENT_HOURS)
        return page(request, "home.html", who, kiosks=kiosks, silent_hours=SILENT_HOURS,
                    locked=request.app.state.throttle.locked())

    return pages
