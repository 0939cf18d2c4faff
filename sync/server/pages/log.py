"""The merged log of all kiosks, filtered, newest first, with keyset paging."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sync.server import db as store
from sync.server.pages.common import Pages


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, page, get_db = ctx.librarian, ctx.page, ctx.get_db

    @pages.get("/log", response_class=HTMLResponse)
    def log_page(request: Request, since: str = "", until: str = "", kiosk: str = "", klass: str = "",
                 patron: str = "", item: str = "", kind: str = "", flagged: str = "", before: str = ""):
        who = librarian(request)
        filters = {"since": since, "until": until, "kiosk": kiosk, "class": klass, "patron": patron, "item": item,
                   "kind": kind, "flagged": flagged}
        key = None
        if before:
            at, kiosk_id, seq = before.rsplit("|", 2)
            key = (at, kiosk_id, int(seq))
        rows = store.browse_log(get_db(), filters, key)
        nxt = f"{rows[-1]['corrected_at']}|{rows[-1]['kiosk_id']}|{rows[-1]['seq']}" if len(rows) == 50 else ""
        return page(request, "log.html", who, rows=rows, filters=filters, next_key=nxt)

    return pages
