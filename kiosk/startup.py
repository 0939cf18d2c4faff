"""What `kiosk run` opens before its loop: SDL's video, the database, the kiosk itself; and "sync now".

A display that is not there is one line, never a traceback. A database
that cannot be used now (damaged, read-only, missing where one was made,
older than the kiosk's log) is not: the kiosk starts out of order and
retries, so systemd does not restart it in a loop and the student sees the
out-of-order screen instead of a blank one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from typing import Callable, Optional

from kiosk import store
from kiosk.config import Config
from kiosk.domain.errors import KioskError

log = logging.getLogger("kiosk.run")

HEADLESS_DRIVERS = ("dummy", "offscreen")  # SDL drivers that draw into memory, never onto a screen


class WakeSync:
    """The staff screen's "sync now": SIGUSR1 to the sync process of this database, never a second process.

    The sync process is found by the lock it holds beside the database
    (`sync.lock`); it ends its wait and syncs at once.
    """

    def __init__(self, db_path, central_url: str):
        self.db_path = db_path
        self.central_url = central_url

    def __call__(self) -> Optional[int]:
        """Ask for a sync; the sync process's pid, or None when none could be asked."""
        from sync.lock import ask_sync_now

        if not self.central_url:
            log.info("sync now: no central store in the config ([central] url)")
            return None
        try:
            pid = ask_sync_now(self.db_path)
        except OSError as exc:
            log.warning("sync now: the sync process could not be asked: %s", exc.strerror)
            return None
        if pid is None:
            log.warning("sync now: no sync process runs for %s (is kiosk-sync.service running?)", self.db_path)
        else:
            log.info("sync now: asked the sync process (pid %d)", pid)
        return pid


def start_video(window: bool) -> None:
    """SDL's video on a screen, or one line saying why there is none.

    SDL falls back to drawing into memory when it finds no screen; a kiosk
    that did so would run with nothing to see. Only SDL_VIDEODRIVER set to
    such a driver on purpose (tests, benchmarks) runs without a screen.
    """
    import pygame

    asked = os.environ.get("SDL_VIDEODRIVER", "")
    try:
        pygame.display.init()
    except pygame.error as exc:
        raise KioskError(f"the display cannot be opened ({'SDL_VIDEODRIVER=' + asked + ': ' if asked else ''}"
                         f"{exc})") from None
    driver = pygame.display.get_driver()
    if driver in HEADLESS_DRIVERS and asked not in HEADLESS_DRIVERS:
        pygame.display.quit()
        how = "run it on a desktop with --window" if not window else "run it where DISPLAY or WAYLAND_DISPLAY is set"
        raise KioskError(f"there is no display here (SDL found only its {driver} driver): {how}, or on a Pi's "
                         "own screen with SDL_VIDEODRIVER=kmsdrm")


def open_kiosk_db(db_path):
    """The database for `kiosk run`, and None with the reason when it cannot be used now (the kiosk starts
    out of order and retries)."""
    try:
        db = store.open_db(db_path, writable=True)
    except KioskError as exc:
        return None, str(exc)
    try:
        store.check_not_behind(db, db_path)
    except KioskError as exc:
        db.conn.close()
        return None, str(exc)
    return db, None


def kiosk_on(config: Config, db_path, devices, screen, translate, on_exit: Callable[[], None]):
    """The `Kiosk` of `kiosk run` over its database, or out of order when that cannot be opened now.

    It reopens the database when it retries after a storage fault, and each
    fault or recovery wakes the sync process, which tells the kiosk health
    page.
    """
    from kiosk.app import Kiosk
    from kiosk.clock import SystemClock
    from sync.lock import ask_sync_now

    db, fault = open_kiosk_db(db_path)

    def reopen():
        fresh, why = open_kiosk_db(db_path)
        if fresh is None:
            raise KioskError(why)
        return fresh

    def storage(_fault: Optional[str]) -> None:
        with contextlib.suppress(OSError):
            ask_sync_now(db_path)

    made: list = []  # the kiosk, once made: it may have reopened its database since

    def central_offset():
        current = made[0].db if made else db
        try:
            return store.central_offset(current) if current is not None else (None, None)
        except sqlite3.Error:
            return None, None

    kiosk = Kiosk(db, config, SystemClock(central_offset), lights=devices.lights, sounder=devices.sounder,
                  lock=devices.lock, screen=screen, translate=translate, on_sync=WakeSync(db_path, config.central.url),
                  on_exit=on_exit, reopen=reopen, on_storage=storage, fault=fault)
    made.append(kiosk)
    return kiosk
