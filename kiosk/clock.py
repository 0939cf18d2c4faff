"""The kiosk's clock for records: the time it believes, and whether to trust it.

A Pi without a real-time clock may boot with a wrong time. A record carries
the time, whether it was trusted (the system clock synced by systemd's
time-sync, or corrected by the central store's clock at a sync during this
boot), the boot id and a monotonic reading. An untrusted time is never
earlier than the last trusted time the kiosk saw (its floor): the caller
hands that time in (the clock reads no database).

A clock that cannot be trusted and reads earlier than the floor (a Pi that
booted in 1970, or at fake-hwclock's last save) is not used as it reads:
`UntrustedSpell` runs the kiosk's time on from the floor by the monotonic
clock, so that due dates, overdue days and timeouts all go from there.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Optional

TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")
BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")


def boot_id() -> str:
    """This boot's id (changes at every reboot)."""
    try:
        return BOOT_ID_FILE.read_text().strip()
    except OSError:
        return "unknown"


def system_clock_synced(flag: Path = TIMESYNC_FLAG) -> bool:
    """Whether systemd-timesyncd has synchronized the system clock this boot."""
    return flag.exists()


class SystemClock:
    """Real time, corrected and trusted as described above."""

    def __init__(self, central_offset: Callable[[], tuple[Optional[float], Optional[str]]] = lambda: (None, None),
                 timesync_flag: Path = TIMESYNC_FLAG):
        self.read_offset = central_offset
        self.flag = timesync_flag
        self.boot = boot_id()

    def _central_offset(self) -> float | None:
        # The sync process measures the central store's clock offset and the
        # boot it was measured in; it holds only for that boot.
        offset, boot = self.read_offset()
        return offset if boot == self.boot else None

    def now(self) -> datetime:
        """The time the kiosk believes, aware, in the kiosk's local time zone."""
        now = datetime.now(timezone.utc).astimezone()
        if not system_clock_synced(self.flag):
            offset = self._central_offset()
            if offset is not None:
                now += timedelta(seconds=offset)
        return now

    @property
    def trusted(self) -> bool:
        return system_clock_synced(self.flag) or self._central_offset() is not None

    def monotonic(self) -> float:
        return time.monotonic()

    def stamp(self, now: datetime, last_trusted: Optional[str] = None) -> dict:
        """What a record carries: `at`, `trusted`, `boot_id`, `monotonic`; never before `last_trusted` if untrusted."""
        return floor_stamp(now, self.trusted, self.boot, time.monotonic(), last_trusted)


class ScriptClock:
    """The scripted kiosk's clock: set by `at` (trusted, or not with `at TIME untrusted`), moved on by `wait`."""

    def __init__(self, start: datetime | None = None):
        self.current = start or datetime.now(timezone.utc).replace(microsecond=0)
        self.boot = boot_id()
        self.mono = 0.0
        self.trusted = True

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.mono

    def set(self, when: datetime, trusted: bool = True) -> None:
        """Set the clock, as NTP would (trusted), or as a boot with no clock and no network would (untrusted)."""
        # Kept in the script's own time zone: the library's day is local.
        self.current = when
        self.trusted = trusted

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)
        self.mono += seconds

    def stamp(self, now: datetime, last_trusted: Optional[str] = None) -> dict:
        return floor_stamp(now, self.trusted, self.boot, self.mono, last_trusted)


def floor_stamp(now: datetime, trusted: bool, boot: str, monotonic: float, last: Optional[str]) -> dict:
    """A record's stamp; an untrusted time is raised to `last`, the last trusted one."""
    at = now.astimezone(timezone.utc)
    if not trusted:
        if last and datetime.fromisoformat(last) > at:
            at = datetime.fromisoformat(last)
    return {"at": at.isoformat(timespec="milliseconds"), "trusted": trusted, "boot_id": boot,
            "monotonic": round(monotonic, 3)}


JUMP_SECONDS = 2.0  # a wall clock that moved this much more or less than the monotonic one was set


class UntrustedSpell:
    """The kiosk's time while its clock cannot be trusted: never earlier than the floor, and running on.

    At the start of a spell (the clock is untrusted, or was set while
    untrusted) the time starts at the later of the wall clock and the floor;
    from there it goes by the monotonic clock. A trusted clock ends the spell
    and is used as it reads.
    """

    def __init__(self):
        self.anchor: Optional[tuple[datetime, float, datetime]] = None  # wall, monotonic, start of the spell

    def time(self, wall: datetime, monotonic: float, trusted: bool, floor: Callable[[], Optional[str]]) -> datetime:
        """The time to use, given the clock's reading and trust; `floor()` is asked once per spell."""
        if trusted:
            self.anchor = None
            return wall
        if self.anchor is not None:
            was_wall, was_mono, start = self.anchor
            if abs((wall - was_wall).total_seconds() - (monotonic - was_mono)) <= JUMP_SECONDS:
                return start + timedelta(seconds=monotonic - was_mono)
        last = floor()
        start = wall
        if last is not None and datetime.fromisoformat(last) > wall:
            start = datetime.fromisoformat(last).astimezone(wall.tzinfo)
        self.anchor = (wall, monotonic, start)
        return start
