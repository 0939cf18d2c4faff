"""The stocktake page: what the kiosks counted on a home's shelves, printable and as CSV, and closing it.

Closing marks the missing books lost in one step, after the librarian has
confirmed how many; each is in the repair and withdrawal register, and a
kiosk that sees one again puts it back in circulation.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiosk.core.csvfile import csv_text
from kiosk.domain.errors import KioskError
from sync.server import db as store
from sync.server.pages.common import Pages

SHOWN = 500  # rows of one state on the page (a shelf's worth to look for); the CSV has them all
LABELS = {
    "missing": ("Missing", "belong here, not seen, not on loan: look for them, then close the stocktake"),
    "misplaced": ("Misplaced", "seen here, belong elsewhere: the kiosk told the volunteer where they go"),
    "seen_elsewhere": ("Seen at another home", "belong here, counted at another home's kiosk: fetch them"),
    "on_loan_seen": ("On loan, found on the shelf", "the loan was closed: tell the student's teacher"),
    "unavailable_seen": ("Out of circulation, found on the shelf", "withdrawn, lost or in repair: take them off"),
    "seen": ("Seen where they belong", ""),
}


def _choice(db, home: str, since: str) -> tuple[list[dict], str, str, str]:
    """The homes to choose from, and the chosen home and day (default: the first home, a week ago)."""
    homes = store.homes_list(db)
    home = home or (homes[0]["home"] if homes else "")
    since = since or (date.today() - timedelta(days=7)).isoformat()
    error = ""
    try:
        since = store.parse_day(since)
    except KioskError as exc:
        error, since = str(exc), (date.today() - timedelta(days=7)).isoformat()
    if home and not store.known_home(db, home):
        error, home = f"no home {home!r}: choose one of the list", ""
    return homes, home, since, error


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db, write_lock = ctx.librarian, ctx.checked, ctx.page, ctx.get_db, ctx.write_lock

    @pages.get("/stocktake", response_class=HTMLResponse)
    def stocktake(request: Request, home: str = "", since: str = "", error: str = "", done: str = ""):
        who = librarian(request)
        db = get_db()
        homes, home, since, problem = _choice(db, home, since)
        if home:
            counts, by_state = store.stocktake_lists(db, home, since, SHOWN)
        else:
            counts, by_state = {}, {}
        names = {h["home"]: h["name"] for h in homes}
        return page(request, "stocktake.html", who, homes=homes, home=home, since=since, names=names,
                    error=error or problem, done=done, by_state=by_state, counts=counts,
                    labels=LABELS, query=urlencode({"home": home, "since": since}),
                    still_missing=store.still_missing(db), closed=store.stocktakes(db))

    @pages.get("/stocktake.csv")
    def stocktake_csv(request: Request, home: str = "", since: str = ""):
        librarian(request)
        db = get_db()
        _, home, since, problem = _choice(db, home, since)
        if problem or not home:
            return Response(problem or "no home to count", status_code=404)
        return Response(csv_text(store.reconcile(db, home, since), list(store.REPORT_KEYS)), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="stocktake-{since}.csv"'})

    @pages.post("/stocktake/close")
    def close(request: Request, home: str = Form(...), since: str = Form(...), confirmed: int = Form(...),
              sure: str = Form(""), csrf: str = Form("")):
        who = checked(request, csrf)
        query = {"home": home, "since": since}
        if sure != "yes":
            query["error"] = "tick the box to confirm that the missing books are to be marked lost"
            return RedirectResponse("/stocktake?" + urlencode(query), status_code=303)
        try:
            with write_lock:
                number, marked = store.close_stocktake(get_db(), who["librarian"], home, store.parse_day(since),
                                                       confirmed)
        except KioskError as exc:
            query["error"] = str(exc)
        else:
            query["done"] = (f"stocktake {number} closed: {marked} missing book{'s' if marked != 1 else ''} marked "
                             "lost; a kiosk that sees one puts it back in circulation")
        return RedirectResponse("/stocktake?" + urlencode(query), status_code=303)

    return pages
