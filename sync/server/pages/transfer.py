"""Import of patrons and books from CSV (all or nothing, every bad row named) and the CSV exports.

Files in UTF-8 (with or without BOM), GBK or GB18030 are taken, and the page
says which it read; every export is also offered as "CSV for Excel" (UTF-8
with a BOM, which Excel on a Chinese Windows needs to read it right).
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from kiosk.core.csvfile import csv_for_excel, csv_text
from kiosk.domain.encodings import decode_named
from kiosk.domain.errors import ImportRejected, KioskError
from kiosk.domain.money import money_text
from sync.server import db as store
from sync.server.pages.common import Pages, language, translator
from sync.server.pages.loans import loan_rows
from sync.server.words import N_

IMPORTED = N_("{name}: imported {count} {kind} (read as {encoding})")
KINDS = {"patrons": N_("patrons"), "items": N_("items")}


def export_rows(db, what: str, params) -> list[dict] | None:
    """The rows of one export; None when there is no such export."""
    today = store.local_today(db)
    if what in ("loans", "overdue"):
        return loan_rows(db, today, what == "overdue", params.get("who", ""), params.get("class", ""))
    if what == "log":
        return list(store.log_records(db))
    if what in ("patrons", "items"):
        return store.all_rows(db, what)
    if what == "charges":
        columns = ("id", "patron_id", "patron_name", "class_name", "item_id", "title", "reason", "status",
                   "created", "created_by", "settled", "settled_by", "note")
        return [{k: r[k] for k in columns} | {"amount": money_text(r["amount_cents"])}
                for r in store.list_charges(db, status=params.get("status", ""))]
    if what == "stats":
        facts = store.reading_statistics(db, store.term_start(db, today), today)
        goal = store.get_rules(db).term_goal
        return [{"id": r["id"], "name": r["name"], "class": r["class_name"], "books_this_term": r["books"],
                 "goal": goal} for r in facts["students"]]
    return None


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db, write_lock = ctx.librarian, ctx.checked, ctx.page, ctx.get_db, ctx.write_lock

    @pages.get("/export/{what}.csv")
    def export(request: Request, what: str, excel: int = 0):
        librarian(request)
        rows = export_rows(get_db(), what, request.query_params)
        if rows is None:
            return Response("no such export", status_code=404)
        text = csv_for_excel(rows) if excel else csv_text(rows)
        name = f"{what}-excel.csv" if excel else f"{what}.csv"
        return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @pages.get("/import", response_class=HTMLResponse)
    def import_form(request: Request):
        return page(request, "import.html", librarian(request), problems=None, done=None)

    @pages.post("/import", response_class=HTMLResponse)
    async def import_file(request: Request, kind: str = Form(...), file: UploadFile = None, csrf: str = Form("")):
        who = checked(request, csrf)
        t = translator(language(request))
        if kind not in ("patrons", "items") or file is None:
            return page(request, "import.html", who, 400, problems=[t(N_("Choose patrons or books, and a CSV file."))],
                        done=None)
        data = await file.read()
        name = file.filename or "upload.csv"
        try:
            text, encoding = decode_named(data, name)
            with write_lock:
                count = store.import_csv(get_db(), kind, text, name)
                store.audit_now(get_db(), who["librarian"], f"import {kind}", name, f"{count} rows, {encoding}")
        except ImportRejected as exc:
            return page(request, "import.html", who, 422, problems=exc.problems, source=name, done=None)
        except KioskError as exc:
            return page(request, "import.html", who, 422, problems=[str(exc)], source=name, done=None)
        done = t(IMPORTED).format(name=name, count=count, kind=t(KINDS[kind]), encoding=encoding)
        return page(request, "import.html", who, problems=None, done=done)

    return pages
