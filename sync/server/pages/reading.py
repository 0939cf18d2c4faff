"""Reading statistics against the school's goals, with a chart drawn on the server."""

from __future__ import annotations

from datetime import date
from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from sync.server import db as store
from sync.server.pages.common import Pages



def bar_chart(bars: list[tuple[str, float]], goal: float, unit: str, width: int = 640) -> str:
    """A horizontal bar chart as SVG text, with the goal as a dashed line; labels escaped."""
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


def routes(ctx: Pages) -> APIRouter:
    """This subject's pages."""
    pages = APIRouter(include_in_schema=False)
    librarian, page, get_db = ctx.librarian, ctx.page, ctx.get_db

    @pages.get("/stats", response_class=HTMLResponse)
    def stats(request: Request, since: str = ""):
        who = librarian(request)
        db = get_db()
        today = date.today()
        try:
            start = date.fromisoformat(since) if since else store.term_start(db, today)
        except ValueError:
            start = store.term_start(db, today)
        rules = store.get_rules(db)
        facts = store.reading_statistics(db, start, today)
        months = [r for r in facts["per_class"] if r["month"] >= start.isoformat()[:7]]
        chart = bar_chart([(f"{r['class_name']} {r['month']}", r["per_student"] or 0) for r in months],
                          goal=rules.class_month_goal, unit="books per student")
        return page(request, "stats.html", who, facts=facts, chart=chart, months=months,
                    goal_term=rules.term_goal, goal_month=rules.class_month_goal)

    return pages
