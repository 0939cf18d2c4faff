"""The kiosk as a state machine: `step(config, state, event, now)`.

A pure function of its arguments: it returns the next state and the effects
to carry out (records to commit, lights, sounds, the lock, the screen, and
one `Outcome` saying what the event amounted to). BRIEF section 3 is the
specification; each rule below names the case it handles.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from kiosk.domain import rules, staff
from kiosk.domain.events import (
    Door,
    Effect,
    Event,
    ExitKiosk,
    Light,
    Outcome,
    Press,
    ReaderFault,
    ReaderOk,
    Record,
    Scan,
    Show,
    Sound,
    StatusUpdate,
    SyncNow,
    Tap,
    Tick,
    Unlock,
)
from kiosk.domain.model import Item, Loan, Patron, Policy
from kiosk.domain.view import LANGUAGES, KioskStatus, LoanLine, Message, N_, View

UNKNOWN_TAGS_KEPT = 10

IDLE_TEXT = N_("Tap your card to borrow. Tap a book to return.")
HELP_TEXT = N_(
    "Tap your library card, then tap each book to borrow it. "
    "To return a book, tap it on its own. Need help? Please ask the librarian."
)
FAULT_TEXT = N_("Reader not working, please tell the librarian")

# Refusals in words a child understands.
REFUSALS = {
    "card_blocked": N_("Your card is stopped. Please see the librarian."),
    "card_expired": N_("Your card is out of date. Please see the librarian."),
    "blocked_overdue": N_("A book is very late. Please bring it back before borrowing more."),
    "limit_reached": N_("You already have {max} books. Please return one first."),
    "on_loan_to_other": N_("This book is borrowed by someone else. Please give it to the librarian."),
    "renewal_limit": N_("This book cannot be renewed again. Please return it."),
}
UNAVAILABLE = {
    "repair": N_("This book is being repaired. Please give it to the librarian."),
    "withdrawn": N_("This book is no longer lent. Please give it to the librarian."),
    "lost": N_("This book was marked lost. Please give it to the librarian."),
}


@dataclass(frozen=True)
class MachineConfig:
    """What the machine needs to know about its kiosk and the rules."""

    kiosk_id: str = "demo-door"
    kiosk_name: str = "Library door"
    role: str = "door"
    home: str = "library"
    language: str = "en"
    policy: Policy = Policy()
    on_loan_to_other: str = "transfer"
    session_timeout: float = 20.0
    staff_timeout: float = 300.0
    debounce: float = 2.0
    result_seconds: float = 4.0
    has_lock: bool = False
    lock_seconds: float = 5.0
    door_alarm_seconds: float = 60.0
    homes: dict[str, str] = field(default_factory=dict)  # home id -> its name for people, from the central store

    def home_name(self, home: str) -> str:
        """The name people know a home by ("Class 3A"), or its id when the central store has not named it."""
        return self.homes.get(home) or home

    @classmethod
    def from_config(cls, config, policy: Policy | None = None, homes: dict[str, str] | None = None) -> "MachineConfig":
        """Build from a `kiosk.config.Config`; `policy` overrides its [policy]; `homes` names the homes."""
        k, hw = config.kiosk, config.hardware
        return cls(
            kiosk_id=k.id,
            kiosk_name=k.name,
            role=k.role,
            home=k.home,
            language=k.language,
            policy=policy or config.policy,
            on_loan_to_other=k.on_loan_to_other,
            session_timeout=k.session_timeout,
            debounce=k.debounce,
            result_seconds=k.result_seconds,
            has_lock=hw.has_lock,
            lock_seconds=hw.lock_seconds,
            door_alarm_seconds=hw.door_alarm_seconds,
            homes=dict(homes or {}),
        )


@dataclass(frozen=True)
class State:
    """Where the kiosk is. `view` is what the screen shows now."""

    mode: str
    language: str
    view: View
    patron: Patron | None = None
    loans: tuple[Loan, ...] = ()
    touched: tuple[str, ...] = ()  # item ids borrowed or renewed this session
    last_activity: datetime | None = None
    until: datetime | None = None
    last_uid: str | None = None
    last_uid_at: datetime | None = None
    task: str | None = None  # the staff task under way: inventory or receive (kiosk.domain.staff)
    counted: frozenset[str] = frozenset()  # item ids counted or received in that task
    unknown_tags: tuple[tuple[str, str], ...] = ()
    status: KioskStatus = field(default_factory=KioskStatus)
    door_open_since: datetime | None = None
    door_alarmed: bool = False


# ------------------------------------------------------------ view building


def _loan_lines(state: State, today: date) -> tuple[LoanLine, ...]:
    lines = [
        LoanLine(
            item_id=loan.item_id,
            title=loan.title or loan.item_id,
            due=loan.due,
            overdue=loan.due < today,
            new=loan.item_id in state.touched,
        )
        for loan in state.loans
    ]
    return tuple(sorted(lines, key=lambda line: (line.due, line.title)))


def _render(config: MachineConfig, state: State, now: datetime, **fields) -> State:
    """Return `state` with its view rebuilt for its mode, plus `fields`."""
    today = now.date()
    base = dict(
        screen=state.mode,
        language=state.language,
        kiosk_name=config.kiosk_name,
        now=now,
        status=state.status,
    )
    if state.mode == "idle":
        base.update(heading=Message(IDLE_TEXT), buttons=("help", "lang"))
    elif state.mode in ("session", "summary") and state.patron is not None:
        patron = state.patron
        reason = rules.block_reason(config.policy, patron, state.loans, today)
        base.update(
            patron_name=patron.name,
            loans=_loan_lines(state, today),
            allowance=rules.allowance(config.policy, patron, state.loans, today),
            blocked=_refusal_message(config, patron, reason) if reason else None,
        )
        if state.mode == "session":
            base.update(heading=Message(N_("Hello, {name}"), {"name": patron.name}))
            base.update(buttons=("done", "help", "lang"))
        else:
            borrowed = sum(1 for loan in state.loans if loan.item_id in state.touched)
            base.update(
                heading=Message(N_("Goodbye, {name}!"), {"name": patron.name}),
                message=Message(N_("Books borrowed or renewed today: {count}"), {"count": borrowed}),
                tone="ok",
                loans=tuple(line for line in base["loans"] if line.new),
                buttons=("lang",),
            )
    elif state.mode == "staff" and state.patron is not None:
        base.update(staff.view_fields(config, state))
    elif state.mode == "help":
        base.update(heading=Message(N_("Help")), message=Message(HELP_TEXT), tone="info", buttons=("done", "lang"))
    elif state.mode == "fault":
        base.update(heading=Message(FAULT_TEXT), tone="error")
    base.update(fields)
    return replace(state, view=View(**base))


def _refusal_message(config: MachineConfig, patron: Patron | None, reason: str, item: Item | None = None) -> Message:
    if reason == "item_unavailable" and item is not None:
        return Message(UNAVAILABLE.get(item.status, UNAVAILABLE["withdrawn"]))
    params = {}
    if reason == "limit_reached" and patron is not None:
        params["max"] = config.policy.rule_for(patron.type).max_loans
    return Message(REFUSALS[reason], params)


def initial_state(config: MachineConfig, now: datetime) -> State:
    """The kiosk at start: idle, in its default language."""
    placeholder = View(screen="idle", language=config.language, kiosk_name=config.kiosk_name, now=now)
    state = State(mode="idle", language=config.language, view=placeholder)
    return _render(config, state, now)


# ------------------------------------------------------------ the step


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
        return _item(config, state, event.found, event.loan, now)
    if isinstance(event, Press):
        return _press(config, state, event.button, now)
    if isinstance(event, Tick):
        return _tick(config, state, now)
    if isinstance(event, ReaderFault):
        return _reader_fault(config, state, event, now)
    if isinstance(event, ReaderOk):
        return _reader_ok(config, state, now)
    if isinstance(event, Door):
        return _door(config, state, event, now)
    if isinstance(event, StatusUpdate):
        return _status(config, state, event, now)
    raise TypeError(f"not a kiosk event: {event!r}")


def _shown(state: State) -> Show:
    return Show(state.view)


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
        return _card(config, state, tap.found, tap.loans, now)
    if isinstance(tap.found, Item):
        return _item(config, state, tap.found, tap.loan, now)
    return _unknown(config, state, now, {"uid": tap.uid}, tap.uid)


def _card(config, state, patron: Patron, loans, now):
    same = state.patron is not None and state.patron.id == patron.id
    if same and state.mode == "session":
        return _end_session(config, state, now, reason="same_card")
    if same and state.mode == "staff":
        return _to_idle_outcome(config, state, now, "staff", N_("Goodbye"))
    if patron.is_staff:
        state = replace(
            state,
            mode="staff",
            patron=patron,
            loans=tuple(loans),
            touched=(),
            task=None,
            counted=frozenset(),
            last_activity=now,
            until=None,
        )
        state = _render(config, state, now, tone="info")
        record = Record("staff_login", patron_id=patron.id)
        return state, [record, Light("ok"), Sound("ok"), _shown(state),
                       Outcome("staff", state.view.heading, patron_id=patron.id)]
    # A new session; a second card simply replaces the first session.
    state = replace(
        state, mode="session", patron=patron, loans=tuple(loans), touched=(), last_activity=now, until=None
    )
    today = now.date()
    reason = rules.block_reason(config.policy, patron, state.loans, today)
    effects: list[Effect] = []
    if reason:
        message = _refusal_message(config, patron, reason)
        state = _render(config, state, now, tone="error",
                        message=Message(N_("You can still return books.")))
        effects += [Light("error"), Sound("error")]
    else:
        message = Message(N_("Tap a book to borrow it."))
        state = _render(config, state, now, tone="ok", message=message)
        effects += [Light("ok"), Sound("ok")]
    # The cabinet opens for a valid card: a blocked or expired card is not
    # valid, but a patron blocked only for late books may return them.
    if config.has_lock and reason not in ("card_blocked", "card_expired"):
        effects.append(Unlock(config.lock_seconds))
    effects += [_shown(state), Outcome("session_start", message if reason else state.view.heading,
                                       reason=reason, patron_id=patron.id)]
    return state, effects


def _item(config, state, item: Item, loan: Loan | None, now):
    if state.mode == "session" and state.patron is not None:
        return _session_item(config, state, item, loan, now)
    if state.mode == "staff":
        return staff.item(config, state, item, loan, now, _render)
    return _return_at_idle(config, state, item, loan, now)


def _return_at_idle(config, state, item: Item, loan: Loan | None, now):
    elsewhere = bool(item.home) and item.home != config.home
    unlock = [Unlock(config.lock_seconds)] if config.has_lock and not elsewhere else []
    if loan is not None:
        record = Record(
            "return",
            patron_id=loan.patron_id,
            item_id=item.id,
            details={"from_patron": loan.patron_id, "due": loan.due.isoformat()},
        )
        if elsewhere:
            message = Message(N_("Returned: {title}. Please put it in {home}."),
                              {"title": item.title, "home": config.home_name(item.home)})
        else:
            message = Message(N_("Returned: {title}. Thank you!"), {"title": item.title})
        state = _result(config, state, now, "ok", message)
        return state, [record, Light("ok"), Sound("ok"), *unlock, _shown(state),
                       Outcome("return", message, patron_id=loan.patron_id, item_id=item.id)]
    # Not on loan: said calmly. A lost or withdrawn book that turns up goes
    # to the librarian, and the record is flagged so it is looked at.
    found_again = item.status in ("lost", "withdrawn")
    if found_again:
        message = Message(N_("{title} is not on loan. Please give it to the librarian."), {"title": item.title})
        reason = "found_" + item.status
    elif elsewhere:
        message = Message(N_("{title} is not on loan. It belongs in {home}."),
                          {"title": item.title, "home": config.home_name(item.home)})
        reason = "not_on_loan"
    else:
        message = Message(N_("{title} is not on loan. You can put it back on the shelf."), {"title": item.title})
        reason = "not_on_loan"
    record = Record("not_on_loan", item_id=item.id, details={"status": item.status}, flagged=found_again)
    state = _result(config, state, now, "info", message)
    return state, [record, Light("ok"), _shown(state),
                   Outcome("info", message, reason=reason, item_id=item.id, flagged=found_again)]


def _session_item(config, state, item: Item, loan: Loan | None, now):
    patron = state.patron
    today = now.date()
    state = replace(state, last_activity=now)
    own = tuple(l for l in state.loans if l.item_id != item.id)
    blocked = rules.block_reason(config.policy, patron, state.loans, today)

    if loan is not None and loan.patron_id == patron.id:
        if blocked:
            # A blocked patron may still return books.
            return _session_return(config, state, item, loan, now)
        reason = rules.renewal_refusal(config.policy, patron, state.loans, loan, today)
        if reason:
            return _refuse(config, state, item, reason, now)
        due = rules.due_date(config.policy, patron.type, today)
        renewed = replace(loan, due=due, renewals=loan.renewals + 1, title=loan.title or item.title)
        state = replace(state, loans=own + (renewed,), touched=state.touched + (item.id,))
        record = Record("renew", patron_id=patron.id, item_id=item.id,
                        details={"due": due.isoformat(), "renewals": renewed.renewals})
        message = Message(N_("Renewed: {title}. Please return it by {due}."),
                          {"title": item.title, "due": due.isoformat()})
        state = _render(config, state, now, tone="ok", message=message)
        return state, [record, Light("ok"), Sound("ok"), _shown(state),
                       Outcome("renew", message, patron_id=patron.id, item_id=item.id, due=due)]

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
    state = replace(state, loans=own + (new_loan,), touched=state.touched + (item.id,))
    message = Message(N_("Borrowed: {title}. Please return it by {due}."), {"title": item.title, "due": due.isoformat()})
    state = _render(config, state, now, tone="ok", message=message)
    return state, [*records, Light("ok"), Sound("ok"), _shown(state),
                   Outcome("checkout", message, patron_id=patron.id, item_id=item.id, due=due, flagged=transferred)]


def _session_return(config, state, item, loan, now):
    patron = state.patron
    state = replace(state, loans=tuple(l for l in state.loans if l.item_id != item.id))
    record = Record("return", patron_id=patron.id, item_id=item.id,
                    details={"from_patron": patron.id, "due": loan.due.isoformat()})
    message = Message(N_("Returned: {title}. Thank you!"), {"title": item.title})
    state = _render(config, state, now, tone="ok", message=message)
    return state, [record, Light("ok"), Sound("ok"), _shown(state),
                   Outcome("return", message, patron_id=patron.id, item_id=item.id)]


def _refuse(config, state, item: Item, reason: str, now):
    patron = state.patron
    message = _refusal_message(config, patron, reason, item)
    details = {"reason": reason}
    if reason == "item_unavailable":
        details["status"] = item.status
    record = Record("refused", patron_id=patron.id, item_id=item.id, details=details)
    state = _render(config, state, now, tone="error", message=message)
    return state, [record, Light("error"), Sound("error"), _shown(state),
                   Outcome("refused", message, reason=reason, patron_id=patron.id, item_id=item.id)]


def _unknown(config, state, now, details: dict, label: str):
    record = Record("unknown_tag", details=details)
    message = Message(N_("Please give this to the librarian"))
    seen = (label, now.isoformat(timespec="seconds"))
    state = replace(state, unknown_tags=((seen,) + state.unknown_tags)[:UNKNOWN_TAGS_KEPT])
    if state.mode in ("session", "staff"):
        state = _render(config, replace(state, last_activity=now), now, tone="error", message=message)
    else:
        state = _result(config, state, now, "error", message)
    return state, [record, Light("error"), Sound("error"), _shown(state),
                   Outcome("unknown_tag", message, reason="unknown_tag")]


def _result(config, state, now, tone: str, message: Message) -> State:
    """A transient outcome screen at idle, back to idle after a while."""
    state = replace(state, mode="result", patron=None, loans=(), touched=(),
                    until=now + timedelta(seconds=config.result_seconds))
    return _render(config, state, now, tone=tone, message=message,
                   heading=Message(IDLE_TEXT), buttons=("help", "lang"))


def _end_session(config, state, now, reason: str):
    state = replace(state, mode="summary", until=now + timedelta(seconds=config.result_seconds),
                    last_activity=None)
    state = _render(config, state, now)
    return state, [Light("off"), _shown(state),
                   Outcome("session_end", state.view.message, reason=reason, patron_id=state.patron.id)]


def _idle(config, state, now) -> State:
    state = replace(state, mode="idle", patron=None, loans=(), touched=(), until=None,
                    last_activity=None, task=None, counted=frozenset())
    return _render(config, state, now)


def _to_idle_outcome(config, state, now, kind: str, text: str):
    patron_id = state.patron.id if state.patron else None
    state = _idle(config, state, now)
    return state, [Light("off"), _shown(state), Outcome(kind, Message(text), patron_id=patron_id)]


def _press(config, state, button: str, now):
    mode = state.mode
    if button == "lang":
        language = LANGUAGES[(LANGUAGES.index(state.language) + 1) % len(LANGUAGES)] \
            if state.language in LANGUAGES else LANGUAGES[0]
        state = replace(state, language=language, view=replace(state.view, language=language))
        if state.last_activity is not None:
            state = replace(state, last_activity=now)
        return state, [_shown(state), Outcome("info", Message(N_("English")) if language == "en"
                                               else Message(N_("Chinese")), reason="language")]
    if mode == "staff" and state.patron is not None:
        handled = staff.press(config, state, button, now, _render)
        if handled is not None:
            return handled
    if button in ("done", "back"):
        if mode == "session":
            return _end_session(config, state, now, reason="done")
        if mode == "staff":
            return _to_idle_outcome(config, state, now, "staff", N_("Goodbye"))
        if mode in ("result", "summary", "help"):
            return _to_idle_outcome(config, state, now, "info", IDLE_TEXT)
    if button == "help":
        if mode == "session":
            state = _render(config, replace(state, last_activity=now), now, tone="info", message=Message(HELP_TEXT))
        elif mode in ("idle", "result", "summary"):
            state = replace(state, mode="help", until=now + timedelta(seconds=3 * config.result_seconds))
            state = _render(config, state, now)
        else:
            return state, [Outcome("ignored", Message(HELP_TEXT), reason="not_here")]
        return state, [_shown(state), Outcome("info", Message(HELP_TEXT), reason="help")]
    if mode == "staff" and state.patron is not None:
        state = replace(state, last_activity=now)
        if button == "sync":
            state = _render(config, state, now, tone="info", message=Message(N_("Syncing now")))
            return state, [SyncNow(), _shown(state), Outcome("staff", state.view.message, reason="sync")]
        if button == "exit" and state.patron.type == "librarian":
            record = Record("exit_maintenance", patron_id=state.patron.id)
            state = _render(config, state, now, tone="info", message=Message(N_("Closing for maintenance")))
            return state, [record, _shown(state), ExitKiosk(),
                           Outcome("staff", state.view.message, reason="exit", patron_id=state.patron.id)]
    return state, [Outcome("ignored", Message(N_("Not available here")), reason="not_here")]


def _tick(config, state, now):
    effects: list[Effect] = []
    if state.mode == "session" and state.last_activity is not None and \
            (now - state.last_activity).total_seconds() >= config.session_timeout:
        state, effects = _end_session(config, state, now, reason="timeout")
    elif state.mode == "staff" and state.last_activity is not None and \
            (now - state.last_activity).total_seconds() >= config.staff_timeout:
        state, effects = _to_idle_outcome(config, state, now, "staff", N_("Goodbye"))
    elif state.mode in ("result", "summary", "help") and state.until is not None and now >= state.until:
        state = _idle(config, state, now)
        effects = [Light("off"), _shown(state)]
    if state.door_open_since is not None and not state.door_alarmed and \
            (now - state.door_open_since).total_seconds() >= config.door_alarm_seconds:
        seconds = int((now - state.door_open_since).total_seconds())
        state = replace(state, door_alarmed=True)
        message = Message(N_("Please close the cabinet door."))
        state = _render(config, state, now, tone="error", message=message)
        # After whatever else this tick did (a session's timeout keeps its outcome and its summary's record).
        effects = effects + [Record("door_open_too_long", details={"seconds": seconds}), Light("error"),
                             Sound("error"), _shown(state), Outcome("info", message, reason="door_open_too_long")]
    return state, effects


def _reader_fault(config, state, event: ReaderFault, now):
    status = replace(state.status, reader_ok=False)
    state = replace(state, mode="fault", patron=None, loans=(), touched=(), until=None,
                    last_activity=None, status=status)
    state = _render(config, state, now)
    return state, [Record("reader_fault", details={"detail": event.detail}), Light("fault"), _shown(state),
                   Outcome("info", Message(FAULT_TEXT), reason="reader_fault")]


def _reader_ok(config, state, now):
    state = replace(state, status=replace(state.status, reader_ok=True))
    state = _idle(config, state, now)
    return state, [Record("reader_ok"), Light("off"), _shown(state),
                   Outcome("info", Message(IDLE_TEXT), reason="reader_ok")]


def _door(config, state, event: Door, now):
    state = replace(state, door_open_since=now if event.is_open else None, door_alarmed=False,
                    status=replace(state.status, door_open=event.is_open))
    state = replace(state, view=replace(state.view, status=state.status))
    reason = "door_open" if event.is_open else "door_closed"
    text = N_("Door open") if event.is_open else N_("Door closed")
    return state, [_shown(state), Outcome("info", Message(text), reason=reason)]


def _status(config, state, event: StatusUpdate, now):
    changes = {k: v for k, v in vars(event).items() if v is not None}
    status = replace(state.status, **changes)
    if status == state.status:
        return state, []
    state = replace(state, status=status, view=replace(state.view, status=status))
    return state, [_shown(state)]
