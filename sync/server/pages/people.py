"""A page per student (loans, this term's history and reading, blocks, charges) and per book (where it belongs,
where it is, who has it, its history and repairs), with what the librarian may do from each."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from kiosk.domain import desk as rules_at_desk
from kiosk.domain.errors import KioskError
from kiosk.domain.money import parse_money
from sync.server import db as store
from sync.server import words
from sync.server.pages.common import Pages, language, translator


def history_rows(db, rows: list[dict], t) -> list[dict]:
    """Log rows with their words and the names of the other patrons they mention."""
    mentioned = {d.get(k) for r in rows for d in [r["details"]] for k in ("transfer_to", "transfer_from",
                                                                             "from_patron")}
    patrons, _ = store.names(db, mentioned, ())
    for row in rows:
        row["words"] = words.record(row, row["details"], t, lambda pid: patrons.get(pid, pid))
        row["by"] = row["details"].get("librarian", "")
    return rows


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db, write_lock = ctx.librarian, ctx.checked, ctx.page, ctx.get_db, ctx.write_lock

    @pages.get("/person/{patron_id}", response_class=HTMLResponse)
    def person_page(request: Request, patron_id: str, error: str = ""):
        who = librarian(request)
        db = get_db()
        today = store.local_today(db)
        facts = store.person(db, patron_id, store.term_start(db, today))
        if facts is None:
            return HTMLResponse("Not found", status_code=404)
        t = translator(language(request))
        patron = store.find_patron(db, patron_id)
        loans = store.loans_of(db, patron_id)
        charges = store.charges_facts(db, patron_id)
        policy = store.get_rules(db)
        reason = rules_at_desk.block_reason(policy, patron, loans, today, charges)
        block = words.refusal(reason, {"days": policy.block_overdue_days, "owed": charges.owed,
                                       "max": policy.rule_for(patron.type).max_loans}, t) if reason else ""
        for loan in facts["loans"]:
            loan["late"] = max(0, (today - date.fromisoformat(loan["due"])).days)
        return page(request, "person.html", who, facts=facts, p=facts["patron"], block=block, error=error,
                    history=history_rows(db, facts["history"], t), goal=store.get_rules(db).term_goal,
                    since=store.term_start(db, today), owed=charges.owed)

    @pages.get("/book/{item_id}", response_class=HTMLResponse)
    def book_page(request: Request, item_id: str, error: str = ""):
        who = librarian(request)
        db = get_db()
        facts = store.book(db, item_id)
        if facts is None:
            return HTMLResponse("Not found", status_code=404)
        t = translator(language(request))
        return page(request, "book.html", who, facts=facts, b=facts["item"], error=error,
                    history=history_rows(db, facts["history"], t), today=store.local_today(db),
                    missing=store.still_missing(db, item_id))

    @pages.post("/book/{item_id}/mark")
    def mark(request: Request, item_id: str, csrf: str = Form(""), what: str = Form(...), charge: str = Form(""),
             note: str = Form("")):
        who = checked(request, csrf)
        db = get_db()
        try:
            with write_lock:
                if what in ("lost", "damaged"):
                    cents = parse_money(charge, "charge") if charge.strip() else None
                    store.close_as(db, item_id, what, librarian=who["librarian"], charge=cents,
                                   note=note.strip()[:300])
                elif what == "found":
                    store.desk_action(db, "return", "", item_id, librarian=who["librarian"])
                else:
                    store.set_item_status(db, who["librarian"], item_id, what, note.strip()[:300])
        except (KioskError, ValueError) as exc:
            return RedirectResponse(f"/book/{quote(item_id)}?{urlencode({'error': str(exc)})}", status_code=303)
        return RedirectResponse(f"/book/{quote(item_id)}", status_code=303)

    return pages
