"""Patrons and books: search, block or unblock, repair or withdraw, edit a row by the import's rules, registers."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from kiosk.core.csvfile import csv_text
from kiosk.domain.errors import ImportRejected, KioskError
from sync.server import db as store
from sync.server.pages.common import Pages


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db, write_lock = ctx.librarian, ctx.checked, ctx.page, ctx.get_db, ctx.write_lock

    def listing(request: Request, who: dict, table: str, q: str, error: str = "", status: int = 200):
        db = get_db()
        return page(request, "rows.html", who, status, table=table, q=q, rows=store.find_rows(db, table, q),
                    error=error, register=store.register(db, table))

    @pages.get("/{table}", response_class=HTMLResponse)
    def people_and_books(request: Request, table: str, q: str = ""):
        if table not in ("patrons", "items"):
            return HTMLResponse("Not found", status_code=404)
        return listing(request, librarian(request), table, q)

    @pages.post("/{table}/status")
    def set_status(request: Request, table: str, row_id: str = Form(...), status: str = Form(...),
                   note: str = Form(""), csrf: str = Form(""), q: str = Form("")):
        who = checked(request, csrf)
        if table not in ("patrons", "items"):
            return HTMLResponse("Not found", status_code=404)
        try:
            with write_lock:
                if table == "items":  # lost closes a loan and charges; a lost book made available is found
                    store.set_item_status(get_db(), who["librarian"], row_id, status, note.strip()[:500])
                else:
                    store.set_status(get_db(), who["librarian"], table, row_id, status, note.strip()[:500])
        except KioskError as exc:
            return listing(request, who, table, q, str(exc), 422)
        return RedirectResponse(f"/{table}?{urlencode({'q': q})}", status_code=303)

    @pages.get("/{table}/{row_id}", response_class=HTMLResponse)
    def edit_form(request: Request, table: str, row_id: str):
        who = librarian(request)
        if table not in ("patrons", "items"):
            return HTMLResponse("Not found", status_code=404)
        rows = [r for r in store.all_rows(get_db(), table) if r["id"] == row_id]
        if not rows:
            return HTMLResponse("Not found", status_code=404)
        return page(request, "edit.html", who, table=table, row=rows[0], problems=None)

    @pages.post("/{table}/{row_id}", response_class=HTMLResponse)
    async def edit(request: Request, table: str, row_id: str):
        form = await request.form()
        # The checks and the write in a worker thread: the event loop never waits on the write lock.
        return await run_in_threadpool(save_edit, request, table, row_id, form)

    def save_edit(request: Request, table: str, row_id: str, form):
        who = checked(request, str(form.get("csrf", "")))
        if table not in ("patrons", "items"):
            return HTMLResponse("Not found", status_code=404)
        current = [r for r in store.all_rows(get_db(), table) if r["id"] == row_id]
        if not current:
            return HTMLResponse("Not found", status_code=404)
        row = {k: str(form.get(k, v if v is not None else "")).strip() for k, v in current[0].items()}
        row["id"] = row_id
        # The same checks as an import of one row: one set of rules for every way in.
        try:
            with write_lock:
                store.import_csv(get_db(), table, csv_text([row]), "the form")
                store.audit_now(get_db(), who["librarian"], f"{table[:-1]} edited", row_id,
                                ", ".join(f"{k}={row[k]}" for k in row if str(current[0][k] or "") != row[k]))
        except ImportRejected as exc:
            problems = [p.replace("line 2: ", "") for p in exc.problems]
            return page(request, "edit.html", who, 422, table=table, row=row, problems=problems)
        return RedirectResponse(f"/{table}?{urlencode({'q': row_id})}", status_code=303)

    return pages
