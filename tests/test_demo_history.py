"""The demo's term of reading: every demo student's books fall in this term, one loan of a book at a time."""

from datetime import datetime, timedelta, timezone

import pytest

from kiosk.demo.history import DEMO_READING, term_history
from kiosk.domain.model import Policy
from kiosk.domain.reading import term_start

ZONE = timezone(timedelta(hours=8))


@pytest.mark.parametrize("now", [
    datetime(2026, 11, 23, 8, 50, tzinfo=ZONE),  # the demo script's morning
    datetime(2026, 9, 1, 9, 0, tzinfo=ZONE),  # the term's first morning
    datetime(2027, 3, 15, 12, 0, tzinfo=ZONE),  # the spring term
])
def test_the_history_counts_each_students_books_in_this_term_before_now(now):
    history = term_history(now)
    start = term_start(Policy(), now.date())
    assert all(start <= at.date() and at < now for _, _, at in history)
    assert {p: sum(1 for q, _, _ in history if q == p) for p in DEMO_READING} == \
        {p: len(books) for p, books in DEMO_READING.items()}
    times = sorted(at for _, _, at in history)
    assert len(set(times)) == len(times)  # each borrowed at a time of its own, returned before the next
