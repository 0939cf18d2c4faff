"""The register of charges for lost and damaged books, and of payments: settled as paid or waived, as CSV."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kiosk.domain.errors import KioskError
from sync.server import db as store
from sync.server.pages.common import Pages

FILTERS = ("open", "paid", "waived", "")


def safe_back(back: str, default: str) -> str:
    """A page of this site to go back to; anything else goes to `default`."""
    return back if back.startswith("/") and not back.startswith("//") and "\\" not in back else default


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db, write_lock = ctx.librarian, ctx.checked, ctx.page, ctx.get_db, ctx.write_lock

    @pages.get("/charges", response_class=HTMLResponse)
    def charges_page(request: Request, status: str = "open", error: str = ""):
        who = librarian(request)
        status = status if status in FILTERS else "open"
        rows = store.list_charges(get_db(), status=status)
        total = sum(r["amount_cents"] for r in rows)
        return page(request, "charges.html", who, charges=rows, showing=status, total=total, error=error,
                    back=f"/charges?status={status}")

    @pages.post("/charges/{charge_id}")
    def settle(request: Request, charge_id: int, csrf: str = Form(""), status: str = Form(...),
               note: str = Form(""), back: str = Form("/charges")):
        who = checked(request, csrf)
        back = safe_back(back, "/charges")
        try:
            with write_lock:
                store.settle(get_db(), who["librarian"], charge_id, status, note)
        except KioskError as exc:
            joiner = "&" if "?" in back else "?"
            return RedirectResponse(back + joiner + urlencode({"error": str(exc)}), status_code=303)
        return RedirectResponse(back, status_code=303)

    return pages
