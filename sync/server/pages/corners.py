"""Homes and the rotation of the class book corners: names, each corner's history, plans and packing lists."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kiosk.domain.errors import KioskError
from kiosk.domain.view import N_
from sync.server import db as store
from sync.server import i18n
from sync.server.pages.common import Pages, language

STEPS = 6  # homes a rotation plan's form offers
RENAMED = N_("{home} is now called {name}; the kiosks show it from their next sync.")


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db, write_lock = ctx.librarian, ctx.checked, ctx.page, ctx.get_db, ctx.write_lock

    @pages.get("/homes", response_class=HTMLResponse)
    def homes(request: Request, error: str = "", done: str = ""):
        who = librarian(request)
        db = get_db()
        classes = dict(db.execute("SELECT id, class_name FROM homes").fetchall())
        return page(request, "homes.html", who, homes=store.homes_report(db), classes=classes, error=error, done=done)

    @pages.post("/homes")
    def name_home(request: Request, home: str = Form(""), name: str = Form(""), class_name: str = Form(""),
                  csrf: str = Form("")):
        who = checked(request, csrf)
        try:
            with write_lock:
                store.set_home(get_db(), who["librarian"], home, name, class_name)
        except KioskError as exc:
            return RedirectResponse("/homes?" + urlencode({"error": str(exc)}), status_code=303)
        done = i18n.catalog(language(request)).gettext(RENAMED).format(home=home, name=name.strip())
        return RedirectResponse("/homes?" + urlencode({"done": done}), status_code=303)

    @pages.get("/homes/{home}/history", response_class=HTMLResponse)
    def history(request: Request, home: str):
        who = librarian(request)
        db = get_db()
        if not store.known_home(db, home):
            return HTMLResponse("Not found", status_code=404)
        since = store.term_start(db, store.local_today(db)).isoformat()
        return page(request, "home_history.html", who, home=home, name=store.home_names(db).get(home, home),
                    rows=store.home_history(db, home), reading=store.corner_reading(db, home, since), since=since)

    @pages.get("/rotations", response_class=HTMLResponse)
    def rotations(request: Request, error: str = ""):
        who = librarian(request)
        db = get_db()
        return page(request, "rotations.html", who, plans=store.rotations(db), homes=store.homes_list(db),
                    names=store.home_names(db), steps=range(STEPS), error=error)

    @pages.post("/rotations")
    async def plan(request: Request):
        form = await request.form()
        who = checked(request, str(form.get("csrf", "")))
        order = [str(form.get(f"step{n}", "")) for n in range(STEPS)]
        try:
            with write_lock:
                number = store.create_rotation(get_db(), who["librarian"], [h for h in order if h.strip()],
                                               ring=form.get("ring") == "yes")
        except KioskError as exc:
            return RedirectResponse("/rotations?" + urlencode({"error": str(exc)}), status_code=303)
        return RedirectResponse(f"/rotations/{number}", status_code=303)

    @pages.get("/rotations/{number}", response_class=HTMLResponse)
    def packing(request: Request, number: int):
        who = librarian(request)
        db = get_db()
        plan = next((p for p in store.rotations(db) if p["id"] == number), None)
        if plan is None:
            return HTMLResponse("Not found", status_code=404)
        return page(request, "packing.html", who, plan=plan, boxes=store.packing_lists(db, number),
                    names=store.home_names(db))

    return pages
