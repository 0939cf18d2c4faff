"""The librarian's pages, served by the central store.

Every page and form needs a login (a session cookie, HttpOnly and
SameSite=Strict, that expires); every form carries the session's CSRF token.
Passwords are kept as salted scrypt hashes (the standard library's, slow by
design). Templates are Jinja2 with autoescaping, so a title such as
`<script>` shows as text. All SQL is in `sync.server.db`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Optional

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from kiosk.domain.policy import parse_policy, policy_to_table
from kiosk.core.csvfile import csv_text
from kiosk.domain.errors import ImportRejected, KioskError
from kiosk.domain.catalog import decode
from kiosk.domain.model import PATRON_TYPES
from sync.server import db as store

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
COOKIE = "kiosk_session"
LOGIN_COOKIE = "kiosk_login"
SESSION_HOURS = 8
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
SILENT_HOURS = 24  # a kiosk not heard from for longer stands out on the health page


GOAL_PER_TERM = 15  # the school's reading goals: books per student a term
GOAL_PER_MONTH = 2  # and per student a month, counted by class


def bar_chart(bars: list[tuple[str, float]], goal: float, unit: str, width: int = 640) -> str:
    """A horizontal bar chart as SVG text, with the goal as a dashed line; labels escaped."""
    from html import escape

    row, label_w = 22, 150
    top = max([goal * 1.25] + [value for _, value in bars]) or 1
    scale = (width - label_w - 60) / top
    height = row * len(bars) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(unit)} against the goal of {goal:g}">']
    for i, (label, value) in enumerate(bars):
        y = i * row + 4
        colour = "#006e32" if value >= goal else "#b06000"
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{value * scale:.1f}" height="{row - 6}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + value * scale + 4:.1f}" y="{y + 14}" font-size="12">{value:g}</text>')
    x = label_w + goal * scale
    parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 20}" stroke="#141414" stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="12" text-anchor="middle">goal {goal:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: Optional[str]) -> bool:
    if not stored:
        hashlib.scrypt(b"x", salt=b"0" * 16, dklen=32, **SCRYPT)  # the same time for a name that does not exist
        return False
    _, n, r, p, salt, digest = stored.split("$")
    again = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(again.hex(), digest)


class LoginNeeded(Exception):
    """No valid session: the page answers with a way to the login form."""


def _sid_hash(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def router(get_db, write_lock) -> APIRouter:
    """The pages, over the app's per-thread connection `get_db` and its `write_lock`."""
    pages = APIRouter(include_in_schema=False)

    def librarian(request: Request) -> dict:
        sid = request.cookies.get(COOKIE, "")
        found = store.session(get_db(), _sid_hash(sid)) if sid else None
        if found is None:
            raise LoginNeeded()
        return found

    def checked(request: Request, csrf: str) -> dict:
        who = librarian(request)
        if not hmac.compare_digest(csrf or "", who["csrf"]):
            raise LoginNeeded()
        return who

    def page(request: Request, template: str, who: dict, status: int = 200, **context) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, template, {"who": who, "csrf": who["csrf"], **context},
                                          status_code=status)

    @pages.get("/login")
    def login_form(request: Request, failed: int = 0):
        # Before there is a session, the form's token is checked against a
        # cookie of its own (double submit), so no other site can log a
        # browser in under someone else's account.
        token = secrets.token_urlsafe(24)
        response = TEMPLATES.TemplateResponse(request, "login.html", {"failed": failed, "who": None, "csrf": token})
        response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict")
        return response

    @pages.post("/login")
    def login(request: Request, name: str = Form(...), password: str = Form(...), csrf: str = Form("")):
        db = get_db()
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(csrf, expected):
            return RedirectResponse("/login", status_code=303)
        if not check_password(password, store.librarian_hash(db, name)):
            return RedirectResponse("/login?failed=1", status_code=303)
        sid = secrets.token_urlsafe(32)
        with write_lock:
            store.start_session(db, _sid_hash(sid), name, secrets.token_urlsafe(24),
                                store.utc_now() + timedelta(hours=SESSION_HOURS))
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(COOKIE, sid, max_age=SESSION_HOURS * 3600, httponly=True, samesite="strict")
        return response

    @pages.post("/logout")
    def logout(request: Request, csrf: str = Form("")):
        checked(request, csrf)
        with write_lock:
            store.end_session(get_db(), _sid_hash(request.cookies.get(COOKIE, "")))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @pages.get("/", response_class=HTMLResponse)
    def home(request: Request):
        who = librarian(request)
        kiosks = store.kiosks(get_db())
        now = store.utc_now()
        for k in kiosks:
            seen = k["last_seen"]
            k["silent"] = seen is None or (now - datetime.fromisoformat(seen)) > timedelta(hours=SILENT_HOURS)
        return page(request, "home.html", who, kiosks=kiosks, silent_hours=SILENT_HOURS)

    @pages.get("/log", response_class=HTMLResponse)
    def log_page(request: Request, since: str = "", until: str = "", kiosk: str = "", klass: str = "",
                 patron: str = "", item: str = "", kind: str = "", flagged: str = "", before: str = ""):
        who = librarian(request)
        filters = {"since": since, "until": until, "kiosk": kiosk, "class": klass, "patron": patron, "item": item,
                   "kind": kind, "flagged": flagged}
        key = None
        if before:
            at, kiosk_id, seq = before.rsplit("|", 2)
            key = (at, kiosk_id, int(seq))
        rows = store.browse_log(get_db(), filters, key)
        nxt = f"{rows[-1]['corrected_at']}|{rows[-1]['kiosk_id']}|{rows[-1]['seq']}" if len(rows) == 50 else ""
        return page(request, "log.html", who, rows=rows, filters=filters, next_key=nxt)

    @pages.get("/loans", response_class=HTMLResponse)
    def loans_page(request: Request, overdue: int = 0):
        who = librarian(request)
        rows = store.current_loans(get_db(), date.today())
        if overdue:
            rows = [r for r in rows if r["days_overdue"] > 0]
        classes: dict[str, list] = {}
        for row in rows:
            classes.setdefault(row["class_name"] or "-", []).append(row)
        return page(request, "loans.html", who, classes=classes, overdue=overdue)

    @pages.get("/export/{what}.csv")
    def export(request: Request, what: str):
        librarian(request)
        db = get_db()
        if what == "loans":
            rows = store.current_loans(db, date.today())
        elif what == "overdue":
            rows = [r for r in store.current_loans(db, date.today()) if r["days_overdue"] > 0]
        elif what == "log":
            rows = list(store.log_records(db))
        elif what in ("patrons", "items"):
            rows = store.all_rows(db, what)
        elif what == "stats":
            facts = store.reading_statistics(db, store.term_start(date.today()), date.today())
            rows = [{"id": r["id"], "name": r["name"], "class": r["class_name"], "books_this_term": r["books"],
                     "goal": GOAL_PER_TERM} for r in facts["students"]]
        else:
            return Response("no such export", status_code=404)
        return Response(csv_text(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{what}.csv"'})

    @pages.get("/import", response_class=HTMLResponse)
    def import_form(request: Request):
        return page(request, "import.html", librarian(request), problems=None, done=None)

    @pages.post("/import", response_class=HTMLResponse)
    async def import_file(request: Request, kind: str = Form(...), file: UploadFile = None, csrf: str = Form("")):
        who = checked(request, csrf)
        if kind not in ("patrons", "items") or file is None:
            return page(request, "import.html", who, 400, problems=["choose patrons or items, and a CSV file"],
                        done=None)
        data = await file.read()
        name = file.filename or "upload.csv"
        try:
            with write_lock:
                count = store.import_csv(get_db(), kind, decode(data, name), name)
                store.audit_now(get_db(), who["librarian"], f"import {kind}", name, f"{count} rows")
        except ImportRejected as exc:
            return page(request, "import.html", who, 422, problems=exc.problems, source=name, done=None)
        except KioskError as exc:
            return page(request, "import.html", who, 422, problems=[str(exc)], source=name, done=None)
        return page(request, "import.html", who, problems=None, done=f"{name}: imported {count} {kind}")

    @pages.get("/unknown-tags", response_class=HTMLResponse)
    def unknown(request: Request, error: str = ""):
        return page(request, "unknown.html", librarian(request), tags=store.unknown_tags(get_db()), error=error)

    @pages.post("/unknown-tags")
    def attach(request: Request, uid: str = Form(...), kind: str = Form(...), target: str = Form(...),
               csrf: str = Form("")):
        who = checked(request, csrf)
        try:
            with write_lock:
                store.attach_uid(get_db(), who["librarian"], uid, "patron" if kind == "patron" else "item",
                                 target.strip())
        except KioskError as exc:
            return RedirectResponse(f"/unknown-tags?error={exc}", status_code=303)
        return RedirectResponse("/unknown-tags", status_code=303)

    @pages.get("/flagged", response_class=HTMLResponse)
    def flagged(request: Request):
        return page(request, "flagged.html", librarian(request), rows=store.flagged(get_db()))

    @pages.post("/flagged")
    def resolve(request: Request, kiosk_id: str = Form(...), seq: int = Form(...), resolution: str = Form(...),
                csrf: str = Form("")):
        who = checked(request, csrf)
        with write_lock:
            store.resolve_flag(get_db(), who["librarian"], kiosk_id, seq, resolution)
        return RedirectResponse("/flagged", status_code=303)

    @pages.get("/stats", response_class=HTMLResponse)
    def stats(request: Request, since: str = ""):
        who = librarian(request)
        today = date.today()
        try:
            start = date.fromisoformat(since) if since else store.term_start(today)
        except ValueError:
            start = store.term_start(today)
        facts = store.reading_statistics(get_db(), start, today)
        months = [r for r in facts["per_class"] if r["month"] >= start.isoformat()[:7]]
        chart = bar_chart([(f"{r['class_name']} {r['month']}", r["per_student"] or 0) for r in months],
                          goal=GOAL_PER_MONTH, unit="books per student")
        return page(request, "stats.html", who, facts=facts, chart=chart, months=months,
                    goal_term=GOAL_PER_TERM, goal_month=GOAL_PER_MONTH)

    @pages.get("/rules", response_class=HTMLResponse)
    def rules_form(request: Request, saved: int = 0):
        table = policy_to_table(store.get_rules(get_db()))
        return page(request, "rules.html", librarian(request), rules=table, problems=None, saved=saved)

    @pages.post("/rules", response_class=HTMLResponse)
    async def rules_save(request: Request):
        form = await request.form()
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

    @pages.get("/{table}", response_class=HTMLResponse)
    def people_and_books(request: Request, table: str, q: str = "", error: str = ""):
        if table not in ("patrons", "items"):
            return HTMLResponse("Not found", status_code=404)
        who = librarian(request)
        db = get_db()
        return page(request, "rows.html", who, table=table, q=q, rows=store.find_rows(db, table, q), error=error,
                    register=store.register(db, table))

    @pages.post("/{table}/status")
    def set_status(request: Request, table: str, row_id: str = Form(...), status: str = Form(...),
                   note: str = Form(""), csrf: str = Form(""), q: str = Form("")):
        who = checked(request, csrf)
        if table not in ("patrons", "items"):
            return HTMLResponse("Not found", status_code=404)
        try:
            with write_lock:
                store.set_status(get_db(), who["librarian"], table, row_id, status, note.strip()[:500])
        except KioskError as exc:
            return RedirectResponse(f"/{table}?q={q}&error={exc}", status_code=303)
        return RedirectResponse(f"/{table}?q={q}", status_code=303)

    @pages.get("/{table}/{row_id}", response_class=HTMLResponse)
    def edit_form(request: Request, table: str, row_id: str):
        who = librarian(request)
        if table not in ("patrons", "items"):
            return HTMLResponse("Not found", status_code=404)
        rows = [r for r in store.all_rows(get_db(), table) if r["id"] == row_id]
        if not rows:
            return HTMLResponse("Not found", status_code=404)
        return page(request, "edit.html", who, table=table, row=rows[0], problems=None)

    @pages.post("/{table}/{row_id}", response_class=HTMLResponse)
    async def edit(request: Request, table: str, row_id: str):
        form = await request.form()
        who = checked(request, str(form.get("csrf", "")))
        if table not in ("patrons", "items"):
            return HTMLResponse("Not found", status_code=404)
        current = [r for r in store.all_rows(get_db(), table) if r["id"] == row_id]
        if not current:
            return HTMLResponse("Not found", status_code=404)
        row = {k: str(form.get(k, v if v is not None else "")).strip() for k, v in current[0].items()}
        row["id"] = row_id
        # The same checks as an import of one row: one set of rules for every way in.
        try:
            with write_lock:
                store.import_csv(get_db(), table, csv_text([row]), "the form")
                store.audit_now(get_db(), who["librarian"], f"{table[:-1]} edited", row_id,
                                ", ".join(f"{k}={row[k]}" for k in row if str(current[0][k] or "") != row[k]))
        except ImportRejected as exc:
            problems = [p.replace("line 2: ", "") for p in exc.problems]
            return page(request, "edit.html", who, 422, table=table, row=row, problems=problems)
        return RedirectResponse(f"/{table}?q={row_id}", status_code=303)

    return pages
