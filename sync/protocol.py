"""The wire format between a kiosk and the central store (docs/sync-api.md).

One definition for both sides: the paths, the limits, and the fields of a
record, a pushed batch and a page of changes. The client builds its bodies
from these, and the server's validation models are made from the same names.
Plain Python only: a kiosk imports this without the server's libraries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from kiosk.domain.records import LOAN_KINDS, RECORD_FIELDS, RECORD_KINDS

API = "/api/v1"
HEALTH_PATH = f"{API}/health"
CHANGES_PATH = f"{API}/changes"
MAX_BATCH = 1000  # records per push at most
PAGE = 1000  # rows per page of changes that a kiosk asks for
MAX_PAGE = 5000  # rows per page of changes that the central store gives at most

# The rows a page of changes carries, by table, in the kiosks' columns.
PATRON_FIELDS = ("id", "name", "type", "class_name", "card_uid", "status", "expires")
ITEM_FIELDS = ("id", "title", "author", "call_number", "tag_uid", "barcode", "home", "status", "initials")
LOAN_FIELDS = ("item_id", "patron_id", "due", "checked_out", "renewals")
HOME_FIELDS = ("id", "name")  # a home's id as items carry it, and its name for people
# What the kiosks show besides circulation (sync.server.db.showcase): reading goals, the idle showcase,
# recommendations; `entries` and `also` are lists.
READING_TABLES = {
    "reading": ("patron_id", "kiosk_id", "term", "books"),
    "class_reading": ("class_name", "kiosk_id", "month", "books"),
    "showcase": ("list", "month", "entries"),
    "recommendations": ("item_id", "also"),
}
CHANGE_TABLES = ("patrons", "items", "homes", "loans", "loans_removed") + tuple(READING_TABLES)

__all__ = ["API", "HEALTH_PATH", "CHANGES_PATH", "MAX_BATCH", "PAGE", "MAX_PAGE", "PATRON_FIELDS", "ITEM_FIELDS",
           "LOAN_FIELDS", "HOME_FIELDS", "READING_TABLES", "CHANGE_TABLES", "RECORD_FIELDS", "RECORD_KINDS",
           "LOAN_KINDS", "records_path", "hello_path", "hello_body", "push_body", "wire_record"]


def records_path(kiosk_id: str) -> str:
    """Where a kiosk pushes its records."""
    return f"{API}/kiosks/{kiosk_id}/records"


def hello_path(kiosk_id: str) -> str:
    """Where a kiosk begins each round: its health in, the store's epoch and acknowledged seq out."""
    return f"{API}/kiosks/{kiosk_id}/hello"


def wire_record(record: dict) -> dict:
    """A log record as pushed: exactly the record fields, nothing of the local store's own."""
    return {k: record[k] for k in RECORD_FIELDS}


def hello_body(*, sent_at: datetime, boot_id: str, monotonic: float, clock_trusted: bool,
               status: dict[str, Any]) -> dict:
    """The body of a hello: the kiosk's clock reading and its health."""
    return {
        "sent_at": sent_at.isoformat(timespec="milliseconds"),
        "boot_id": boot_id,
        "monotonic": round(monotonic, 3),
        "clock_trusted": clock_trusted,
        "status": status,
    }


def push_body(records: Iterable[dict], *, sent_at: datetime, boot_id: str, monotonic: float, clock_trusted: bool,
              status: dict[str, Any]) -> dict:
    """The body of one push: the batch, the kiosk's clock reading and its health."""
    return {**hello_body(sent_at=sent_at, boot_id=boot_id, monotonic=monotonic, clock_trusted=clock_trusted,
                         status=status),
            "records": [wire_record(r) for r in records]}
