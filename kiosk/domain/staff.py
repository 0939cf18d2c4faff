"""The staff screen's tasks: a stocktake ("Inventory") and receiving a book corner's books ("Receive").

Pure, like `kiosk.domain.machine`, which hands its staff taps to `item` here;
`kiosk.domain.controls` hands the staff buttons to `press`. A task counts each
book once, however often it is tapped; `press done` (or the task's own
button) ends the task and goes back to the staff menu. The task's screen is
drawn from `kiosk.domain.screens` (its shelf, its count, the word for the
last book).

Inventory: each book is counted for the shelf of this kiosk (`config.home`),
with a word for the child holding it. A book on loan that is on the shelf is
back: the `inventory` record closes its loan, flagged `seen_in_stocktake`.
Receive: each book tapped belongs to this kiosk's home from now on (a
`rehome` record).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from kiosk.domain.events import Effect, Light, Outcome, Sound
from kiosk.domain.model import Item, Loan
from kiosk.domain.records import Record
from kiosk.domain.screens import render, shown
from kiosk.domain.state import MachineConfig, State
from kiosk.domain.texts import home_label, item_state
from kiosk.domain.view import Message, N_

TASKS = ("inventory", "receive")
UNAVAILABLE_STATUSES = ("repair", "withdrawn", "lost")

STARTED = {
    "inventory": N_("Tap every book on the shelf."),
    "receive": N_("Tap each book from the box."),
}
FINISHED = {
    "inventory": N_("Inventory finished. Books counted: {count}."),
    "receive": N_("Receiving finished. Books received: {count}."),
}
# A word for each book counted, in a child's words: (text, tone, sound).
WORDS = {
    "belongs_here": (N_("{title}: belongs here."), "ok", "ok"),
    "belongs_elsewhere": (N_("{title}: belongs in {home}. Put it in the box."), "info", "ok"),
    "on_loan_returned": (N_("{title} was on loan: now returned. It belongs here."), "ok", "ok"),
    "on_loan_elsewhere": (N_("{title} was on loan: now returned. It belongs in {home}: put it in the box."),
                          "info", "ok"),
}
UNAVAILABLE_WORDS = {
    "repair": N_("{title} is being repaired: give it to the librarian."),
    "withdrawn": N_("{title} is withdrawn: give it to the librarian."),
    "lost": N_("{title} was marked lost: give it to the librarian."),
}
COUNTED_ALREADY = N_("{title}: counted already.")
REHOMED = N_("{title} now belongs in {home}.")
ALREADY_HERE = N_("{title} already belongs here.")


def press(config: MachineConfig, state: State, button: str, now: datetime) -> tuple[State, list[Effect]] | None:
    """A staff button that starts or ends a task; None for any other button."""
    if button in TASKS and state.task != button:
        state = replace(state, task=button, counted=frozenset(), last_activity=now)
        message = Message(STARTED[button])
        state = render(config, state, now, tone="info", message=message)
        return state, [shown(state), Outcome("staff", message, reason=button)]
    if state.task is not None and button in (state.task, "done", "back"):
        task, count = state.task, len(state.counted)
        message = Message(FINISHED[task], {"count": count})
        state = replace(state, task=None, counted=frozenset(), last_activity=now)
        state = render(config, state, now, tone="info", message=message)
        return state, [shown(state), Outcome("staff", message, reason=f"{task}_done")]
    return None


def item(config: MachineConfig, state: State, book: Item, loan: Loan | None,
         now: datetime) -> tuple[State, list[Effect]]:
    """A book tapped or scanned on the staff screen: counted, received, or its details shown."""
    state = replace(state, last_activity=now)
    if state.task == "inventory":
        return _count(config, state, book, loan, now)
    if state.task == "receive":
        return _receive(config, state, book, now)
    message = Message(N_("{title}: {state}. It belongs in {home}."),
                      {"title": book.title, "state": item_state("on_loan" if loan is not None else book.status),
                       "home": home_label(config.homes, book.home)})
    state = render(config, state, now, tone="info", message=message)
    return state, [shown(state), Outcome("info", message, reason="item_details", item_id=book.id)]


def word(config: MachineConfig, book: Item, loan: Loan | None) -> tuple[str, Message, str, str]:
    """What an inventory tap says of `book`: (reason, message, tone, sound)."""
    params = {"title": book.title, "home": home_label(config.homes, book.home)}
    if book.status in UNAVAILABLE_STATUSES:
        return "unavailable", Message(UNAVAILABLE_WORDS[book.status], params), "error", "librarian"
    elsewhere = bool(book.home) and book.home != config.home
    if loan is not None:
        text, tone, sound = WORDS["on_loan_elsewhere" if elsewhere else "on_loan_returned"]
        return "on_loan_returned", Message(text, params), tone, sound
    reason = "belongs_elsewhere" if elsewhere else "belongs_here"
    text, tone, sound = WORDS[reason]
    return reason, Message(text, params), tone, sound


def _count(config: MachineConfig, state: State, book: Item, loan: Loan | None, now: datetime):
    reason, message, tone, sound = word(config, book, loan)
    records: list[Effect] = []
    if book.id in state.counted:
        # The same book twice counts once; a loan it had was closed the first time.
        message = Message(COUNTED_ALREADY, {"title": book.title})
    else:
        details = {"shelf": config.home, "home": book.home, "status": book.status, "on_loan": loan is not None}
        if loan is not None:
            details.update(from_patron=loan.patron_id, due=loan.due.isoformat(), seen_in_stocktake=True)
        records.append(Record("inventory", patron_id=state.patron.id, item_id=book.id, details=details,
                              flagged=loan is not None))
        state = replace(state, counted=state.counted | {book.id})
    state = render(config, state, now, tone=tone, message=message)
    return state, [*records, Light("error" if tone == "error" else "ok"), Sound(sound), shown(state),
                   Outcome("info", message, reason=reason, item_id=book.id, flagged=loan is not None)]


def _receive(config: MachineConfig, state: State, book: Item, now: datetime):
    if book.home == config.home:
        message = Message(ALREADY_HERE, {"title": book.title})
        state = render(config, state, now, tone="info", message=message)
        return state, [Light("ok"), shown(state), Outcome("info", message, reason="already_here", item_id=book.id)]
    record = Record("rehome", patron_id=state.patron.id, item_id=book.id,
                    details={"from": book.home, "to": config.home})
    state = replace(state, counted=state.counted | {book.id})
    message = Message(REHOMED, {"title": book.title, "home": home_label(config.homes, config.home)})
    state = render(config, state, now, tone="ok", message=message)
    return state, [record, Light("ok"), Sound("ok"), shown(state),
                   Outcome("info", message, reason="rehomed", item_id=book.id)]
