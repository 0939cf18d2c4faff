"""The school's reading goals: terms, a student's progress, a word of praise.

Pure functions of the rules and the date. The counts themselves come from
the edge: the kiosk's own log plus what the central store sends
(`kiosk.store.reading`), so progress shows offline too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from kiosk.domain.model import Policy
from kiosk.domain.view import Message, N_, Progress

HALFWAY = N_("Halfway to your goal. Keep going!")
GOAL_REACHED = N_("You reached your goal of {goal} books this term!")
BEYOND_GOAL = N_("{books} books this term. You are a super reader!")
EVERY_FIVE = N_("{books} books this term. Well done!")
FIRST_BOOK = N_("Your first book this term. Enjoy it!")


def term_start(policy: Policy, today: date) -> date:
    """The first day of the term `today` falls in.

    The latest of the rules' `term_starts` on or before `today`; without
    one, 1 September or 1 February (the school year's usual terms).
    """
    listed = [start for start in policy.term_starts if start <= today]
    if listed:
        return max(listed)
    if today.month >= 9:
        return date(today.year, 9, 1)
    if today.month >= 2:
        return date(today.year, 2, 1)
    return date(today.year - 1, 9, 1)


def month_start(today: date) -> date:
    """The first day of `today`'s month (the class goal is per month)."""
    return today.replace(day=1)


def borrowed(progress: Progress | None, count: int = 1) -> Progress | None:
    """`progress` after `count` more books were lent in a session."""
    if progress is None:
        return None
    class_books = None if progress.class_books is None else progress.class_books + count
    return replace(progress, term_books=progress.term_books + count, class_books=class_books)


def praise(before: int, after: int, goal: int) -> Message | None:
    """A word for a milestone crossed between `before` and `after` books this term, if any.

    The goal comes first, then books beyond it, then halfway, then every
    fifth book and the first.
    """
    if after <= before:
        return None
    crossed = range(before + 1, after + 1)
    if goal in crossed:
        return Message(GOAL_REACHED, {"goal": goal})
    if after > goal and any(n % 5 == 0 for n in crossed):
        return Message(BEYOND_GOAL, {"books": after})
    if (goal + 1) // 2 in crossed and after < goal:
        return Message(HALFWAY)
    if any(n % 5 == 0 for n in crossed):
        return Message(EVERY_FIVE, {"books": after})
    if 1 in crossed:
        return Message(FIRST_BOOK)
    return None


def progress_text(progress: Progress) -> Message:
    """"7 of 15 books this term", or how far past the goal."""
    if progress.term_books >= progress.term_goal:
        return Message(N_("{books} books this term: goal reached!"), {"books": progress.term_books})
    return Message(N_("{books} of {goal} books this term"),
                   {"books": progress.term_books, "goal": progress.term_goal})


def class_text(class_name: str, books: int, goal: int) -> Message:
    """"Class 3A: 34 of 50 books this month"."""
    return Message(N_("Class {name}: {books} of {goal} books this month"),
                   {"name": class_name, "books": books, "goal": goal})
