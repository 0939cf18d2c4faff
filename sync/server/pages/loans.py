"""Current loans and overdue books per class, printable for homeroom teachers; student and staff registers; slips.

The overdue list prints one A4 page per class, headed with the school's
name and the day it is as of; slips put one student's overdue books on a
quarter page, four to a sheet, for the homeroom teacher to hand out.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sync.server import db as store
from sync.server.pages.common import Pages

WHO = ("", "students", "staff")  # the school keeps a student register and a staff register


def loan_rows(db, today, overdue: bool, who: str, class_name: str) -> list[dict]:
    """Current loans (only overdue ones if asked), of students or staff, of one class (any case) or all."""
    rows = store.current_loans(db, today)
    if overdue:
        rows = [r for r in rows if r["days_overdue"] > 0]
    if who == "students":
        rows = [r for r in rows if r["patron_type"] == "student"]
    elif who == "staff":
        rows = [r for r in rows if r["patron_type"] not in (None, "student")]
    if class_name.strip():
        rows = [r for r in rows if (r["class_name"] or "").casefold() == class_name.strip().casefold()]
    return rows


def by_class(rows: list[dict]) -> dict[str, list[dict]]:
    classes: dict[str, list] = {}
    for row in rows:
        classes.setdefault(row["class_name"] or "-", []).append(row)
    return classes


def slips_of(rows: list[dict]) -> list[list[dict]]:
    """One slip per student (their overdue books), four slips to a sheet."""
    students: dict[str, dict] = {}
    for row in rows:
        slip = students.setdefault(row["patron_id"], {"patron_id": row["patron_id"], "name": row["patron_name"],
                                                      "class_name": row["class_name"], "books": []})
        slip["books"].append(row)
    slips = list(students.values())
    return [slips[i:i + 4] for i in range(0, len(slips), 4)]


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, page, get_db = ctx.librarian, ctx.page, ctx.get_db

    @pages.get("/loans", response_class=HTMLResponse)
    def loans_page(request: Request, overdue: str = "", who: str = ""):
        person = librarian(request)
        problem = "" if overdue in ("", "0", "1") else \
            f"overdue={overdue!r}: 1 shows the overdue books only; every loan is shown instead."
        late = int(overdue == "1")
        db = get_db()
        today = store.local_today(db)
        class_name = request.query_params.get("class", "")
        who = who if who in WHO else ""
        rows = loan_rows(db, today, bool(late), who, class_name)
        all_classes = sorted({r["class_name"] for r in store.current_loans(db, today) if r["class_name"]})
        return page(request, "loans.html", person, 400 if problem else 200, classes=by_class(rows), overdue=late,
                    today=today, register=who, class_name=class_name, all_classes=all_classes, problem=problem)

    @pages.get("/slips", response_class=HTMLResponse)
    def slips(request: Request, patron: str = ""):
        person = librarian(request)
        db = get_db()
        today = store.local_today(db)
        class_name = request.query_params.get("class", "")
        rows = loan_rows(db, today, True, "students", class_name)  # slips go home with the students
        if patron:
            rows = [r for r in rows if r["patron_id"] == patron]
        return page(request, "slips.html", person, sheets=slips_of(rows), today=today, class_name=class_name)

    return pages
