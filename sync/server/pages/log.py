"""The merged log of all kiosks, filtered, newest first, with keyset paging, in words and the school's local time.

Filters take what a librarian types: a name or an id in any case ("li ming",
"s001"), a title, a class ("3a"), a kiosk's name; dates are the school's
local days, both ends included.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from kiosk.domain.records import RECORD_KINDS
from sync.server import db as store
from sync.server import words
from sync.server.pages.common import Pages, language, translator


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def query_filters(db, typed: dict) -> dict:
    """What the librarian typed, as `browse_log` filters: local days as UTC bounds, names as the ids they match."""
    tz = store.zone(db)
    # A kind not in the list matches no record (rather than every record).
    out: dict = {"kind": typed["kind"].strip(), "flagged": typed["flagged"]}
    since, until = _day(typed["since"]), _day(typed["until"])
    if since:
        out["since"] = store.iso(datetime.combine(since, time(0), tz))
    if until:  # the "to" day is included: up to the start of the next day
        out["until"] = store.iso(datetime.combine(until + timedelta(days=1), time(0), tz))
    for key, match in (("patron", store.patron_ids_matching), ("item", store.item_ids_matching),
                       ("kiosk", store.kiosk_ids_matching), ("class", store.classes_matching)):
        if typed[key].strip():
            out[key] = match(db, typed[key])
    return out


def shown(db, rows: list[dict], t) -> list[dict]:
    """Rows with their words: what happened, why it was refused or flagged, the names of those involved."""
    for row in rows:
        row["details"] = json.loads(row["details"] or "{}") if isinstance(row["details"], str) else row["details"]
    mentioned = {row["details"].get(k) for row in rows for k in ("transfer_to", "transfer_from")}
    patrons, _ = store.names(db, mentioned, ())
    for row in rows:
        details = row["details"]
        row["words"] = words.record(row, details, t, lambda pid: patrons.get(pid, pid))
        row["why"] = words.flag(row.get("reason"), None, row, details, t) if row.get("reason") or row["flagged"] \
            else ""
        row["by"] = details.get("librarian", "")
    return rows


def place(before: str) -> tuple[str, str, int] | None:
    """The key `time|kiosk|seq` of the last row of the page before, or None when it is not one."""
    parts = before.rsplit("|", 2)
    if len(parts) != 3 or not (parts[2].isascii() and parts[2].isdigit()) or int(parts[2]) > 2**53:
        return None
    try:
        datetime.fromisoformat(parts[0])
    except ValueError:
        return None
    return parts[0], parts[1], int(parts[2])


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, page, get_db = ctx.librarian, ctx.page, ctx.get_db

    @pages.get("/log", response_class=HTMLResponse)
    def log_page(request: Request, since: str = "", until: str = "", kiosk: str = "", klass: str = "",
                 patron: str = "", item: str = "", kind: str = "", flagged: str = "", before: str = ""):
        who = librarian(request)
        db = get_db()
        typed = {"since": since, "until": until, "kiosk": kiosk, "class": klass, "patron": patron, "item": item,
                 "kind": kind, "flagged": flagged}
        key, problem = None, ""
        if before:
            key = place(before)
            if key is None:
                problem = f"before={before!r} is not a place in the log: the newest records are shown instead."
        rows = store.browse_log(db, query_filters(db, typed), key)
        nxt = f"{rows[-1]['corrected_at']}|{rows[-1]['kiosk_id']}|{rows[-1]['seq']}" if len(rows) == 50 else ""
        t = translator(language(request))
        kinds = sorted(((k, words.word(words.KINDS, k, t)) for k in RECORD_KINDS), key=lambda pair: pair[1])
        return page(request, "log.html", who, 400 if problem else 200, rows=shown(db, rows, t), filters=typed,
                    next_key=nxt, kinds=kinds, problem=problem)

    return pages
