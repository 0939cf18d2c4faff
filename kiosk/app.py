"""The edge around the state machine: look up, step, commit, then act.

`Kiosk` is driven by one loop (the screen's main loop, or the scripted
kiosk): it resolves raw input against the local store, calls
`machine.step`, commits the step's records in one transaction, and only then
lights, sounds, unlocks and shows. Each event's outcome comes back as the
dict that `kiosk simulate` prints.

When the records cannot be committed (the disk full or failing, the file
read-only, a page damaged, a lock held too long), nothing of the step is
shown as done: the student is told the book is not borrowed, and the kiosk
is out of order (`kiosk.outoforder`) until a retry succeeds.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
from datetime import datetime
from typing import Any, Callable

from kiosk import store
from kiosk.clock import UntrustedSpell
from kiosk.config import Config
from kiosk.core.durable import describe
from kiosk.domain import find
from kiosk.domain.errors import BadUid
from kiosk.domain.events import (
    Door, ExitKiosk, Light, Outcome, Press, ReaderFault, ReaderOk, Record, Scan, ShowcaseUpdate, Show, Sound,
    StatusUpdate, SyncNow, Tap, Tick, Type, Unlock,
)
from kiosk.domain.machine import MachineConfig, initial_state, step
from kiosk.domain.model import normalize_uid
from kiosk.domain.view import Message, N_, View
from kiosk.i18n import render, translator
from kiosk.outoforder import Behind, OutOfOrder
from kiosk.store import reading, showcase

log = logging.getLogger("kiosk")

STATUS_EVERY = 5.0  # seconds between refreshes of the pending count and sync mark


def local_address() -> str | None:
    """This machine's address on the school network, for the staff screen; None without one.

    A UDP socket's connect only picks the route: nothing is sent, nothing waited for.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never answered, only routed
            return probe.getsockname()[0]
    except OSError:
        return None


class Kiosk:
    """One kiosk: its store, its machine state and its outputs.

    Outputs are injected: `lights`, `sounder`, `lock` follow the contracts of
    `hardware.base`; `screen` has `show(view)`; `translate(language)` gives a
    function from template to text; `on_sync` and `on_exit` are called for
    the staff screen's "sync now" and "exit for maintenance". `reopen` gives
    a fresh connection when the kiosk retries after a storage fault (a file
    opened read-only stays so); `on_storage` hears of a fault (its text) and
    of the recovery (None). With `fault` (and `db` None) the kiosk starts out
    of order: its database could not be opened, and `reopen` is retried.
    """

    def __init__(self, db, config: Config, clock, *, lights=None, sounder=None, lock=None, screen=None,
                 translate: Callable[[str], Callable[[str], str]] = translator,
                 on_sync: Callable[[], None] | None = None, on_exit: Callable[[], None] | None = None,
                 reopen: Callable[[], Any] | None = None, on_storage: Callable[[str | None], None] | None = None,
                 fault: str | None = None, address: Callable[[], str | None] | None = None):
        self.db = db
        self.address = address or local_address
        self.config = config
        self.clock = clock
        self.spell = UntrustedSpell()
        self.out_of_order = OutOfOrder(self, reopen, on_storage)
        self.lights, self.sounder, self.lock, self.screen = lights, sounder, lock, screen
        self.translate = translate
        self.on_sync, self.on_exit = on_sync, on_exit
        self.kiosk_id = config.kiosk.id
        self._pulled: tuple = (None, None)
        self.machine = MachineConfig.from_config(config)
        if fault is None:
            try:
                self.adopt()
            except sqlite3.Error as exc:
                fault = describe(exc)
        now = self.now()
        self.state = initial_state(self.machine, now)
        self._status_at: datetime | None = None
        self._slides_stale = True
        if fault is not None:
            self.out_of_order.begin(fault, now, None, None)
        else:
            self.out_of_order.guard(now, None, lambda: self.refresh_status(now), quiet=True)
        if self.screen is not None:
            self.screen.show(self.view)

    def adopt(self) -> None:
        """Take the kiosk's identity, rules and catalog names from its database (at the start, and when it
        comes back after a storage fault)."""
        held = store.get_meta(self.db, "kiosk_id")
        self.kiosk_id = held or self.config.kiosk.id
        if held is None:
            store.set_meta(self.db, kiosk_id=self.kiosk_id)
        self._pulled = self._pulled_version()
        self.machine = self._machine_config()

    @property
    def view(self) -> View:
        return self.out_of_order.view or self.state.view

    @property
    def fault(self) -> str | None:
        """What keeps the kiosk out of order (a storage fault), or None."""
        return self.out_of_order.fault

    def now(self) -> datetime:
        """The kiosk's time: the clock's, or while it cannot be trusted, run on from the floor (`UntrustedSpell`)."""
        def floor() -> str | None:
            try:
                return store.last_trusted_at(self.db) if self.db is not None else None
            except sqlite3.Error:
                return None  # the store is failing: the out-of-order screen will say so

        return self.spell.time(self.clock.now(), self.clock.monotonic(), bool(self.clock.trusted), floor)

    # ------------------------------------------------------------ input

    def tap(self, raw_uid: str, now: datetime | None = None, input_line: str | None = None) -> dict | None:
        """A tag read: looked up, then handled. A malformed read is never guessed."""
        now = now or self.now()
        try:
            uid = normalize_uid(raw_uid)
        except BadUid as exc:
            log.warning("tag read rejected: %s", exc)
            return self._plain(input_line or f"tap {raw_uid}", "ignored", "bad_read",
                               Message(N_("Please tap again")))
        return self.out_of_order.guard(now, input_line or f"tap {uid}", lambda: self._tap(uid, now, input_line))

    def _tap(self, uid: str, now: datetime, input_line: str | None) -> dict | None:
        patron = store.patron_by_uid(self.db, uid)
        if patron is not None:
            progress = reading.progress(self.db, self.kiosk_id, patron, self.machine.policy, now,
                                        cabinet=self.machine.role == "cabinet")
            event = Tap(uid, found=patron, loans=store.loans_of(self.db, patron.id), progress=progress)
        else:
            item = store.item_by_uid(self.db, uid)
            event = Tap(uid, found=item, loan=store.loan_of(self.db, item.id) if item else None,
                        also=self._also(item))
        return self.handle(event, now, input_line or f"tap {uid}")

    def _also(self, item) -> tuple:
        """What readers of `item` also read, here: only worth looking up for a checkout in a session."""
        if item is None or self.state.mode != "session":
            return ()
        return reading.recommended(self.db, item.id, self.machine.home)

    def scan(self, barcode: str, now: datetime | None = None, input_line: str | None = None) -> dict | None:
        """A barcode from the scanner: only ever an item."""
        now = now or self.now()
        barcode = barcode.strip()
        if not barcode or len(barcode) > 64 or not barcode.isprintable():
            return self._plain(input_line or f"scan {barcode}", "ignored", "bad_read",
                               Message(N_("Please scan again")))

        def scanned():
            item = store.item_by_barcode(self.db, barcode)
            event = Scan(barcode, found=item, loan=store.loan_of(self.db, item.id) if item else None,
                         also=self._also(item))
            return self.handle(event, now, input_line or f"scan {barcode}")

        return self.out_of_order.guard(now, input_line or f"scan {barcode}", scanned)

    def press(self, button: str, now: datetime | None = None, input_line: str | None = None) -> dict | None:
        return self._event(lambda: Press(button), now, input_line or f"press {button}")

    def type(self, text: str, now: datetime | None = None, input_line: str | None = None) -> dict | None:
        """Keys typed into Find a book (`find.BACKSPACE` takes one away): the search runs on the local catalog."""
        def typed():
            query = find.next_query(self.state.query, text)
            found = showcase.search(self.db, query, self.machine.homes) if self.state.mode == "find" else ()
            return Type(text, query, found)

        return self._event(typed, now, input_line or f"type {text}")

    def reader_fault(self, detail: str = "", now=None, input_line=None) -> dict | None:
        return self._event(lambda: ReaderFault(detail), now, input_line or "reader fail")

    def reader_ok(self, now=None, input_line=None) -> dict | None:
        return self._event(ReaderOk, now, input_line or "reader ok")

    def door(self, is_open: bool, now=None, input_line=None) -> dict | None:
        return self._event(lambda: Door(is_open), now, input_line or ("door open" if is_open else "door close"))

    def _event(self, make: Callable[[], Any], now: datetime | None, input_line: str) -> dict | None:
        """Handle the event `make()` gives, unless the kiosk is out of order."""
        now = now or self.now()
        return self.out_of_order.guard(now, input_line, lambda: self.handle(make(), now, input_line))

    def tick(self, now: datetime | None = None, input_line: str = "tick") -> list[dict]:
        """The clock moved on: timeouts, and now and then the status mark. Every outcome of the tick, in order
        (a session's timeout and the cabinet's door alarm can fall in the same one). Out of order: a retry
        now and then, and its outcome once back in service."""
        now = now or self.now()
        if self.fault is not None:
            back = self.out_of_order.retry(now, input_line)
            return [back] if back else []

        def ticked() -> list[dict]:
            if self._status_at is None or (now - self._status_at).total_seconds() >= STATUS_EVERY:
                self.refresh_status(now)
            return self.handle_all(Tick(), now, input_line)

        return self.out_of_order.guard(now, input_line, ticked, quiet=True) or []

    def _pulled_version(self) -> tuple:
        """What changes when the sync process applied a page: the rules and the pull cursor."""
        return store.rules_text(self.db), store.get_meta(self.db, "pull_cursor")

    def _machine_config(self) -> MachineConfig:
        return MachineConfig.from_config(self.config, policy=store.load_policy(self.db, self.config.policy),
                                         homes=reading.homes(self.db))

    def refresh_status(self, now: datetime) -> None:
        """Pending records, last sync and clock trust, for the idle mark; new rules and showcase from a sync.

        A log that ends before what the central store holds of it (the sync
        process found out) puts the kiosk out of order: numbering on would
        give new records old numbers.
        """
        self._status_at = now
        behind = store.behind_by(self.db)
        if behind:
            raise Behind(f"its database holds records only up to #{behind[0]}, the central store up to "
                         f"#{behind[1]}: rebuild it with kiosk restore")
        pulled = self._pulled_version()
        if pulled != self._pulled:
            # The sync process pulled changes: new rules apply from the next tap, new slides at idle.
            self._pulled = pulled
            self.machine = self._machine_config()
            self._slides_stale = True
        if self._slides_stale and self.state.mode == "idle":
            self._slides_stale = False
            slides = showcase.slides(self.db, self.kiosk_id, self.machine.home, self.machine.policy, now)
            self.handle(ShowcaseUpdate(slides), now, None)
        event = StatusUpdate(
            online=store.get_meta(self.db, "online") == "1",
            pending=store.pending_count(self.db),
            last_sync=store.get_meta(self.db, "last_sync"),
            clock_trusted=bool(self.clock.trusted),
            ip=self.address(),
        )
        self.handle(event, now, None)

    # ------------------------------------------------------------ the step

    def stamp(self, now: datetime) -> dict:
        """The clock's stamp for records made now; an untrusted clock is floored at the last trusted time."""
        trusted = self.clock.trusted
        return self.clock.stamp(now, None if trusted else store.last_trusted_at(self.db))

    def handle(self, event, now: datetime, input_line: str | None) -> dict | None:
        """`handle_all`, for an event with at most one outcome: that outcome as a dict, or None."""
        outcomes = self.handle_all(event, now, input_line)
        return outcomes[-1] if outcomes else None

    def handle_all(self, event, now: datetime, input_line: str | None) -> list[dict]:
        """Step the machine, commit its records, carry out its effects; every outcome as a dict, in order.

        If the records cannot be committed, nothing of the step happens but
        the out-of-order screen saying so (and its "not done" outcome).
        """
        state, effects = step(self.machine, self.state, event, now)
        records = [e for e in effects if isinstance(e, Record)]
        try:
            seqs = store.append_records(self.db, self.kiosk_id, records, self.stamp(now)) if records else []
        except sqlite3.Error as exc:
            attempted = next((e.kind for e in effects if isinstance(e, Outcome)), None)
            refused = self.out_of_order.begin(describe(exc), now, input_line, attempted)
            return [refused] if refused else []
        if any(r.kind == "checkout" for r in records):
            self._slides_stale = True  # the class's progress moved on
        # Only now, with the records on disk, does anything reach the patron.
        self.state = state
        led = sound = None
        outcomes: list[Outcome] = []
        for effect in effects:
            if isinstance(effect, Light):
                led = effect.pattern
                if self.lights is not None:
                    self.lights.show(effect.pattern)
            elif isinstance(effect, Sound):
                sound = effect.name
                if self.sounder is not None:
                    self.sounder.play(effect.name)
            elif isinstance(effect, Unlock):
                if self.lock is not None:
                    self.lock.open_for(effect.seconds)
            elif isinstance(effect, Show):
                if self.screen is not None:
                    self.screen.show(effect.view)
            elif isinstance(effect, SyncNow):
                if self.on_sync is not None:
                    self.on_sync()
            elif isinstance(effect, ExitKiosk):
                if self.on_exit is not None:
                    self.on_exit()
            elif isinstance(effect, Outcome):
                outcomes.append(effect)
        unlocked = [e.seconds for e in effects if isinstance(e, Unlock)]
        return [self._line(outcome, input_line, now, state, seqs, led, sound, unlocked) for outcome in outcomes]

    def _line(self, outcome: Outcome, input_line, now, state, seqs, led, sound, unlocked) -> dict:
        """One outcome as the JSON line of `kiosk simulate`."""
        return {
            "input": input_line,
            "at": now.isoformat(timespec="seconds"),
            "screen": state.view.screen,
            "outcome": outcome.kind,
            "reason": outcome.reason,
            "patron": outcome.patron_id,
            "item": outcome.item_id,
            "due": outcome.due.isoformat() if outcome.due else None,
            "record": seqs[-1] if seqs else None,
            "records": seqs,
            "flagged": outcome.flagged,
            "led": led,
            "sound": sound,
            "unlock": unlocked[0] if unlocked else None,
            "message": render(outcome.message, state.language, self.translate),
            "message_en": render(outcome.message, "en", self.translate),
            "language": state.language,
            "progress": outcome.progress.as_json() if outcome.progress else None,
            "also": [book.title for book in outcome.also],
        }

    def _plain(self, input_line: str, kind: str, reason: str, message: Message, **shown) -> dict:
        """An outcome decided at the edge (a bad read, a storage fault): nothing written; `shown` what was."""
        return {
            "input": input_line, "at": self.now().isoformat(timespec="seconds"),
            "screen": self.view.screen, "outcome": kind, "reason": reason, "patron": None, "item": None,
            "due": None, "record": None, "records": [], "flagged": False, "led": None, "sound": None,
            "unlock": None, "message": render(message, self.state.language, self.translate),
            "message_en": render(message, "en", self.translate), "language": self.state.language, "progress": None,
            "also": [], **shown,
        }


def run_script(kiosk: Kiosk, clock, lines, emit: Callable[[dict], Any], source: str = "script") -> None:
    """Drive `kiosk` from script lines (see `kiosk.script`), emitting outcomes.

    A bad line raises `ScriptError` naming it; what came before stays done.
    """
    from kiosk.script import parse_line

    for number, text in enumerate(lines, start=1):
        command = parse_line(number, text.rstrip("\n"), source)
        if command is None:
            continue
        line = command.text.strip()
        outcomes: list[dict | None] = []
        if command.verb == "at":
            when, trusted = command.arg
            clock.set(when, trusted)
            outcomes.extend(kiosk.tick(kiosk.now(), line))
        elif command.verb == "wait":
            remaining = command.arg
            # Tick once a second, as the real loop does, so that timeouts
            # fire at the moment they would on a kiosk.
            while remaining > 0:
                stride = min(1.0, remaining) if command.arg <= 3600 else min(60.0, remaining)
                clock.advance(stride)
                remaining -= stride
                outcomes.extend(kiosk.tick(kiosk.now(), line))
        elif command.verb == "tap":
            outcomes.append(kiosk.tap(command.arg, kiosk.now(), line))
        elif command.verb == "scan":
            outcomes.append(kiosk.scan(command.arg, kiosk.now(), line))
        elif command.verb == "press":
            outcomes.append(kiosk.press(command.arg, kiosk.now(), line))
        elif command.verb == "type":
            outcomes.append(kiosk.type(command.arg, kiosk.now(), line))
        elif command.verb == "reader":
            outcomes.append(kiosk.reader_fault("script", kiosk.now(), line) if command.arg == "fail"
                            else kiosk.reader_ok(kiosk.now(), line))
        elif command.verb == "door":
            outcomes.append(kiosk.door(command.arg == "open", kiosk.now(), line))
        for outcome in outcomes:
            if outcome is not None:
                emit(outcome)
