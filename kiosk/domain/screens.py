"""The machine's screens: the view for each mode, and the moves back to idle.

Each screen has one big instruction or greeting (`heading`) with its
picture, and its buttons: the same buttons keep the same places on every
screen (`kiosk.screen.layout`), so a screen only says which ones it offers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from kiosk.domain import reading, rules
from kiosk.domain.events import Light, Outcome, Show
from kiosk.domain.state import MachineConfig, State
from kiosk.domain.texts import CAN_RETURN, FAULT_TEXT, FIND_TEXT, HELP_TEXT, IDLE_TEXT, home_label, refusal_message
from kiosk.domain.view import LoanLine, Message, N_, View

STAFF_BUTTONS = ("inventory", "receive", "sync", "done", "lang")
TASK_HEADINGS = {
    "inventory": N_("Inventory: {home}"),
    "receive": N_("Receiving: {home}"),
}


def idle_buttons(config: MachineConfig) -> tuple[str, ...]:
    """Help and language everywhere; Find a book on the door kiosk only."""
    return ("help", "find", "lang") if config.role == "door" else ("help", "lang")


def loan_lines(state: State, today: date) -> tuple[LoanLine, ...]:
    lines = [
        LoanLine(item_id=loan.item_id, title=loan.title or loan.item_id, due=loan.due, overdue=loan.due < today,
                 new=loan.item_id in state.touched)
        for loan in state.loans
    ]
    return tuple(sorted(lines, key=lambda line: (line.due, line.title)))


def render(config: MachineConfig, state: State, now: datetime, **fields) -> State:
    """Return `state` with its view rebuilt for its mode, plus `fields`."""
    base = dict(screen=state.mode, language=state.language, kiosk_name=config.kiosk_name, now=now,
                status=state.status)
    if state.mode == "idle":
        base.update(heading=Message(IDLE_TEXT), picture="card", buttons=idle_buttons(config), slides=state.slides)
    elif state.mode in ("session", "summary") and state.patron is not None:
        base.update(_patron_fields(config, state, now.date()))
    elif state.mode == "staff" and state.patron is not None:
        base.update(_staff_fields(config, state))
    elif state.mode == "help":
        base.update(heading=Message(N_("Help")), picture="help", message=Message(HELP_TEXT), tone="info",
                    buttons=("done", "lang"))
    elif state.mode == "find":
        base.update(heading=Message(FIND_TEXT), picture="search", query=state.query, found=state.found,
                    buttons=("done", "lang"))
    elif state.mode == "fault":
        base.update(heading=Message(FAULT_TEXT), picture="reader", tone="error")
    base.update(fields)
    return replace(state, view=View(**base))


def _staff_fields(config: MachineConfig, state: State) -> dict:
    """The staff menu, or the task under way (`kiosk.domain.staff`): its shelf, its count, Done."""
    patron = state.patron
    out = dict(patron_name=patron.name, unknown_tags=state.unknown_tags, can_exit=patron.type == "librarian")
    if state.task is None:
        out.update(heading=Message(N_("Staff: {name}"), {"name": patron.name}),
                   buttons=STAFF_BUTTONS + (("exit",) if patron.type == "librarian" else ()))
        return out
    shelf = home_label(config.homes, config.home)
    out.update(screen=state.task, heading=Message(TASK_HEADINGS[state.task], {"home": shelf}), picture="books",
               shelf=shelf, counted=len(state.counted), buttons=("done", "lang"))
    return out


def _patron_fields(config: MachineConfig, state: State, today: date) -> dict:
    patron = state.patron
    reason = rules.block_reason(config.policy, patron, state.loans, today)
    out = dict(patron_name=patron.name, loans=loan_lines(state, today), progress=state.progress,
               allowance=None if reason else rules.allowance(config.policy, patron, state.loans, today),
               blocked=refusal_message(config.policy, patron, reason) if reason else None,
               can_do=Message(CAN_RETURN) if reason else None)
    if state.mode == "session":
        out.update(heading=Message(N_("Hello, {name}"), {"name": patron.name}), picture="book",
                   buttons=("done", "help", "lang"))
        return out
    borrowed = sum(1 for loan in state.loans if loan.item_id in state.touched)
    progress = state.progress
    out.update(heading=Message(N_("Goodbye, {name}!"), {"name": patron.name}), picture="books",
               message=Message(N_("Books borrowed or renewed today: {count}"), {"count": borrowed}), tone="ok",
               loans=tuple(line for line in out["loans"] if line.new), buttons=("done", "lang"), can_do=None,
               blocked=None,
               praise=reading.praise(state.progress_start, progress.term_books, progress.term_goal)
               if progress else None)
    return out


def shown(state: State) -> Show:
    return Show(state.view)


def result(config: MachineConfig, state: State, now: datetime, tone: str, message: Message) -> State:
    """A passing outcome screen at idle, back to idle after a while."""
    state = replace(state, mode="result", patron=None, loans=(), touched=(), progress=None,
                    until=now + timedelta(seconds=config.result_seconds))
    return render(config, state, now, tone=tone, message=message, heading=Message(IDLE_TEXT), picture="card",
                  buttons=idle_buttons(config))


def end_session(config: MachineConfig, state: State, now: datetime, reason: str):
    """The session's summary (what was borrowed, the reading progress); idle after a while."""
    state = replace(state, mode="summary", until=now + timedelta(seconds=config.result_seconds), last_activity=None)
    state = render(config, state, now)
    return state, [Light("off"), shown(state),
                   Outcome("session_end", state.view.message, reason=reason, patron_id=state.patron.id,
                           progress=state.progress)]


def idle(config: MachineConfig, state: State, now: datetime) -> State:
    """Back at idle: nobody's session, and the kiosk's own language again."""
    state = replace(state, mode="idle", language=config.language, patron=None, loans=(), touched=(), until=None,
                    last_activity=None, task=None, counted=frozenset(), progress=None, query="", found=())
    return render(config, state, now)


def to_idle_outcome(config: MachineConfig, state: State, now: datetime, kind: str, text: str):
    patron_id = state.patron.id if state.patron else None
    state = idle(config, state, now)
    return state, [Light("off"), shown(state), Outcome(kind, Message(text), patron_id=patron_id)]
