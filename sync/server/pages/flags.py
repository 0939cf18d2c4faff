"""Records that need a person: unknown tags to attach to a card or a book, flagged records to resolve."""

from __future__ import annotations

import json

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kiosk.domain.errors import KioskError
from sync.server import db as store
from sync.server import words
from sync.server.pages.common import Pages, language, translator


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db, write_lock = ctx.librarian, ctx.checked, ctx.page, ctx.get_db, ctx.write_lock

    def unknown_tags(request: Request, who: dict, error: str = "", status: int = 200):
        return page(request, "unknown.html", who, status, tags=store.unknown_tags(get_db()), error=error)

    @pages.get("/unknown-tags", response_class=HTMLResponse)
    def unknown(request: Request):
        return unknown_tags(request, librarian(request))

    @pages.post("/unknown-tags")
    def attach(request: Request, uid: str = Form(""), kind: str = Form(...), target: str = Form(...),
               csrf: str = Form("")):
        who = checked(request, csrf)
        try:
            with write_lock:
                store.attach_uid(get_db(), who["librarian"], uid, "patron" if kind == "patron" else "item",
                                 target.strip())
        except KioskError as exc:
            return unknown_tags(request, who, str(exc), 422)
        return RedirectResponse("/unknown-tags", status_code=303)

    def flagged_page(request: Request, who: dict, problem: str = "", status: int = 200):
        db = get_db()
        t = translator(language(request))
        rows = store.flagged(db)
        for row in rows:
            row["details"] = json.loads(row["details"] or "{}")
        mentioned = {row["details"].get(k) for row in rows for k in ("transfer_to", "transfer_from")}
        patrons, titles = store.names(db, {r["patron_id"] for r in rows} | mentioned, {r["item_id"] for r in rows})
        for row in rows:
            row["words"] = words.record(row, row["details"], t, lambda pid: patrons.get(pid, pid))
            row["why"] = words.flag(row["reason"], row["detail"], row, row["details"], t)
            row["patron_name"], row["title"] = patrons.get(row["patron_id"]), titles.get(row["item_id"])
        return page(request, "flagged.html", who, status, rows=rows, problem=problem)

    @pages.get("/flagged", response_class=HTMLResponse)
    def flagged(request: Request):
        return flagged_page(request, librarian(request))

    @pages.post("/flagged")
    def resolve(request: Request, kiosk_id: str = Form(""), seq: str = Form(""), resolution: str = Form(""),
                csrf: str = Form("")):
        who = checked(request, csrf)
        if not (seq.isascii() and seq.isdigit()) or not 1 <= int(seq) <= 2**53:
            return flagged_page(request, who, f"Nothing was resolved: {seq!r} is not a record number.", 422)
        try:
            with write_lock:
                store.resolve_flag(get_db(), who["librarian"], kiosk_id, int(seq), resolution)
        except KioskError as exc:
            return flagged_page(request, who, f"Nothing was resolved: {exc}.", 422)
        return RedirectResponse("/flagged", status_code=303)

    return pages
