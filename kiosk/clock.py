"""The kiosk's clock for records: the time it believes, and whether to trust it.

A Pi without a real-time clock may boot with a wrong time. A record carries
the time, whether it was trusted (the system clock synced by systemd's
time-sync, or corrected by the central store's clock at a sync during this
boot), the boot id and a monotonic reading. An untrusted time is never
earlier than the last trusted time the kiosk saw: the caller hands that time
to `stamp` (the clock reads no database).
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

    def stamp(self, now: datetime, last_trusted: Optional[str] = None) -> dict:
        """What a record carries: `at`, `trusted`, `boot_id`, `monotonic`; never before `last_trusted` if untrusted."""
        return floor_stamp(now, self.trusted, self.boot, time.monotonic(), last_trusted)


class ScriptClock:
    """The scripted kiosk's clock: set by `at`, moved on by `wait`; trusted."""

    def __init__(self, start: datetime | None = None):
        self.current = start or datetime.now(timezone.utc).replace(microsecond=0)
        self.boot = boot_id()
        self.mono = 0.0
        self.trusted = True

    def now(self) -> datetime:
        return self.current

    def set(self, when: datetime) -> None:
        # Kept in the script's own time zone: the library's day is local.
        self.current = when

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
