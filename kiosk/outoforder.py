"""A kiosk that cannot save: what it shows, and how it comes back by itself.

The kiosk's promise is that what the screen shows as done is on disk. When
a record cannot be committed (the disk full or failing, the database
read-only or damaged, a lock held past the busy timeout), the step that made
it is dropped whole: the student is told the book is not borrowed, and the
kiosk shows an out-of-order screen, answers every tap with "not done",
retries every few seconds with a fresh connection and a small durable
write, and returns to idle by itself once one succeeds. The sync process
(and through it the kiosk health page) and systemd hear of it through
`on_storage`.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta
from typing import Any, Callable

from kiosk import store
from kiosk.core.durable import describe
from kiosk.domain.errors import KioskError
from kiosk.domain.machine import initial_state
from kiosk.domain.texts import IDLE_TEXT
from kiosk.domain.view import Message, N_, View

log = logging.getLogger("kiosk")

RETRY_SECONDS = 5.0
OUT_OF_ORDER = N_("This kiosk is out of order. Please see the librarian.")
NOT_SAVED = {
    "checkout": N_("Sorry, this kiosk cannot save right now: your book is not borrowed. Please see the librarian."),
    "renew": N_("Sorry, this kiosk cannot save right now: your book is not renewed. Please see the librarian."),
    "return": N_("Sorry, this kiosk cannot save right now: your book is not returned. Please see the librarian."),
}
NOT_SAVED_ANY = N_("Sorry, this kiosk cannot save right now. Please see the librarian.")


class Behind(KioskError):
    """The kiosk's log ends before what the central store holds of it: new records would reuse old numbers."""


class OutOfOrder:
    """The out-of-order state of one `kiosk.app.Kiosk`: `fault` (its text) and `view` while out of order."""

    def __init__(self, kiosk, reopen: Callable[[], Any] | None, on_storage: Callable[[str | None], None] | None):
        self.kiosk = kiosk
        self.reopen = reopen
        self.on_storage = on_storage
        self.fault: str | None = None
        self.view: View | None = None
        self.retry_at: datetime | None = None

    def guard(self, now: datetime, input_line: str | None, act: Callable[[], dict | None],
              quiet: bool = False) -> dict | None:
        """Run `act` unless out of order; a storage fault on the way puts the kiosk out of order.

        `quiet`: the act was the kiosk's own (a tick), so no outcome is owed.
        """
        if self.fault is not None:
            return self._show(now, input_line, Message(NOT_SAVED_ANY))
        try:
            return act()
        except sqlite3.Error as exc:
            return self.begin(describe(exc), now, None if quiet else input_line, None)
        except Behind as exc:
            return self.begin(str(exc), now, None if quiet else input_line, None)

    def begin(self, text: str, now: datetime, input_line: str | None, attempted: str | None) -> dict | None:
        """Go out of order because of `text`; `attempted` is the outcome the step would have had."""
        first = self.fault is None
        self.fault = text
        self.retry_at = now + timedelta(seconds=RETRY_SECONDS)
        if first:
            log.error("out of order: the kiosk cannot save: %s (trying again every %g s)", text, RETRY_SECONDS)
            if self.on_storage is not None:
                self.on_storage(text)
        return self._show(now, input_line, Message(NOT_SAVED.get(attempted or "", NOT_SAVED_ANY)))

    def _show(self, now: datetime, input_line: str | None, message: Message) -> dict | None:
        kiosk = self.kiosk
        self.view = View(screen="fault", language=kiosk.state.language, kiosk_name=kiosk.machine.kiosk_name,
                         now=now, status=kiosk.state.status, tone="error", heading=Message(OUT_OF_ORDER),
                         message=message)
        if kiosk.lights is not None:
            kiosk.lights.show("fault")
        if kiosk.sounder is not None and input_line is not None:
            kiosk.sounder.play("librarian")
        if kiosk.screen is not None:
            kiosk.screen.show(self.view)
        if input_line is None:
            return None
        return kiosk._plain(input_line, "not_done", "storage", message, led="fault", sound="librarian")

    def retry(self, now: datetime, input_line: str) -> dict | None:
        """Every RETRY_SECONDS: a fresh connection and a durable write; back to idle if both succeed."""
        if self.retry_at is not None and now < self.retry_at:
            return None
        self.retry_at = now + timedelta(seconds=RETRY_SECONDS)
        kiosk = self.kiosk
        try:
            if self.reopen is not None:
                fresh = self.reopen()
                stale, kiosk.db = kiosk.db, fresh
                if stale is not None:
                    try:
                        stale.conn.close()
                    except sqlite3.Error:
                        pass  # a connection to a failing file may fail to close: it is dropped all the same
            if kiosk.db is None:
                raise KioskError("no database to retry: it could not be opened")
            store.probe(kiosk.db, now.isoformat())
            behind = store.behind_by(kiosk.db)
            if behind:
                raise Behind(f"its database holds records only up to #{behind[0]}, the central store up to "
                             f"#{behind[1]}: rebuild it with kiosk restore")
            kiosk.adopt()
        except (sqlite3.Error, KioskError) as exc:
            text = describe(exc) if isinstance(exc, sqlite3.Error) else str(exc)
            if text != self.fault:
                log.warning("still out of order: %s", text)
                self.fault = text
            return None
        log.info("the kiosk can save again: back in service")
        self.fault, self.view = None, None
        kiosk.state = initial_state(kiosk.machine, now)
        kiosk.refresh_status(now)
        if kiosk.lights is not None:
            kiosk.lights.show("off")
        if kiosk.screen is not None:
            kiosk.screen.show(kiosk.state.view)
        if self.on_storage is not None:
            self.on_storage(None)
        return kiosk._plain(input_line, "info", "storage_ok", Message(IDLE_TEXT))
