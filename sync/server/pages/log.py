"""The merged log of all kiosks, filtered, newest first, with keyset paging."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sync.server import db as store
from sync.server.pages.common import Pages


def place(before: str) -> tuple[str, str, int] | None:
    """The key `time|kiosk|seq` of the last row of the page before, or None when it is not one."""
    parts = before.rsplit("|", 2)
    if len(parts) != 3 or not (parts[2].isascii() and parts[2].isdigit()) or int(parts[2]) > 2**53:
        return None
    try:
        datetime.fromisoformat(parts[0])
    except ValueError:
        return None
    return parts[0], parts[1], int(parts[2])


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
        key, problem = None, ""
        if before:
            key = place(before)
            if key is None:
                problem = f"before={before!r} is not a place in the log: the newest records are shown instead."
        rows = store.browse_log(get_db(), filters, key)
        nxt = f"{rows[-1]['corrected_at']}|{rows[-1]['kiosk_id']}|{rows[-1]['seq']}" if len(rows) == 50 else ""
        return page(request, "log.html", who, 400 if problem else 200, rows=rows, filters=filters, next_key=nxt,
                    problem=problem)

    return pages
