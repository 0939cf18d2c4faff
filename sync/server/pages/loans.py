"""Current loans and overdue books per class, printable for homeroom teachers."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sync.server import db as store
from sync.server.pages.common import Pages


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, page, get_db = ctx.librarian, ctx.page, ctx.get_db

    @pages.get("/loans", response_class=HTMLResponse)
    def loans_page(request: Request, overdue: str = ""):
        who = librarian(request)
        problem = "" if overdue in ("", "0", "1") else \
            f"overdue={overdue!r}: 1 shows the overdue books only; every loan is shown instead."
        rows = store.current_loans(get_db(), date.today())
        if overdue == "1":
            rows = [r for r in rows if r["days_overdue"] > 0]
        classes: dict[str, list] = {}
        for row in rows:
            classes.setdefault(row["class_name"] or "-", []).append(row)
        return page(request, "loans.html", who, 400 if problem else 200, classes=classes, overdue=overdue == "1",
                    problem=problem)

    return pages
