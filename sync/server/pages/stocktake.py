"""The stocktake page: what the kiosks counted on a home's shelves, printable and as CSV, and closing it.

Closing marks the missing books lost in one step, after the librarian has
confirmed how many; each is in the repair and withdrawal register, and a
kiosk that sees one again puts it back in circulation.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiosk.core.csvfile import csv_table
from kiosk.domain.errors import KioskError
from kiosk.domain.view import N_
from sync.server import db as store
from sync.server import i18n
from sync.server.pages.common import Pages, language

SHOWN = 500  # rows of one state on the page (a shelf's worth to look for); the CSV has them all
LABELS = {
    "missing": (N_("Missing"), N_("belong here, not seen, not on loan: look for them, then close the stocktake")),
    "misplaced": (N_("Misplaced"), N_("seen here, belong elsewhere: the kiosk told the volunteer where they go")),
    "seen_elsewhere": (N_("Seen at another home"), N_("belong here, counted at another home's kiosk: fetch them")),
    "on_loan_seen": (N_("On loan, found on the shelf"), N_("the loan was closed: tell the student's teacher")),
    "unavailable_seen": (N_("Out of circulation, found on the shelf"),
                         N_("withdrawn, lost or in repair: take them off")),
    "seen": (N_("Seen where they belong"), ""),
}
NO_HOME = N_("No home {home}: choose one of the list.")
TICK = N_("Tick the box to confirm that the missing books are to be marked lost.")


def _choice(db, home: str, since: str, t, listed: bool = True) -> tuple[list[dict], str, str, str]:
    """The homes to choose from (unless `listed` is false and a home is chosen), and the chosen home and day
    (default: the first home, a week ago)."""
    homes = store.homes_list(db) if listed or not home else []
    home = home or (homes[0]["home"] if homes else "")
    week_ago = (store.local_today(db) - timedelta(days=7)).isoformat()
    error = ""
    try:
        since = store.parse_day(since or week_ago)
    except KioskError as exc:
        error, since = str(exc), week_ago
    if home and not store.known_home(db, home):
        error, home = t(NO_HOME).format(home=home), ""
    return homes, home, since, error


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db, write_lock = ctx.librarian, ctx.checked, ctx.page, ctx.get_db, ctx.write_lock

    @pages.get("/stocktake", response_class=HTMLResponse)
    def stocktake(request: Request, home: str = "", since: str = "", error: str = "", done: str = ""):
        who = librarian(request)
        db = get_db()
        homes, home, since, problem = _choice(db, home, since, i18n.catalog(language(request)).gettext)
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
        _, home, since, problem = _choice(db, home, since, i18n.catalog(language(request)).gettext, listed=False)
        if problem or not home:
            return Response(problem or "no home to count", status_code=404)
        text = csv_table(store.REPORT_KEYS, store.reconcile_rows(db, home, since))
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="stocktake-{since}.csv"'})

    @pages.post("/stocktake/close")
    def close(request: Request, home: str = Form(...), since: str = Form(...), confirmed: int = Form(...),
              sure: str = Form(""), csrf: str = Form("")):
        who = checked(request, csrf)
        catalog = i18n.catalog(language(request))
        query = {"home": home, "since": since}
        if sure != "yes":
            query["error"] = catalog.gettext(TICK)
            return RedirectResponse("/stocktake?" + urlencode(query), status_code=303)
        try:
            with write_lock:
                number, marked = store.close_stocktake(get_db(), who["librarian"], home, store.parse_day(since),
                                                       confirmed)
        except KioskError as exc:
            query["error"] = str(exc)
        else:
            query["done"] = catalog.ngettext(
                "Stocktake %(number)s closed: %(num)s missing book marked lost; a kiosk that sees it puts it back"
                " in circulation.",
                "Stocktake %(number)s closed: %(num)s missing books marked lost; a kiosk that sees one puts it back"
                " in circulation.", marked) % {"number": number, "num": marked}
        return RedirectResponse("/stocktake?" + urlencode(query), status_code=303)

    return pages
