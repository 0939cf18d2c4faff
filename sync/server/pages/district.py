"""The district page: every school's reading against the goal, the district's most borrowed books, a school to open.

Only a district account sees it; a school's librarian is sent to her own
school's pages.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sync.server import db as store
from sync.server.pages.common import SCHOOL_COOKIE, Pages
from sync.server.pages.reading import bar_chart


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)

    @pages.get("/district", response_class=HTMLResponse)
    def district(request: Request):
        who = ctx.librarian(request)
        if not who["district"]:
            return RedirectResponse("/", status_code=303)
        facts = store.district_statistics(ctx.district_db(), date.today())
        # Each school sets its own goal; the chart's line is the most common one.
        goals = [s["goal"] for s in facts["schools"]]
        chart = bar_chart([(s["name"], s["per_student"] or 0) for s in facts["schools"]],
                          goal=max(set(goals), key=goals.count), unit="books per student this term")
        return ctx.page(request, "district.html", who, facts=facts, chart=chart)

    @pages.post("/district/school")
    def open_school(request: Request, school: int = Form(...), csrf: str = Form("")):
        who = ctx.checked(request, csrf)
        response = RedirectResponse("/" if who["district"] else "/district", status_code=303)
        if who["district"] and any(s["id"] == school for s in store.schools(ctx.district_db())):
            response.set_cookie(SCHOOL_COOKIE, str(school), httponly=True, samesite="strict")
        return response

    return pages
