"""The librarian's pages, served by the central store: one module per subject.

Every page and form needs a login (`login`, `common.Pages.librarian`); every
form carries the session's CSRF token. Templates are Jinja2 with
autoescaping, so a title such as `<script>` shows as text. All SQL is in
`sync.server.db`.
"""

from __future__ import annotations

from fastapi import APIRouter

from sync.server.pages import (
    catalog, charges, corners, desk, district, flags, kiosks, loans, log, login, people, reading, rules, settings,
    stocktake, transfer,
)
from sync.server.pages.common import LoginNeeded, Pages

__all__ = ["LoginNeeded", "Pages", "router"]


def router(school_db, write_lock) -> APIRouter:
    """Every page, over the app's per-thread connection `school_db(school)` and its `write_lock`."""
    ctx = Pages(school_db, write_lock)
    pages = APIRouter(include_in_schema=False)
    # `catalog` answers /{table}: it goes last so that it never shadows another page.
    for subject in (login, district, kiosks, desk, people, charges, settings, log, loans, transfer, flags, reading,
                    rules, stocktake, corners, catalog):
        pages.include_router(subject.routes(ctx))
    return pages
