"""The kiosk's main loop: one loop owns the logic and the screen.

Hardware threads (the reader's poll, gpiozero's pin callbacks) only post to a
queue; the loop takes from it, from pygame's events (touch, keyboard, the USB
barcode scanner) and from the clock, hands each to `kiosk.app.Kiosk`, and
draws what changed. It tells systemd it is ready once the first screen is up
and pings the watchdog from the loop itself, so a hung loop is restarted.

Waiting costs almost nothing: the loop blocks on the devices' queue (a tap
wakes it at once) and looks at SDL's events 30 times a second, because SDL's
own timed wait polls every millisecond on the console and dummy drivers. The
machine's clock and the screen's clock are served four times a second.

It is a kiosk, not a desktop program: no key, window button or gesture ends
it. Only a librarian's "exit for maintenance" (logged by the state machine)
and SIGTERM (systemd stopping it) do. Nor does a storage fault end it (a
crash loop under systemd, with "Borrowed" left on the screen): the kiosk
shows its out-of-order screen, from the start if the database cannot be
opened, and comes back by itself (`kiosk.outoforder`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import sqlite3
import time
from typing import Callable, Optional

from kiosk import sdnotify, store
from kiosk.config import Config, ScreenSection
from kiosk.demo.keys import DemoKeys
from kiosk.domain.errors import KioskError
from kiosk.domain import find
from kiosk.startup import HEADLESS_DRIVERS, kiosk_on, start_video

log = logging.getLogger("kiosk.run")

POLL_MS = 33  # SDL's events (touch, keys) are looked at this often: within a frame at 30 frames a second
TICK_SECONDS = 0.25  # the machine's timers and the screen's clock, when no input came
MAINTENANCE_EXIT = 64  # kiosk.service: RestartPreventExitStatus=64, so maintenance is not restarted
MISSING_HARDWARE_EXIT = 69
SCAN_KEYS_SECONDS = 0.5  # a scanner types a whole code well within this; a person does not


class MissingHardware(KioskError):
    """The display or the GPIO chip is not there: one line saying which, for the journal and `kiosk status`."""


class MainLoop:
    """The kiosk's loop over `kiosk` (a `Kiosk`), `screen`, the devices' queue and pygame's events.

    `timer` gives the seconds that decide when the next tick is due (a
    scripted clock's in tests); the watchdog always goes by the real clock.
    """

    def __init__(self, kiosk, screen, inputs: queue.Queue, *, demo: Optional[DemoKeys] = None,
                 on_draw: Callable[[list], None] = lambda rects: None,
                 timer: Callable[[], float] = time.monotonic):
        import pygame

        self.pygame = pygame
        self.kiosk, self.screen, self.inputs = kiosk, screen, inputs
        self.demo = demo
        self.on_draw = on_draw
        self.timer = timer
        self.scanned = ""
        self.scanned_at = 0.0
        self.exit_status: Optional[int] = None
        self.ready = False
        self.watchdog_every = sdnotify.watchdog_interval()
        self.watchdog_at = 0.0
        self.ticked_at = float("-inf")
        self.status_said = ""
        self.ignored: list[str] = []  # what tried to close the kiosk, for the log and the tests

    # ------------------------------------------------------------ input

    def hardware(self, item: tuple) -> None:
        kind = item[0]
        if kind == "tag":
            self.kiosk.tap(item[1])
        elif kind == "reader_fault":
            self.kiosk.reader_fault(item[1] if len(item) > 1 else "")
            self.note(reader_ok=0)  # for the kiosk health page, via the sync process
        elif kind == "reader_ok":
            self.kiosk.reader_ok()
            self.note(reader_ok=1)
        elif kind == "button":
            self.kiosk.press(item[1])
        elif kind == "door":
            self.kiosk.door(bool(item[1]))

    def note(self, **facts) -> None:
        """Facts for the sync process, in the database; a failing database is the out-of-order screen's matter."""
        if self.kiosk.db is None or self.kiosk.fault is not None:
            return
        try:
            store.set_meta(self.kiosk.db, **facts)
        except sqlite3.Error as exc:
            log.warning("could not note %s: %s", ", ".join(facts), exc)

    def event(self, event) -> None:
        pg = self.pygame
        if event.type == pg.QUIT:
            self.ignored.append("window close")  # the window manager's close or Alt+F4
            log.info("ignored a request to close the window: this is a kiosk")
        elif event.type == pg.KEYDOWN:
            self.key(event)
        elif event.type == pg.MOUSEBUTTONDOWN and event.button == 1:
            # A finger on a touch screen comes as FINGERDOWN and as this click SDL makes of it: one press.
            self.touch(event.pos)
        elif event.type == pg.WINDOWEXPOSED and pg.display.get_surface() is not None:
            pg.display.flip()  # a desktop window uncovered: show the frame already drawn

    def key(self, event) -> None:
        pg = self.pygame
        if event.key == pg.K_ESCAPE or (event.key == pg.K_F4 and event.mod & pg.KMOD_ALT) or \
                (event.key == pg.K_c and event.mod & pg.KMOD_CTRL) or (event.key == pg.K_q and event.mod & pg.KMOD_CTRL):
            self.ignored.append(pg.key.name(event.key))
            return
        now = time.monotonic()
        if event.key in (pg.K_RETURN, pg.K_KP_ENTER):
            code, self.scanned = self.scanned, ""
            if code:
                self.kiosk.scan(code)
            return
        char = event.unicode or ""
        if char.isdigit():
            # A USB barcode scanner is a keyboard: digits, then Enter.
            if now - self.scanned_at > SCAN_KEYS_SECONDS:
                self.scanned = ""
            self.scanned += char
            self.scanned_at = now
            return
        if self.kiosk.view.screen == "find" and (char.isalpha() or char == " " or event.key == pg.K_BACKSPACE):
            self.kiosk.type(find.BACKSPACE if event.key == pg.K_BACKSPACE else char)  # a keyboard types too
            return
        if self.demo is not None and char.lower() in self.demo.taps:
            self.kiosk.tap(self.demo.taps[char.lower()])

    def touch(self, pos) -> None:
        target = self.screen.hit(pos)
        if target is None:
            return
        if target.startswith("key:"):  # a key of Find a book's keyboard
            key = target[4:]
            self.kiosk.type({"backspace": find.BACKSPACE, "space": " "}.get(key, key))
        else:
            self.kiosk.press(target)

    # ------------------------------------------------------------ the loop

    def step(self, wait_ms: int = POLL_MS) -> None:
        """One turn: wait up to `wait_ms` for a device, handle all input waiting, then tick, draw and ping."""
        pg = self.pygame
        items = []
        try:
            items.append(self.inputs.get(timeout=wait_ms / 1000) if wait_ms else self.inputs.get_nowait())
            while True:
                items.append(self.inputs.get_nowait())
        except queue.Empty:
            pass
        events = pg.event.get()
        for item in items:
            self.hardware(item)
        for event in events:
            self.event(event)
        if items or events or self.timer() - self.ticked_at >= TICK_SECONDS:
            self.ticked_at = self.timer()
            self.kiosk.tick()
            rects = self.screen.draw(self.kiosk.now())
            if rects:
                self.on_draw(rects)
            if not self.ready:
                self.ready = True
                sdnotify.ready()
            said = self.status_line()
            if said != self.status_said:
                self.status_said = said
                sdnotify.status(said)
        now = time.monotonic()
        if self.watchdog_every is not None and now - self.watchdog_at >= self.watchdog_every:
            self.watchdog_at = now
            sdnotify.watchdog()

    def status_line(self) -> str:
        """What `systemctl status kiosk` shows: the screen up now, never a patron's name."""
        screen = self.kiosk.view.screen
        if self.kiosk.fault is not None:
            what = f"out of order, cannot save: {self.kiosk.fault}"
        elif screen == "fault":
            what = "reader not working, showing the fault screen"
        else:
            what = f"showing {screen}"
        return f"kiosk {self.kiosk.kiosk_id}: {what}"

    def run(self) -> int:
        """Until a maintenance exit or `stop()`; returns the exit status."""
        while self.exit_status is None:
            self.step()
        return self.exit_status

    def stop(self, status: int = 0) -> None:
        """End the loop after this turn with `status` (safe from a signal handler)."""
        self.exit_status = status


def open_display(screen: ScreenSection, window: bool):
    """The kiosk's surface: full screen, frameless, no pointer; or a window (`--window`, or fullscreen off).

    Full screen takes the display's own size where it differs from the
    configured one; the screen lays itself out for the surface it gets.
    """
    import pygame

    size = (screen.width, screen.height)
    if screen.fullscreen and not window:
        surface = pygame.display.set_mode(size, pygame.FULLSCREEN | pygame.NOFRAME)
        pygame.mouse.set_visible(False)
    else:
        surface = pygame.display.set_mode(size)
    return surface


def run(config: Config, db_path: str, *, config_path: Optional[str] = None, window: bool = False,
        demo: bool = False) -> int:
    """Open the screen and the devices and run the kiosk until maintenance or SIGTERM.

    Returns 0 after SIGTERM (and, with `window`, SIGINT) and `MAINTENANCE_EXIT`
    after a librarian's exit; raises `MissingHardware` when there is no display
    or no GPIO chip (also kept in the database for `kiosk status`). Whatever
    was opened is closed either way, so the lock ends locked. The signal
    handlers go in first: once SDL's video is up, SDL would otherwise turn a
    SIGTERM into a window-close event, which a kiosk ignores.
    """
    import pygame

    import hardware
    from hardware.base import HardwareError
    from kiosk.screen import Screen, find_cjk_font, translator

    loop_box: list[MainLoop] = []
    asked: list[int] = []  # a stop that came before the loop was made

    def stop(status: int) -> None:
        if loop_box:
            loop_box[0].stop(status)
        else:
            asked.append(status)

    with contextlib.ExitStack() as opened:
        for sig, handler in ((signal.SIGTERM, signal.getsignal(signal.SIGTERM)),
                             (signal.SIGINT, signal.getsignal(signal.SIGINT))):
            opened.callback(signal.signal, sig, handler)
        signal.signal(signal.SIGTERM, lambda *_: stop(0))
        # Full screen, Ctrl+C reaches the loop as a key (ignored); a terminal's SIGINT is a developer's.
        signal.signal(signal.SIGINT, (lambda *_: stop(0)) if window else signal.SIG_IGN)
        font = find_cjk_font(config.screen.font)  # before anything opens: a clear message, nothing half-started
        try:
            start_video(window)
        except KioskError as exc:
            raise missing_hardware(db_path, f"no display: {exc}") from None
        opened.callback(pygame.display.quit)
        pygame.font.init()
        display = open_display(config.screen, window)
        pygame.display.set_caption(config.kiosk.name)
        keys = DemoKeys() if demo else None
        screen = Screen(display, translator, font_path=font, legend=keys.legend if keys else (),
                        reader=config.screen.reader)
        inputs: queue.Queue = queue.Queue()
        hw = config.hardware
        try:
            devices = hardware.build(hw.driver, hw.pins, spi_bus=hw.spi_bus, spi_device=hw.spi_device,
                                     has_lock=hw.has_lock, active_high_lock=hw.active_high_lock)
        except HardwareError as exc:
            raise missing_hardware(db_path, str(exc)) from None
        opened.callback(devices.close)  # the lock ends locked
        devices.post_to(inputs)
        kiosk = kiosk_on(config, db_path, devices, screen, translator, on_exit=lambda: stop(MAINTENANCE_EXIT))
        if kiosk.db is not None:
            store.set_meta(kiosk.db, start_error=None)  # this start found its screen and devices
        opened.callback(lambda: kiosk.db is not None and kiosk.db.conn.close())
        loop = MainLoop(kiosk, screen, inputs, demo=keys, on_draw=pygame.display.update)
        loop_box.append(loop)
        if asked:
            loop.stop(asked[0])
        opened.callback(sdnotify.stopping)
        devices.start()
        status = loop.run()
    said = "exit for maintenance" if status == MAINTENANCE_EXIT else "stopped"
    sdnotify.status(f"kiosk {kiosk.kiosk_id}: {said}")
    log.info("kiosk %s: %s", kiosk.kiosk_id, said)
    return status


def missing_hardware(db_path: str, what: str) -> MissingHardware:
    """Keep `what` for `kiosk status` and `systemctl status kiosk`, and return the error to raise."""
    with contextlib.suppress(KioskError, sqlite3.Error, OSError):
        db = store.open_db(db_path)
        store.set_meta(db, start_error=what)
        db.conn.close()
    sdnotify.status(f"kiosk: out of order: {what}")
    return MissingHardware(what)


def display_available() -> tuple[bool, str]:
    """Whether a window can open here, and if not, why (for the demo's fallback).

    A display is there when SDL's video starts on a driver that draws onto a
    screen: X11 or Wayland (DISPLAY, WAYLAND_DISPLAY), or straight to the
    console (kmsdrm on a Pi without a desktop). SDL's in-memory drivers do
    not count.
    """
    asked = os.environ.get("SDL_VIDEODRIVER", "")
    if asked in HEADLESS_DRIVERS:
        return False, f"SDL_VIDEODRIVER={asked} draws nowhere"
    import pygame

    try:
        pygame.display.init()
        driver, error = pygame.display.get_driver(), ""
    except pygame.error as exc:
        driver, error = "", str(exc)
    finally:
        pygame.display.quit()
    desktop = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    if driver and driver not in HEADLESS_DRIVERS:
        return True, ""
    if not desktop:
        found = f"SDL found only its {driver} driver" if driver else f"SDL found no screen: {error}"
        return False, f"there is no display here (neither DISPLAY nor WAYLAND_DISPLAY is set, and {found})"
    return False, f"the display cannot be opened ({error or driver})"
