"""The kiosk's clock for records: the time it believes, and whether to trust it.

A Pi without a real-time clock may boot with a wrong time. A record carries
the time, whether it was trusted (the system clock synced by systemd's
time-sync, or corrected by the central store's clock at a sync during this
boot), the boot id and a monotonic reading. An untrusted time is never
earlier than the last trusted time the kiosk saw (kept on disk).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kiosk import store

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

    def __init__(self, db, timesync_flag: Path = TIMESYNC_FLAG):
        self.db = db
        self.flag = timesync_flag
        self.boot = boot_id()

    def _central_offset(self) -> float | None:
        # The sync process stores the central store's clock offset and the
        # boot it was measured in; it holds only for that boot.
        if store.get_meta(self.db, "central_offset_boot") != self.boot:
            return None
        value = store.get_meta(self.db, "central_offset")
        return float(value) if value is not None else None

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

    def stamp(self, now: datetime) -> dict:
        """What a record carries: `at`, `trusted`, `boot_id`, `monotonic`."""
        return floor_stamp(self.db, now, self.trusted, self.boot, time.monotonic())


class ScriptClock:
    """The scripted kiosk's clock: set by `at`, moved on by `wait`; trusted."""

    def __init__(self, db, start: datetime | None = None):
        self.db = db
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

    def stamp(self, now: datetime) -> dict:
        return floor_stamp(self.db, now, self.trusted, self.boot, self.mono)


def floor_stamp(db, now: datetime, trusted: bool, boot: str, monotonic: float) -> dict:
    """A record's stamp; an untrusted time is raised to the last trusted one."""
    at = now.astimezone(timezone.utc)
    if not trusted:
        last = store.last_trusted_at(db)
        if last and datetime.fromisoformat(last) > at:
            at = datetime.fromisoformat(last)
    return {"at": at.isoformat(timespec="milliseconds"), "trusted": trusted, "boot_id": boot,
            "monotonic": round(monotonic, 3)}
