"""Import of patrons and books from CSV (all or nothing, every bad row named) and the CSV exports.

Files in UTF-8 (with or without BOM), GBK or GB18030 are taken, and the page
says which it read; every export is also offered as "CSV for Excel" (UTF-8
with a BOM, which Excel on a Chinese Windows needs to read it right).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from kiosk.core.csvfile import csv_for_excel, csv_text
from kiosk.domain.encodings import decode_named
from kiosk.domain.errors import ImportRejected, KioskError
from kiosk.domain.money import money_text
from sync.server import db as store
from sync.server.limits import FORM_SLACK
from sync.server.pages.common import Pages, language, translator
from sync.server.pages.loans import loan_rows
from sync.server.settings import MB
from sync.server.words import N_

IMPORTED = N_("{name}: imported {count} {kind} (read as {encoding})")
KINDS = {"patrons": N_("patrons"), "items": N_("items")}
DRAIN_AT_MOST = 256 * MB  # an answer to an absurd upload may be a reset; to a merely large one, a page


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


def too_large(size: int, limit: int) -> str:
    """The import page's words for a file over the limit."""
    return (f"The file is {size / MB:.1f} MB; the import takes files up to {limit / MB:g} MB "
            f"(kiosk-central serve --max-upload-mb). Split it, or import it with kiosk-central import.")


async def drain(request: Request) -> None:
    """Read a refused body to its end (or DRAIN_AT_MOST), keeping none of it."""
    read = 0
    try:
        async for chunk in request.stream():
            read += len(chunk)
            if read > DRAIN_AT_MOST:
                return
    except ClientDisconnect:
        return


def import_text(ctx: Pages, librarian: str, kind: str, data: bytes, name: str) -> tuple[int, str]:
    """An uploaded file imported: read, checked and staged outside the write lock (seconds for a big file).

    Only applying the staged rows holds the lock that kiosks' pushes wait
    on. Should a tag have been attached meanwhile, the file is checked again
    under the lock, so an import never takes a UID given away since.
    Returns the rows imported and the encoding the file was read in.
    """
    db = ctx.get_db()
    text, encoding = decode_named(data, name)
    owners = store.uid_owners(db, kind)
    store.stage(db, kind, store.parse_csv(db, kind, text, name))
    with ctx.write_lock:
        if store.uid_owners(db, kind) != owners:
            store.stage(db, kind, store.parse_csv(db, kind, text, name))
        count = store.apply_staged(db, kind)
        store.audit_now(db, librarian, f"import {kind}", name, f"{count} rows, {encoding}")
    return count, encoding


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db = ctx.librarian, ctx.checked, ctx.page, ctx.get_db

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
    async def import_file(request: Request):
        who = await ctx.librarian_off_loop(request)
        t = translator(language(request))
        limit = request.app.state.settings.max_upload_bytes
        declared = request.headers.get("content-length", "")
        if not declared.isdigit() or int(declared) > limit + FORM_SLACK:
            await drain(request)  # read to the end, so the browser hears the answer rather than a reset
            return page(request, "import.html", who, 413, problems=[too_large(int(declared or 0), limit)],
                        done=None)
        form = await request.form(max_files=1, max_fields=50)
        who = await ctx.librarian_off_loop(request, str(form.get("csrf", "")))
        kind, upload = form.get("kind"), form.get("file")
        if kind not in ("patrons", "items") or not hasattr(upload, "read"):
            return page(request, "import.html", who, 400, problems=[t(N_("Choose patrons or books, and a CSV file."))],
                        done=None)
        name = upload.filename or "upload.csv"
        data = await upload.read(limit + 1)
        if len(data) > limit:
            return page(request, "import.html", who, 413, problems=[too_large(len(data), limit)], source=name,
                        done=None)
        try:
            # In a worker thread: the event loop goes on answering the kiosks' pushes.
            count, encoding = await run_in_threadpool(import_text, ctx, who["librarian"], kind, data, name)
        except ImportRejected as exc:
            return page(request, "import.html", who, 422, problems=exc.problems, more=exc.more, source=name,
                        done=None)
        except KioskError as exc:
            return page(request, "import.html", who, 422, problems=[str(exc)], source=name, done=None)
        done = t(IMPORTED).format(name=name, count=count, kind=t(KINDS[kind]), encoding=encoding)
        return page(request, "import.html", who, problems=None, done=done)

    return pages
