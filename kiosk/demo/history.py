"""A term of reading so far, for the demo's central store and the screenshot gallery.

The central store learns of reading only from kiosks' logs: the history is
pushed as the log of an earlier kiosk (each book borrowed, then returned),
so the central store works out the reading counts, the showcase and the
recommendations from it exactly as it would from real kiosks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kiosk.domain import reading
from kiosk.domain.model import Policy

# Books each demo student read this term before the demo starts: Mia is a third of the way, Ben past
# halfway, 李小龙 one book from the goal of 15 (his next checkout reaches it), Tom just started.
DEMO_READING = {
    "S1001": ["B0005", "B0002", "B0009", "B0007", "B0014"],
    "S1002": ["B0001", "B0003", "B0008", "B0009", "B0004", "B0014", "B0005", "B0013"],
    "S1003": ["B0001", "B0003", "B0014", "B0007", "B0013", "B0005", "B0002", "B0004", "B0009", "B0008", "B0001",
              "B0003", "B0014", "B0007"],
    "S1005": ["B0014", "B0001"],
}
HISTORY_KIOSK = ("demo-earlier", "Library door (earlier this term)")


def term_history(now: datetime, policy: Policy = Policy(),
                 books: dict[str, list[str]] = DEMO_READING) -> list[tuple[str, str, datetime]]:
    """(student, book, when borrowed) for `books`, spread over this term before `now`, one loan at a time.

    One loan at a time so that no book is ever lent twice at once: the
    central store merges them cleanly, with nothing flagged.
    """
    start = datetime.combine(reading.term_start(policy, now.date()), datetime.min.time(), now.tzinfo)
    loans = [(patron, items[n]) for n in range(max(map(len, books.values())))
             for patron, items in books.items() if n < len(items)]
    step = (now - start) / (len(loans) + 1)
    return [(patron, item, start + step * (n + 1) - step / 2) for n, (patron, item) in enumerate(loans)]


def push_history(db, kiosk_id: str, history: list[tuple[str, str, datetime]], now: datetime) -> None:
    """Push `history` into the central store `db` as kiosk `kiosk_id`'s log: a checkout and its return each."""
    from sync.server import db as central

    stamp = {"trusted": True, "boot_id": f"{kiosk_id}-history", "monotonic": 1.0}
    ordered = sorted(history, key=lambda row: row[2])
    gaps = [later[2] - row[2] for row, later in zip(ordered, ordered[1:])] + [now - ordered[-1][2]]
    records = []
    for n, ((patron, item, at), gap) in enumerate(zip(ordered, gaps)):
        back = at + min(gap / 2, timedelta(days=7))
        due = (at + timedelta(days=14)).date().isoformat()
        records.append({"seq": 2 * n + 1, "kind": "checkout", "at": at.isoformat(), "patron_id": patron,
                        "item_id": item, "details": {"due": due}, **stamp})
        records.append({"seq": 2 * n + 2, "kind": "return", "at": back.isoformat(), "patron_id": patron,
                        "item_id": item, "details": {}, **stamp})
    central.push(db, kiosk_id, {"sent_at": now.isoformat(), "boot_id": stamp["boot_id"], "monotonic": 2.0,
                                "records": records})
