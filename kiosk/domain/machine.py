"""The kiosk as a state machine: `step(config, state, event, now)`.

A pure function of its arguments: it returns the next state and the effects
to carry out (records to commit, lights, sounds, the lock, the screen, and
one `Outcome` saying what the event amounted to). BRIEF section 3 is the
specification; each rule below names the case it handles. Taps and scans
(circulation) are here; buttons, timers and the kiosk's own facts are in
`kiosk.domain.controls`, the views in `kiosk.domain.screens`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from kiosk.domain import reading, rules, staff
from kiosk.domain.controls import press, reader_fault, reader_ok, showcase, status, tick, door, typed
from kiosk.domain.events import (
    Door, Effect, Event, Light, Outcome, Press, ReaderFault, ReaderOk, Record, Scan, ShowcaseUpdate, Sound,
    StatusUpdate, Tap, Tick, Type, Unlock,
)
from kiosk.domain.model import Item, Loan, Patron
from kiosk.domain.screens import end_session, render, result, shown, to_idle_outcome
from kiosk.domain.state import LANGUAGES, MachineConfig, State
from kiosk.domain.texts import LIBRARIAN_REASONS, SESSION_TEXT, home_label, refusal_message
from kiosk.domain.view import Message, N_, View

__all__ = ["LANGUAGES", "MachineConfig", "State", "initial_state", "step"]

UNKNOWN_TAGS_KEPT = 10


def initial_state(config: MachineConfig, now: datetime) -> State:
    """The kiosk at start: idle, in its default language."""
    placeholder = View(screen="idle", language=config.language, kiosk_name=config.kiosk_name, now=now)
    state = State(mode="idle", language=config.language, view=placeholder)
    return render(config, state, now)


def step(config: MachineConfig, state: State, event: Event, now: datetime) -> tuple[State, list[Effect]]:
    """The next state and the effects of `event` at time `now`.

    Effects come in the order they must be carried out: records first, then
    light, sound, lock, screen, and the outcome last.
    """
    if isinstance(event, Tap):
        return _tap(config, state, event, now)
    if isinstance(event, Scan):
        if event.found is None:
            return _unknown(config, state, now, {"barcode": event.barcode}, event.barcode)
        return _item(config, state, event.found, event.loan, now, event.also)
    handlers = {Press: press, Type: typed, ShowcaseUpdate: showcase, Tick: tick, ReaderFault: reader_fault,
                ReaderOk: reader_ok, Door: door, StatusUpdate: status}
    handler = handlers.get(type(event))
    if handler is None:
        raise TypeError(f"not a kiosk event: {event!r}")
    return handler(config, state, event, now)


def _alert(reason: str | None, tone: str = "error") -> list[Effect]:
    """The light and sound of a refusal: "see the librarian" sounds unlike "not now"."""
    return [Light(tone), Sound("librarian" if reason in LIBRARIAN_REASONS else "error")]


def _tap(config, state, tap: Tap, now):
    # A tag left on the reader, or tapped twice in a hurry, is one tap.
    if (
        tap.uid == state.last_uid
        and state.last_uid_at is not None
        and (now - state.last_uid_at).total_seconds() < config.debounce
    ):
        return state, [Outcome("ignored", Message(N_("Already read")), reason="debounce")]
    state = replace(state, last_uid=tap.uid, last_uid_at=now)
    if isinstance(tap.found, Patron):
        return _card(config, state, tap.found, tap.loans, tap.progress, now)
    if isinstance(tap.found, Item):
        return _item(config, state, tap.found, tap.loan, now, tap.also)
    return _unknown(config, state, now, {"uid": tap.uid}, tap.uid)


def _card(config, state, patron: Patron, loans, progress, now):
    same = state.patron is not None and state.patron.id == patron.id
    if same and state.mode == "session":
        return end_session(config, state, now, reason="same_card")
    if same and state.mode == "staff":
        return to_idle_outcome(config, state, now, "staff", N_("Goodbye"))
    if patron.is_staff:
        state = replace(state, mode="staff", patron=patron, loans=tuple(loans), touched=(), task=None,
                        counted=frozenset(), last_activity=now, until=None, progress=None)
        state = render(config, state, now, tone="info")
        record = Record("staff_login", patron_id=patron.id)
        return state, [record, Light("ok"), Sound("ok"), shown(state),
                       Outcome("staff", state.view.heading, patron_id=patron.id)]
    # A new session; a second card simply replaces the first session.
    state = replace(state, mode="session", patron=patron, loans=tuple(loans), touched=(), last_activity=now,
                    until=None, progress=progress, progress_start=progress.term_books if progress else 0)
    reason = rules.block_reason(config.policy, patron, state.loans, now.date())
    effects: list[Effect] = []
    if reason:
        # One clear reason, once, and what the child can still do.
        message = refusal_message(config.policy, patron, reason)
        state = render(config, state, now, tone="error", message=message)
        effects += _alert(reason)
    else:
        message = Message(SESSION_TEXT)
        state = render(config, state, now, tone="ok", message=message)
        effects += [Light("ok"), Sound("ok")]
    # The cabinet opens for a valid card: a blocked or expired card is not
    # valid, but a patron blocked only for late books may return them.
    if config.has_lock and reason not in ("card_blocked", "card_expired"):
        effects.append(Unlock(config.lock_seconds))
    effects += [shown(state), Outcome("session_start", message if reason else state.view.heading, reason=reason,
                                      patron_id=patron.id, progress=progress)]
    return state, effects


def _item(config, state, item: Item, loan: Loan | None, now, also=()):
    if state.mode == "session" and state.patron is not None:
        return _session_item(config, state, item, loan, now, also)
    if state.mode == "staff":
        return staff.item(config, state, item, loan, now)
    return _return_at_idle(config, state, item, loan, now)


def _return_at_idle(config, state, item: Item, loan: Loan | None, now):
    elsewhere = bool(item.home) and item.home != config.home
    unlock = [Unlock(config.lock_seconds)] if config.has_lock and not elsewhere else []
    home = home_label(config.homes, item.home)
    if loan is not None:
        record = Record("return", patron_id=loan.patron_id, item_id=item.id,
                        details={"from_patron": loan.patron_id, "due": loan.due.isoformat()})
        if elsewhere:
            message = Message(N_("Returned: {title}. Please put it in {home}."), {"title": item.title, "home": home})
        else:
            message = Message(N_("Returned: {title}. Thank you!"), {"title": item.title})
        state = result(config, state, now, "ok", message)
        return state, [record, Light("ok"), Sound("ok"), *unlock, shown(state),
                       Outcome("return", message, patron_id=loan.patron_id, item_id=item.id)]
    # Not on loan: said calmly. A lost or withdrawn book that turns up goes
    # to the librarian, and the record is flagged so it is looked at.
    found_again = item.status in ("lost", "withdrawn")
    if found_again:
        message = Message(N_("{title} is not on loan. Please give it to the librarian."), {"title": item.title})
        reason = "found_" + item.status
    elif elsewhere:
        message = Message(N_("{title} is not on loan. It belongs in {home}."), {"title": item.title, "home": home})
        reason = "not_on_loan"
    else:
        message = Message(N_("{title} is not on loan. You can put it back on the shelf."), {"title": item.title})
        reason = "not_on_loan"
    record = Record("not_on_loan", item_id=item.id, details={"status": item.status}, flagged=found_again)
    state = result(config, state, now, "info", message)
    sound = [Sound("librarian")] if found_again else []
    return state, [record, Light("ok"), *sound, shown(state),
                   Outcome("info", message, reason=reason, item_id=item.id, flagged=found_again)]


def _session_item(config, state, item: Item, loan: Loan | None, now, also):
    patron = state.patron
    today = now.date()
    state = replace(state, last_activity=now)
    own = tuple(l for l in state.loans if l.item_id != item.id)
    blocked = rules.block_reason(config.policy, patron, state.loans, today)

    if loan is not None and loan.patron_id == patron.id:
        if blocked:
            # A blocked patron may still return books.
            return _session_return(config, state, item, loan, now)
        return _renew(config, state, item, loan, now)

    reason = rules.checkout_refusal(config.policy, patron, own, item, today)
    if reason is None and loan is not None and config.on_loan_to_other == "refuse":
        reason = "on_loan_to_other"
    if reason:
        return _refuse(config, state, item, reason, now)

    due = rules.due_date(config.policy, patron.type, today)
    records: list[Effect] = []
    transferred = loan is not None
    if transferred:
        # On loan to someone else: returned from them and lent to this
        # patron, both logged and flagged for the librarian.
        records.append(Record("return", patron_id=loan.patron_id, item_id=item.id,
                              details={"from_patron": loan.patron_id, "due": loan.due.isoformat(),
                                       "transfer_to": patron.id},
                              flagged=True))
    records.append(Record("checkout", patron_id=patron.id, item_id=item.id,
                          details={"due": due.isoformat(), **({"transfer_from": loan.patron_id} if transferred else {})},
                          flagged=transferred))
    new_loan = Loan(item_id=item.id, patron_id=patron.id, due=due, checked_out=now, title=item.title)
    state = replace(state, loans=own + (new_loan,), touched=state.touched + (item.id,),
                    progress=reading.borrowed(state.progress))
    message = Message(N_("Borrowed: {title}. Please return it by {due}."), {"title": item.title, "due": due})
    state = render(config, state, now, tone="ok", message=message, also=tuple(also)[:2])
    return state, [*records, Light("ok"), Sound("ok"), shown(state),
                   Outcome("checkout", message, patron_id=patron.id, item_id=item.id, due=due, flagged=transferred,
                           also=state.view.also)]


def _renew(config, state, item: Item, loan: Loan, now):
    """The patron's own book again: renewed, unless that would not move its due date at all."""
    patron = state.patron
    today = now.date()
    due = rules.due_date(config.policy, patron.type, today)
    if due <= loan.due:
        # Just lent or renewed: a re-tap must not burn a renewal for nothing.
        message = Message(N_("{title} is already yours. Please return it by {due}."),
                          {"title": item.title, "due": loan.due})
        state = render(config, state, now, tone="ok", message=message)
        return state, [Light("ok"), Sound("ok"), shown(state),
                       Outcome("info", message, reason="already_yours", patron_id=patron.id, item_id=item.id,
                               due=loan.due)]
    reason = rules.renewal_refusal(config.policy, patron, state.loans, loan, today)
    if reason:
        return _refuse(config, state, item, reason, now)
    own = tuple(l for l in state.loans if l.item_id != item.id)
    renewed = replace(loan, due=due, renewals=loan.renewals + 1, title=loan.title or item.title)
    state = replace(state, loans=own + (renewed,), touched=state.touched + (item.id,))
    record = Record("renew", patron_id=patron.id, item_id=item.id,
                    details={"due": due.isoformat(), "renewals": renewed.renewals})
    message = Message(N_("Renewed: {title}. Please return it by {due}."), {"title": item.title, "due": due})
    state = render(config, state, now, tone="ok", message=message)
    return state, [record, Light("ok"), Sound("ok"), shown(state),
                   Outcome("renew", message, patron_id=patron.id, item_id=item.id, due=due)]


def _session_return(config, state, item, loan, now):
    patron = state.patron
    state = replace(state, loans=tuple(l for l in state.loans if l.item_id != item.id))
    record = Record("return", patron_id=patron.id, item_id=item.id,
                    details={"from_patron": patron.id, "due": loan.due.isoformat()})
    message = Message(N_("Returned: {title}. Thank you!"), {"title": item.title})
    state = render(config, state, now, tone="ok", message=message)
    return state, [record, Light("ok"), Sound("ok"), shown(state),
                   Outcome("return", message, patron_id=patron.id, item_id=item.id)]


def _refuse(config, state, item: Item, reason: str, now):
    patron = state.patron
    message = refusal_message(config.policy, patron, reason, item)
    details = {"reason": reason}
    if reason == "item_unavailable":
        details["status"] = item.status
    record = Record("refused", patron_id=patron.id, item_id=item.id, details=details)
    state = render(config, state, now, tone="error", message=message)
    return state, [record, *_alert(reason), shown(state),
                   Outcome("refused", message, reason=reason, patron_id=patron.id, item_id=item.id)]


def _unknown(config, state, now, details: dict, label: str):
    record = Record("unknown_tag", details=details)
    message = Message(N_("Please give this to the librarian"))
    seen = (label, now.isoformat(timespec="seconds"))
    state = replace(state, unknown_tags=((seen,) + state.unknown_tags)[:UNKNOWN_TAGS_KEPT])
    if state.mode in ("session", "staff"):
        state = render(config, replace(state, last_activity=now), now, tone="error", message=message)
    else:
        state = result(config, state, now, "error", message)
    return state, [record, *_alert("unknown_tag"), shown(state),
                   Outcome("unknown_tag", message, reason="unknown_tag")]
