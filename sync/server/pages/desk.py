"""The desk: a card (or a name, in Chinese or pinyin), then books to lend, take back or renew, by the kiosk's rules.

A USB barcode scanner types the barcode and Enter into the focused field, so
a scan submits the form; a tag UID or a book id typed by hand does too.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from kiosk.domain import desk as rules_at_desk
from kiosk.domain.errors import KioskError
from sync.server import db as store
from sync.server import words
from sync.server.pages.common import Pages, language, translator

MODES = ("checkout", "return", "renew")


def patron_panel(db, patron, t) -> dict:
    """What the desk shows of the patron at hand: loans (late ones marked), what blocks borrowing, the sum owed."""
    today = store.local_today(db)
    loans = store.loans_of(db, patron.id)
    charges = store.charges_facts(db, patron.id)
    policy = store.get_rules(db)
    reason = rules_at_desk.block_reason(policy, patron, loans, today, charges)
    facts = {"days": policy.block_overdue_days, "max": policy.rule_for(patron.type).max_loans,
             "owed": charges.owed}
    lines = [{"loan": loan, "late": max(0, (today - loan.due).days)} for loan in loans]
    left = max(0, policy.rule_for(patron.type).max_loans - len(loans))
    return {"patron": patron, "loans": lines, "block": words.refusal(reason, facts, t) if reason else "",
            "owed": charges.owed, "left": left, "today": today}


def result_words(db, outcome: dict, t) -> str:
    """The outcome of a desk action in the librarian's words."""
    item = store.find_item(db, outcome["item"]) if outcome["item"] else None
    patron = store.find_patron(db, outcome["patron"]) if outcome["patron"] else None
    holder_id = (outcome.get("facts") or {}).get("holder")
    holder = store.find_patron(db, holder_id) if holder_id else None
    return words.desk_message(outcome, item.title if item else "", patron.name if patron else "", t,
                              holder.name if holder else (holder_id or ""))


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, checked, page, get_db, write_lock = ctx.librarian, ctx.checked, ctx.page, ctx.get_db, ctx.write_lock

    def show(request, who, patron_ref: str, mode: str, status: int = 200, **context):
        db = get_db()
        t = translator(language(request))
        patron = store.find_patron(db, patron_ref) if patron_ref.strip() else None
        matches = []
        if patron is None and patron_ref.strip():
            matches = store.search_patrons(db, patron_ref, 30)
            if len(matches) == 1:
                patron = store.find_patron(db, matches[0]["id"])
        panel = patron_panel(db, patron, t) if patron else None
        return page(request, "desk.html", who, status, panel=panel, matches=matches, patron_ref=patron_ref,
                    mode=mode if mode in MODES else "checkout", **context)

    @pages.get("/desk", response_class=HTMLResponse)
    def desk_page(request: Request, patron: str = "", mode: str = "checkout"):
        return show(request, librarian(request), patron, mode)

    @pages.post("/desk", response_class=HTMLResponse)
    def desk_act(request: Request, csrf: str = Form(""), mode: str = Form("checkout"), patron: str = Form(""),
                 item: str = Form(""), override: str = Form(""), due: str = Form(""), then: str = Form("")):
        """One action; `then` is the mode the desk goes on in (a loan's own buttons leave it as it was)."""
        who = checked(request, csrf)
        t = translator(language(request))
        if mode not in MODES or not item.strip():
            return show(request, who, patron, mode, 422, error=t(words.DESK_NEEDS_BOOK))
        try:
            chosen = date.fromisoformat(due) if due.strip() else None
        except ValueError:
            return show(request, who, patron, mode, 422, error=t(words.BAD_DATE).format(value=due))
        db = get_db()
        try:
            with write_lock:
                outcome = store.desk_action(db, mode, patron, item, librarian=who["librarian"],
                                            override=override.strip()[:300], due=chosen)
        except KioskError as exc:
            return show(request, who, patron, mode, 422, error=str(exc))
        # After a return the desk stays with the patron who was at hand, or turns to the borrower.
        shown = patron or outcome["patron"] or ""
        return show(request, who, shown, then or mode, outcome=outcome, said=result_words(db, outcome, t),
                    item_ref=item.strip(), acted=mode)

    @pages.post("/desk/due", response_class=HTMLResponse)
    def desk_due(request: Request, csrf: str = Form(""), patron: str = Form(""), item: str = Form(...),
                 due: str = Form(...)):
        who = checked(request, csrf)
        t = translator(language(request))
        try:
            chosen = date.fromisoformat(due)
        except ValueError:
            return show(request, who, patron, "renew", 422, error=t(words.BAD_DATE).format(value=due))
        db = get_db()
        try:
            with write_lock:
                outcome = store.change_due_date(db, item, chosen, librarian=who["librarian"])
        except KioskError as exc:
            return show(request, who, patron, "renew", 422, error=str(exc))
        return show(request, who, patron, "renew", outcome=outcome, said=result_words(db, outcome, t))

    return pages
