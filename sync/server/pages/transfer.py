"""Import of patrons and books from CSV (all or nothing, every bad row named) and the CSV exports."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from kiosk.core.csvfile import csv_text
from kiosk.domain.catalog import decode
from kiosk.domain.errors import ImportRejected, KioskError
from sync.server import db as store
from sync.server.pages.common import Pages
from sync.server.pages.reading import GOAL_PER_TERM


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db, write_lock = ctx.librarian, ctx.checked, ctx.page, ctx.get_db, ctx.write_lock

    @pages.get("/export/{what}.csv")
    def export(request: Request, what: str):
        librarian(request)
        db = get_db()
        if what == "loans":
            rows = store.current_loans(db, date.today())
        elif what == "overdue":
            rows = [r for r in store.current_loans(db, date.today()) if r["days_overdue"] > 0]
        elif what == "log":
            rows = list(store.log_records(db))
        elif what in ("patrons", "items"):
            rows = store.all_rows(db, what)
        elif what == "stats":
            facts = store.reading_statistics(db, store.term_start(date.today()), date.today())
            rows = [{"id": r["id"], "name": r["name"], "class": r["class_name"], "books_this_term": r["books"],
                     "goal": GOAL_PER_TERM} for r in facts["students"]]
        else:
            return Response("no such export", status_code=404)
        return Response(csv_text(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{what}.csv"'})

    @pages.get("/import", response_class=HTMLResponse)
    def import_form(request: Request):
        return page(request, "import.html", librarian(request), problems=None, done=None)

    @pages.post("/import", response_class=HTMLResponse)
    async def import_file(request: Request, kind: str = Form(...), file: UploadFile = None, csrf: str = Form("")):
        who = checked(request, csrf)
        if kind not in ("patrons", "items") or file is None:
            return page(request, "import.html", who, 400, problems=["choose patrons or items, and a CSV file"],
                        done=None)
        data = await file.read()
        name = file.filename or "upload.csv"
        try:
            with write_lock:
                count = store.import_csv(get_db(), kind, decode(data, name), name)
                store.audit_now(get_db(), who["librarian"], f"import {kind}", name, f"{count} rows")
        except ImportRejected as exc:
            return page(request, "import.html", who, 422, problems=exc.problems, more=exc.more, source=name,
                        done=None)
        except KioskError as exc:
            return page(request, "import.html", who, 422, problems=[str(exc)], source=name, done=None)
        return page(request, "import.html", who, problems=None, done=f"{name}: imported {count} {kind}")

    return pages
