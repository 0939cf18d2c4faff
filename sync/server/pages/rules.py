"""The circulation rules editor: checked by the same parser as every other way in, pulled by every kiosk."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from kiosk.domain.errors import KioskError
from kiosk.domain.model import PATRON_TYPES
from kiosk.domain.policy import parse_policy, policy_to_table
from sync.server import db as store
from sync.server.pages.common import Pages


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db, write_lock = ctx.librarian, ctx.checked, ctx.page, ctx.get_db, ctx.write_lock

    @pages.get("/rules", response_class=HTMLResponse)
    def rules_form(request: Request, saved: str = ""):
        who = librarian(request)
        policy, refused = store.stored_rules(get_db())
        table, problems = policy_to_table(policy), None
        if refused:
            # Stored by an older version that did not check ranges: shown to be put right.
            table = {**table, **store.rules_table(get_db())}
            problems = [f"the kiosks refuse the stored rules and keep their last good ones: {refused}"]
        return page(request, "rules.html", who, rules=table, problems=problems, saved=saved == "1")

    @pages.post("/rules", response_class=HTMLResponse)
    async def rules_save(request: Request):
        form = await request.form()
        # The checks and the write in a worker thread: the event loop never waits on the write lock.
        return await run_in_threadpool(save_form, request, form)

    def save_form(request: Request, form):
        who = checked(request, str(form.get("csrf", "")))
        table: dict = {"block_overdue_days": form.get("block_overdue_days", ""),
                       "closed_weekdays": form.getlist("closed_weekdays"),
                       "holidays": [d.strip() for d in str(form.get("holidays", "")).split() if d.strip()],
                       "term_starts": [d.strip() for d in str(form.get("term_starts", "")).split() if d.strip()],
                       "term_goal": form.get("term_goal", ""), "class_month_goal": form.get("class_month_goal", ""),
                       "showcase_names": form.get("showcase_names") == "on"}
        for ptype in PATRON_TYPES:
            table[ptype] = {key: form.get(f"{ptype}.{key}", "") for key in ("loan_days", "max_loans", "renewals")}
        problems = []

        def number(value, where):
            try:
                return int(str(value).strip())
            except ValueError:
                problems.append(f"{where}: {value!r} is not a whole number")
                return 0

        for key in ("block_overdue_days", "term_goal", "class_month_goal"):
            table[key] = number(table[key], key)
        for ptype in PATRON_TYPES:
            table[ptype] = {k: number(v, f"{ptype} {k}") for k, v in table[ptype].items()}
        if not problems:
            try:
                policy = parse_policy(table, "rules form")
            except KioskError as exc:
                problems.append(str(exc))
        if problems:
            return page(request, "rules.html", who, 422, rules=table, problems=problems, saved=0)
        with write_lock:
            store.save_rules(get_db(), who["librarian"], policy)
        return RedirectResponse("/rules?saved=1", status_code=303)

    return pages
