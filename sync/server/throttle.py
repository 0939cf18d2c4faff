"""Failed logins counted per account and per client address: after 10 in 15 minutes, no more tries.

Every attempt counts as a failure from the moment it starts (a right
password takes it back), so a hundred guesses sent at once cannot slip
past the count. While an account or an address is locked, every login for
it is refused, a right password too, until its oldest counted failure is
15 minutes old. Kept in memory: a restart forgets the counts, and an
attacker cannot restart the service.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import Callable

log = logging.getLogger("kiosk-central")

LIMIT = 10  # failed logins in the window
WINDOW = 15 * 60.0  # seconds
KEYS_KEPT = 10_000  # accounts and addresses remembered at most (names tried by a sprayer are many)


class LoginThrottle:
    """The failed logins of the last `window` seconds, per account and per address."""

    def __init__(self, limit: int = LIMIT, window: float = WINDOW, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def _wait(self, times: deque[float], now: float) -> int:
        if len(times) < self.limit:
            return 0
        return max(1, math.ceil(times[-self.limit] + self.window - now))

    def attempt(self, account: str, address: str) -> int:
        """Seconds until a login for `account` from `address` may be tried, or 0 (then counted as a failure)."""
        keys = [("account", account.casefold()), ("address", address)]
        with self._lock:
            now = self.clock()
            wait = max(self._wait(self._recent(key, now), now) for key in keys)
            if wait:
                return wait
            for key in keys:
                times = self._failures.setdefault(key, self._recent(key, now))
                times.append(now)
                if len(times) == self.limit:
                    log.warning("login: %d failures for %s %r within %d minutes: refused for %d minutes", self.limit,
                                key[0], key[1], self.window // 60, self.window // 60)
            self._forget_stale(now)
        return 0

    def succeeded(self, account: str, address: str) -> None:
        """A right password: the attempt was not a failure, and neither key is counted against any more."""
        with self._lock:
            self._failures.pop(("account", account.casefold()), None)
            self._failures.pop(("address", address), None)

    def locked(self) -> list[dict]:
        """Accounts and addresses refused now: what, who, failures and until when (UTC)."""
        with self._lock:
            now, wall = self.clock(), datetime.now(timezone.utc)
            out = []
            for (what, who), times in self._failures.items():
                wait = self._wait(self._recent((what, who), now), now)
                if wait:
                    out.append({"what": what, "who": who, "failures": len(times),
                                "until": wall + timedelta(seconds=wait)})
            return sorted(out, key=lambda row: (row["what"], row["who"]))

    def _forget_stale(self, now: float) -> None:
        if len(self._failures) <= KEYS_KEPT:
            return
        for key in [k for k, times in self._failures.items() if not self._recent(k, now)]:
            del self._failures[key]
        while len(self._failures) > KEYS_KEPT:  # the least recently failed go first
            del self._failures[min(self._failures, key=lambda k: self._failures[k][-1])]
