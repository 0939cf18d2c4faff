"""The edge around the state machine: look up, step, commit, then act.

`Kiosk` is driven by one loop (the screen's main loop, or the scripted
kiosk): it resolves raw input against the local store, calls
`machine.step`, commits the step's records in one transaction, and only then
lights, sounds, unlocks and shows. Each event's outcome comes back as the
dict that `kiosk simulate` prints.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Callable

from kiosk import store
from kiosk.config import Config
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
from kiosk.store import reading, showcase

log = logging.getLogger("kiosk")

STATUS_EVERY = 5.0  # seconds between refreshes of the pending count and sync mark


class Kiosk:
    """One kiosk: its store, its machine state and its outputs.

    Outputs are injected: `lights`, `sounder`, `lock` follow the contracts of
    `hardware.base`; `screen` has `show(view)`; `translate(language)` gives a
    function from template to text; `on_sync` and `on_exit` are called for
    the staff screen's "sync now" and "exit for maintenance".
    """

    def __init__(self, db, config: Config, clock, *, lights=None, sounder=None, lock=None, screen=None,
                 translate: Callable[[str], Callable[[str], str]] = translator,
                 on_sync: Callable[[], None] | None = None, on_exit: Callable[[], None] | None = None):
        self.db = db
        self.config = config
        self.clock = clock
        self.kiosk_id = store.get_meta(db, "kiosk_id") or config.kiosk.id
        if store.get_meta(db, "kiosk_id") is None:
            store.set_meta(db, kiosk_id=self.kiosk_id)
        self.lights, self.sounder, self.lock, self.screen = lights, sounder, lock, screen
        self.translate = translate
        self.on_sync, self.on_exit = on_sync, on_exit
        self._pulled = self._pulled_version()
        self.machine = self._machine_config()
        now = clock.now()
        self.state = initial_state(self.machine, now)
        self._status_at: datetime | None = None
        self._slides_stale = True
        self.refresh_status(now)
        if self.screen is not None:
            self.screen.show(self.state.view)

    @property
    def view(self) -> View:
        return self.state.view

    # ------------------------------------------------------------ input

    def tap(self, raw_uid: str, now: datetime | None = None, input_line: str | None = None) -> dict | None:
        """A tag read: looked up, then handled. A malformed read is never guessed."""
        now = now or self.clock.now()
        try:
            uid = normalize_uid(raw_uid)
        except BadUid as exc:
            log.warning("tag read rejected: %s", exc)
            return self._plain(input_line or f"tap {raw_uid}", "ignored", "bad_read",
                               Message(N_("Please tap again")))
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
        now = now or self.clock.now()
        barcode = barcode.strip()
        if not barcode or len(barcode) > 64 or not barcode.isprintable():
            return self._plain(input_line or f"scan {barcode}", "ignored", "bad_read",
                               Message(N_("Please scan again")))
        item = store.item_by_barcode(self.db, barcode)
        event = Scan(barcode, found=item, loan=store.loan_of(self.db, item.id) if item else None,
                     also=self._also(item))
        return self.handle(event, now, input_line or f"scan {barcode}")

    def press(self, button: str, now: datetime | None = None, input_line: str | None = None) -> dict | None:
        return self.handle(Press(button), now or self.clock.now(), input_line or f"press {button}")

    def type(self, text: str, now: datetime | None = None, input_line: str | None = None) -> dict | None:
        """Keys typed into Find a book (`find.BACKSPACE` takes one away): the search runs on the local catalog."""
        query = find.next_query(self.state.query, text)
        found = showcase.search(self.db, query, self.machine.homes) if self.state.mode == "find" else ()
        return self.handle(Type(text, query, found), now or self.clock.now(), input_line or f"type {text}")

    def reader_fault(self, detail: str = "", now=None, input_line=None) -> dict | None:
        return self.handle(ReaderFault(detail), now or self.clock.now(), input_line or "reader fail")

    def reader_ok(self, now=None, input_line=None) -> dict | None:
        return self.handle(ReaderOk(), now or self.clock.now(), input_line or "reader ok")

    def door(self, is_open: bool, now=None, input_line=None) -> dict | None:
        return self.handle(Door(is_open), now or self.clock.now(), input_line or
                           ("door open" if is_open else "door close"))

    def tick(self, now: datetime | None = None, input_line: str = "tick") -> list[dict]:
        """The clock moved on: timeouts, and now and then the status mark. Every outcome of the tick, in order
        (a session's timeout and the cabinet's door alarm can fall in the same one)."""
        now = now or self.clock.now()
        if self._status_at is None or (now - self._status_at).total_seconds() >= STATUS_EVERY:
            self.refresh_status(now)
        return self.handle_all(Tick(), now, input_line)

    def _pulled_version(self) -> tuple:
        """What changes when the sync process applied a page: the rules and the pull cursor."""
        return store.rules_text(self.db), store.get_meta(self.db, "pull_cursor")

    def _machine_config(self) -> MachineConfig:
        return MachineConfig.from_config(self.config, policy=store.load_policy(self.db, self.config.policy),
                                         homes=reading.homes(self.db))

    def refresh_status(self, now: datetime) -> None:
        """Pending records, last sync and clock trust, for the idle mark; new rules and showcase from a sync."""
        self._status_at = now
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
        """Step the machine, commit its records, carry out its effects; every outcome as a dict, in order."""
        state, effects = step(self.machine, self.state, event, now)
        records = [e for e in effects if isinstance(e, Record)]
        seqs = store.append_records(self.db, self.kiosk_id, records, self.stamp(now)) if records else []
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

    def _plain(self, input_line: str, kind: str, reason: str, message: Message) -> dict:
        """An outcome decided at the edge (a bad read): nothing written or shown."""
        return {
            "input": input_line, "at": self.clock.now().isoformat(timespec="seconds"),
            "screen": self.state.view.screen, "outcome": kind, "reason": reason, "patron": None, "item": None,
            "due": None, "record": None, "records": [], "flagged": False, "led": None, "sound": None,
            "unlock": None, "message": render(message, self.state.language, self.translate),
            "message_en": render(message, "en", self.translate), "language": self.state.language, "progress": None,
            "also": [],
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
            clock.set(command.arg)
            outcomes.extend(kiosk.tick(clock.now(), line))
        elif command.verb == "wait":
            remaining = command.arg
            # Tick once a second, as the real loop does, so that timeouts
            # fire at the moment they would on a kiosk.
            while remaining > 0:
                stride = min(1.0, remaining) if command.arg <= 3600 else min(60.0, remaining)
                clock.advance(stride)
                remaining -= stride
                outcomes.extend(kiosk.tick(clock.now(), line))
        elif command.verb == "tap":
            outcomes.append(kiosk.tap(command.arg, clock.now(), line))
        elif command.verb == "scan":
            outcomes.append(kiosk.scan(command.arg, clock.now(), line))
        elif command.verb == "press":
            outcomes.append(kiosk.press(command.arg, clock.now(), line))
        elif command.verb == "type":
            outcomes.append(kiosk.type(command.arg, clock.now(), line))
        elif command.verb == "reader":
            outcomes.append(kiosk.reader_fault("script", clock.now(), line) if command.arg == "fail"
                            else kiosk.reader_ok(clock.now(), line))
        elif command.verb == "door":
            outcomes.append(kiosk.door(command.arg == "open", clock.now(), line))
        for outcome in outcomes:
            if outcome is not None:
                emit(outcome)
