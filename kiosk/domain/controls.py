"""The machine's buttons, timers and the kiosk's own facts (reader, door, status, showcase).

Each handler has the shape of `kiosk.domain.machine.step` for one kind of
event: (config, state, event, now) -> (state, effects).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from kiosk.domain.events import (
    Door, Effect, ExitKiosk, Light, Outcome, Press, ReaderFault, Record, ShowcaseUpdate, Sound, StatusUpdate,
    SyncNow, Type,
)
from kiosk.domain import staff
from kiosk.domain.screens import end_session, idle, render, shown, to_idle_outcome
from kiosk.domain.state import LANGUAGES, MachineConfig, State
from kiosk.domain.texts import FAULT_TEXT, FIND_TEXT, HELP_TEXT, IDLE_TEXT
from kiosk.domain.view import Message, N_

FIND_KEEPS = 5  # answers to a search shown at most


def press(config: MachineConfig, state: State, event: Press, now):
    button, mode = event.button, state.mode
    if button == "lang":
        return _language(config, state, now)
    if mode == "staff" and state.patron is not None:
        handled = staff.press(config, state, button, now)
        if handled is not None:
            return handled
    if button in ("done", "back"):
        if mode == "session":
            return end_session(config, state, now, reason="done")
        if mode == "staff":
            return to_idle_outcome(config, state, now, "staff", N_("Goodbye"))
        if mode in ("result", "summary", "help", "find"):
            return to_idle_outcome(config, state, now, "info", IDLE_TEXT)
    if button == "help":
        if mode == "session":
            state = render(config, replace(state, last_activity=now), now, tone="info", message=Message(HELP_TEXT))
        elif mode in ("idle", "result", "summary"):
            state = replace(state, mode="help", until=now + timedelta(seconds=3 * config.result_seconds))
            state = render(config, state, now)
        else:
            return state, [Outcome("ignored", Message(HELP_TEXT), reason="not_here")]
        return state, [shown(state), Outcome("info", Message(HELP_TEXT), reason="help")]
    if button == "find" and mode in ("idle", "result") and config.role == "door":
        state = replace(state, mode="find", query="", found=(), until=None, last_activity=now)
        state = render(config, state, now)
        return state, [shown(state), Outcome("info", Message(FIND_TEXT), reason="find")]
    if mode == "staff" and state.patron is not None:
        return _staff_button(config, state, button, now)
    return state, [Outcome("ignored", Message(N_("Not available here")), reason="not_here")]


def _language(config: MachineConfig, state: State, now):
    """The other language, for this session only: back at idle the kiosk's own returns."""
    language = LANGUAGES[(LANGUAGES.index(state.language) + 1) % len(LANGUAGES)] \
        if state.language in LANGUAGES else LANGUAGES[0]
    state = replace(state, language=language, view=replace(state.view, language=language))
    if state.last_activity is not None:
        state = replace(state, last_activity=now)
    if state.mode == "idle":
        # Chosen at idle for the session to come; nobody came: the default returns.
        state = replace(state, until=now + timedelta(seconds=config.session_timeout))
    return state, [shown(state), Outcome("info", Message(N_("English")) if language == "en"
                                         else Message(N_("Chinese")), reason="language")]


def _staff_button(config: MachineConfig, state: State, button: str, now):
    state = replace(state, last_activity=now)
    if button == "sync":
        state = render(config, state, now, tone="info", message=Message(N_("Syncing now")))
        return state, [SyncNow(), shown(state), Outcome("staff", state.view.message, reason="sync")]
    if button == "exit" and state.patron.type == "librarian":
        record = Record("exit_maintenance", patron_id=state.patron.id)
        state = render(config, state, now, tone="info", message=Message(N_("Closing for maintenance")))
        return state, [record, shown(state), ExitKiosk(),
                       Outcome("staff", state.view.message, reason="exit", patron_id=state.patron.id)]
    return state, [Outcome("ignored", Message(N_("Not available here")), reason="not_here")]


def typed(config: MachineConfig, state: State, event: Type, now):
    """Letters typed into Find a book: the answers for the search so far."""
    if state.mode != "find":
        return state, [Outcome("ignored", Message(N_("Not available here")), reason="not_here")]
    found = tuple(event.found)[:FIND_KEEPS]
    state = replace(state, query=event.query, found=found, last_activity=now)
    state = render(config, state, now)
    if not event.query:
        message = Message(FIND_TEXT)
    elif found:
        message = Message(N_("{title}: {answer}"), {"title": found[0].title, "answer": found[0].answer})
    else:
        message = Message(N_("No book found for {query}. Try other letters."), {"query": event.query})
    return state, [shown(state), Outcome("info", message, reason="find")]


def showcase(config: MachineConfig, state: State, event: ShowcaseUpdate, now):
    """New slides for the idle rotation; shown at once if the kiosk is idle."""
    if event.slides == state.slides:
        return state, []
    state = replace(state, slides=tuple(event.slides))
    if state.mode != "idle":
        return state, []
    state = render(config, state, now)
    return state, [shown(state)]


def tick(config: MachineConfig, state: State, event, now):  # noqa: ARG001  (the same shape as every handler)
    effects: list[Effect] = []
    quiet = (now - state.last_activity).total_seconds() if state.last_activity is not None else 0.0
    if state.mode == "session" and state.last_activity is not None and quiet >= config.session_timeout:
        state, effects = end_session(config, state, now, reason="timeout")
    elif state.mode == "staff" and state.last_activity is not None and quiet >= config.staff_timeout:
        state, effects = to_idle_outcome(config, state, now, "staff", N_("Goodbye"))
    elif state.mode == "find" and quiet >= config.session_timeout:
        state = idle(config, state, now)
        effects = [Light("off"), shown(state)]
    elif state.mode in ("result", "summary", "help", "idle") and state.until is not None and now >= state.until:
        state = idle(config, state, now)
        effects = [Light("off"), shown(state)]
    if state.door_open_since is not None and not state.door_alarmed and \
            (now - state.door_open_since).total_seconds() >= config.door_alarm_seconds:
        seconds = int((now - state.door_open_since).total_seconds())
        state = replace(state, door_alarmed=True)
        message = Message(N_("Please close the cabinet door."))
        state = render(config, state, now, tone="error", message=message)
        # After whatever else this tick did (a session's timeout keeps its outcome and its summary's record).
        effects = effects + [Record("door_open_too_long", details={"seconds": seconds}), Light("error"),
                             Sound("error"), shown(state), Outcome("info", message, reason="door_open_too_long")]
    return state, effects


def reader_fault(config: MachineConfig, state: State, event: ReaderFault, now):
    status = replace(state.status, reader_ok=False)
    state = replace(state, mode="fault", patron=None, loans=(), touched=(), until=None, last_activity=None,
                    status=status, progress=None)
    state = render(config, state, now)
    return state, [Record("reader_fault", details={"detail": event.detail}), Light("fault"), shown(state),
                   Outcome("info", Message(FAULT_TEXT), reason="reader_fault")]


def reader_ok(config: MachineConfig, state: State, event, now):  # noqa: ARG001
    state = replace(state, status=replace(state.status, reader_ok=True))
    state = idle(config, state, now)
    return state, [Record("reader_ok"), Light("off"), shown(state),
                   Outcome("info", Message(IDLE_TEXT), reason="reader_ok")]


def door(config: MachineConfig, state: State, event: Door, now):  # noqa: ARG001
    state = replace(state, door_open_since=now if event.is_open else None, door_alarmed=False,
                    status=replace(state.status, door_open=event.is_open))
    state = replace(state, view=replace(state.view, status=state.status))
    reason = "door_open" if event.is_open else "door_closed"
    text = N_("Door open") if event.is_open else N_("Door closed")
    return state, [shown(state), Outcome("info", Message(text), reason=reason)]


def status(config: MachineConfig, state: State, event: StatusUpdate, now):  # noqa: ARG001
    changes = {k: v for k, v in vars(event).items() if v is not None}
    new = replace(state.status, **changes)
    if new == state.status:
        return state, []
    state = replace(state, status=new, view=replace(state.view, status=new))
    return state, [shown(state)]
