"""A school's traffic at one kiosk, seeded: sessions with checkouts, renewals and refusals, and returns.

`Visits` drives a `Kiosk` the way the library's patrons do, one visit at a
time. Two visits in three are sessions: a card, one to four books (a new
one lent, or refused when the patron is at the limit or blocked; an own
loan renewed, or refused past the renewal limit; now and then a book on
loan to someone else, which the default rules return and lend again, or one
in repair or lost), then the card again, Done, or walking away. The others
are returns at idle, with the odd book that was not on loan and the odd
unknown sticker. What it taps depends on what the kiosk holds (who has
which book), so the same seed on the same catalog gives the same taps.

`catalog` fills a kiosk's database with the patrons, items and current
loans these visits expect.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

TEACHERS = 40  # of every 1,000 patrons; the rest are students in 36 classes
OUT_OF_CIRCULATION = {"repair": 0.01, "lost": 0.005, "withdrawn": 0.005}
TAP_GAP = 2.5  # seconds between a visitor's taps: past the 2 s debounce
VISITS_A_DAY = 120
IDLE_TICKED = 30  # the first seconds of a quiet spell ticked one by one: the timeouts (4 s, 20 s) fall in them


def card(n: int) -> str:
    """Patron n's card UID (a 4-byte MIFARE Classic)."""
    return f"{0x10000000 + n:08X}"


def tag(n: int) -> str:
    """Item n's sticker UID (a 7-byte NTAG)."""
    return f"04{n:012X}"


def catalog(db, patrons: int, items: int, now: datetime, seed: int = 7) -> None:
    """Patrons, items and about 1.5 current loans a patron, a few long overdue; all in one transaction."""
    rng = random.Random(seed)
    statuses = [(status, share) for status, share in OUT_OF_CIRCULATION.items()]
    with db.atomic():
        db["patrons"].insert_all(
            ({"id": f"P{n}", "name": f"Patron {n}", "type": "teacher" if n % 25 == 0 else "student",
              "class_name": f"{1 + n % 6}{'ABCDEF'[n // 6 % 6]}", "card_uid": card(n), "status": "active",
              "expires": None} for n in range(patrons)), batch_size=5000)
        rows = []
        for n in range(items):
            draw, status = rng.random(), "available"
            for name, share in statuses:
                if draw < share:
                    status = name
                    break
                draw -= share
            rows.append({"id": f"B{n}", "title": f"Book {n}", "author": "", "call_number": "", "tag_uid": tag(n),
                         "barcode": f"97800{n:08d}", "home": "library", "status": status})
        db["items"].insert_all(rows, batch_size=5000)
        loans, lent = [], set()
        for n in range(patrons):
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                item = rng.randrange(items)
                if item in lent or rows[item]["status"] != "available":
                    continue
                lent.add(item)
                out = now - timedelta(days=rng.randint(1, 30))
                loans.append({"item_id": f"B{item}", "patron_id": f"P{n}", "due": (out + timedelta(days=14)).date()
                              .isoformat(), "checked_out": out.isoformat(), "renewals": 0, "kiosk_id": "central",
                              "seq": 0})
        db["loans"].insert_all(loans, batch_size=5000)


@dataclass(frozen=True)
class Sample:
    """One timed tap: what it came to, whether it wrote records, and how long it took."""

    outcome: str
    reason: str | None
    wrote: bool
    seconds: float


class Visits:
    """Patrons visiting `kiosk` (its `clock` a ScriptClock), every tap timed into `samples`.

    Times are the kiosk's own (`Kiosk.now`): with an untrusted clock, run on
    from the floor as a kiosk does.
    """

    def __init__(self, kiosk, clock, seed: int = 1):
        self.kiosk, self.clock, self.db = kiosk, clock, kiosk.db
        self.rng = random.Random(seed)
        self.patrons = [row[0] for row in self.db.execute("SELECT card_uid FROM patrons ORDER BY id")]
        self.tags = dict(self.db.execute("SELECT id, tag_uid FROM items"))
        self.available = [r[0] for r in self.db.execute("SELECT tag_uid FROM items WHERE status = 'available'")]
        self.unavailable = [r[0] for r in self.db.execute("SELECT tag_uid FROM items WHERE status != 'available'")]
        self.samples: list[Sample] = []
        self.visits = 0

    def run(self, writing_taps: int, seconds: float = float("inf")) -> None:
        """Visit until `writing_taps` more taps have written records, or for `seconds` at most."""
        goal = sum(s.wrote for s in self.samples) + writing_taps
        end = time.monotonic() + seconds
        while sum(s.wrote for s in self.samples) < goal and time.monotonic() < end:
            self.visit()

    def visit(self) -> None:
        """One patron's visit, then the quiet until the next."""
        self.visits += 1
        if self.visits % VISITS_A_DAY == 0:
            self._next_morning()
        if self.rng.random() < 0.65:
            self._session()
        else:
            self._returns()
        self._idle(self.rng.uniform(20, 120))

    # ------------------------------------------------------------ visits

    def _session(self) -> None:
        me = self.rng.choice(self.patrons)
        self._tap(me)
        for _ in range(self.rng.choice((1, 1, 2, 2, 3, 4))):
            own = self.kiosk.state.loans
            draw = self.rng.random()
            if own and draw < 0.2:
                self._tap(self.tags[self.rng.choice(own).item_id])
            elif draw < 0.26:
                self._tap(self._on_loan(to_other_than=self.kiosk.state.patron.id)
                          or self.rng.choice(self.available))
            elif draw < 0.32:
                self._tap(self.rng.choice(self.unavailable))
            else:
                self._tap(self.rng.choice(self.available))
        end = self.rng.random()
        if end < 0.6:
            self._tap(me)
        elif end < 0.8:
            self.clock.advance(TAP_GAP)
            self.kiosk.press("done", self.kiosk.now())
        else:
            self._idle(self.kiosk.config.kiosk.session_timeout + 1)

    def _returns(self) -> None:
        for _ in range(self.rng.choice((1, 1, 1, 2, 3))):
            draw = self.rng.random()
            if draw < 0.03:
                self._tap(f"04FFFF{self.rng.randrange(1 << 32):08X}")  # a sticker the kiosk does not know
            elif draw < 0.13:
                self._tap(self.rng.choice(self.available))
            else:
                self._tap(self._on_loan() or self.rng.choice(self.available))

    # ------------------------------------------------------------ helpers

    def _on_loan(self, to_other_than: str | None = None) -> str | None:
        """The sticker of a book on loan (to anyone but `to_other_than`), or None."""
        rows = self.db.execute("SELECT item_id FROM loans WHERE patron_id != ? ORDER BY item_id",
                               [to_other_than or ""]).fetchall()
        return self.tags[self.rng.choice(rows)[0]] if rows else None

    def _tap(self, uid: str) -> None:
        self.clock.advance(TAP_GAP)
        now = self.kiosk.now()
        start = time.perf_counter()
        outcome = self.kiosk.tap(uid, now)
        seconds = time.perf_counter() - start
        reason = outcome["reason"] or ("transfer" if outcome["flagged"] else None)
        self.samples.append(Sample(outcome["outcome"], reason, bool(outcome["records"]), seconds))

    def _idle(self, seconds: float) -> None:
        """Time passing with nobody at the kiosk: ticked each second while a timeout may fall, then once."""
        passed = 0.0
        while passed < seconds:
            step = min(1.0, seconds - passed) if passed < IDLE_TICKED else seconds - passed
            self.clock.advance(step)
            passed += step
            self.kiosk.tick(self.kiosk.now())

    def _next_morning(self) -> None:
        """The library opens again: the next weekday at 08:00."""
        day = self.clock.now() + timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        self.clock.set(day.replace(hour=8, minute=0, second=0, microsecond=0), trusted=self.clock.trusted)
        self.kiosk.tick(self.kiosk.now())
