"""The kiosk's main loop: one loop owns the logic and the screen.

Hardware threads (the reader's poll, gpiozero's pin callbacks) only post to a
queue; the loop takes from it, from pygame's events (touch, keyboard, the USB
barcode scanner) and from the clock, hands each to `kiosk.app.Kiosk`, and
draws what changed. It sleeps in `pygame.event.wait` until the next input or
the next quarter second, so it costs almost nothing at idle. It tells
systemd it is ready once the first screen is up and pings the watchdog from
the loop itself, so a hung loop is restarted.

It is a kiosk, not a desktop program: no key, window button or gesture ends
it. Only a librarian's "exit for maintenance" (logged by the state machine)
and SIGTERM (systemd stopping it) do.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from kiosk import sdnotify, store
from kiosk.config import Config

log = logging.getLogger("kiosk.run")

TICK_MS = 250
MAINTENANCE_EXIT = 64  # kiosk.service: RestartPreventExitStatus=64, so maintenance is not restarted
SCAN_KEYS_SECONDS = 0.5  # a scanner types a whole code well within this; a person does not


@dataclass
class DemoKeys:
    """The demo's keyboard stand-ins for taps, with the legend shown on screen."""

    taps: dict[str, str] = field(default_factory=lambda: {
        "m": "04A1B2C3",  # Mia's card
        "b": "0A0B0C0D",  # Ben's card
        "z": "2C3D4E5F",  # Zoe's card (stopped)
        "v": "5F607182",  # Sam, a volunteer
        "l": "60718293",  # Mrs Wu, the librarian
        "c": "04112233445566",  # Charlotte's Web
        "t": "04223344556677",  # Matilda
        "h": "04334455667788",  # The Hobbit
        "r": "04BBCCDDEEFF00",  # a book in repair
        "f": "0499AABBCCDDEE",  # a cabinet's book
        "u": "04DEADBEEF0001",  # a tag nobody knows
    })
    legend: tuple[tuple[str, str], ...] = (
        ("M", "Mia"), ("B", "Ben"), ("Z", "Zoe"), ("V", "volunteer"), ("L", "librarian"), ("C", "Charlotte"),
        ("T", "Matilda"), ("H", "Hobbit"), ("R", "repair"), ("F", "cabinet book"), ("U", "unknown"),
    )


class WakingQueue(queue.Queue):
    """A queue whose `put` also wakes the pygame loop (SDL's event queue is thread-safe)."""

    def __init__(self, wake: Callable[[], None]):
        super().__init__()
        self.wake = wake

    def put(self, item, block=True, timeout=None):
        super().put(item, block, timeout)
        self.wake()


class MainLoop:
    """The kiosk's loop over `kiosk` (a `Kiosk`), `screen`, the devices' queue and pygame's events."""

    def __init__(self, kiosk, screen, inputs: queue.Queue, *, demo: Optional[DemoKeys] = None,
                 clock=None, on_draw: Callable[[list], None] = lambda rects: None):
        import pygame

        self.pygame = pygame
        self.kiosk, self.screen, self.inputs = kiosk, screen, inputs
        self.demo = demo
        self.clock = clock or kiosk.clock
        self.on_draw = on_draw
        self.scanned = ""
        self.scanned_at = 0.0
        self.exit_status: Optional[int] = None
        self.ready = False
        self.watchdog_every = sdnotify.watchdog_interval()
        self.watchdog_at = 0.0
        self.ignored: list[str] = []  # what tried to close the kiosk, for the log and the tests

    # ------------------------------------------------------------ input

    def hardware(self, item: tuple) -> None:
        kind = item[0]
        if kind == "tag":
            self.kiosk.tap(item[1])
        elif kind == "reader_fault":
            self.kiosk.reader_fault(item[1] if len(item) > 1 else "")
            store.set_meta(self.kiosk.db, reader_ok=0)  # for the kiosk health page, via the sync process
        elif kind == "reader_ok":
            self.kiosk.reader_ok()
            store.set_meta(self.kiosk.db, reader_ok=1)
        elif kind == "button":
            self.kiosk.press(item[1])
        elif kind == "door":
            self.kiosk.door(bool(item[1]))

    def event(self, event) -> None:
        pg = self.pygame
        if event.type == pg.QUIT:
            self.ignored.append("window close")  # the window manager's close or Alt+F4
            log.info("ignored a request to close the window: this is a kiosk")
        elif event.type == pg.KEYDOWN:
            self.key(event)
        elif event.type == pg.MOUSEBUTTONDOWN and event.button == 1:
            self.touch(event.pos)
        elif event.type == pg.FINGERDOWN:
            width, height = self.screen.surface.get_size()
            self.touch((int(event.x * width), int(event.y * height)))

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
        if self.demo is not None and char.lower() in self.demo.taps:
            self.kiosk.tap(self.demo.taps[char.lower()])

    def touch(self, pos) -> None:
        button = self.screen.hit(pos)
        if button is not None:
            self.kiosk.press(button)

    # ------------------------------------------------------------ the loop

    def step(self, wait_ms: int = TICK_MS) -> None:
        """One turn: wait for input or the tick, handle everything waiting, tick, draw, ping."""
        pg = self.pygame
        first = pg.event.wait(wait_ms) if wait_ms else pg.event.poll()
        events = ([first] if first.type != pg.NOEVENT else []) + pg.event.get()
        while True:
            try:
                item = self.inputs.get_nowait()
            except queue.Empty:
                break
            self.hardware(item)
        for event in events:
            self.event(event)
        self.kiosk.tick()
        rects = self.screen.draw(self.clock.now())
        if rects:
            self.on_draw(rects)
        if not self.ready:
            self.ready = True
            sdnotify.ready()
            sdnotify.status(f"kiosk {self.kiosk.kiosk_id}: showing {self.kiosk.view.screen}")
        if self.watchdog_every is not None and time.monotonic() - self.watchdog_at >= self.watchdog_every:
            self.watchdog_at = time.monotonic()
            sdnotify.watchdog()

    def run(self) -> int:
        """Until a maintenance exit or `stop()`; returns the exit status."""
        while self.exit_status is None:
            self.step()
        return self.exit_status

    def stop(self, status: int = 0) -> None:
        self.exit_status = status
        self.wake()

    def wake(self) -> None:
        pg = self.pygame
        if pg.display.get_init():
            pg.event.post(pg.event.Event(pg.USEREVENT))


def start_sync_once(db_path: str, config_path: Optional[str]) -> Optional[subprocess.Popen]:
    """The staff screen's "sync now": one `kiosk sync --once` beside the sync service, never waited on."""
    command = [sys.executable, "-m", "kiosk.cli", "sync", "--once", "--db", db_path]
    if config_path:
        command += ["--config", config_path]
    try:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
    except OSError as exc:
        log.warning("sync now: %s", exc)
        return None


def run(config: Config, db_path: str, *, config_path: Optional[str] = None, window: bool = False,
        demo: bool = False) -> int:
    """Open the screen and the devices and run the kiosk until maintenance or SIGTERM."""
    import pygame

    import hardware
    from kiosk.app import Kiosk
    from kiosk.clock import SystemClock
    from kiosk.screen import Screen, find_cjk_font, translator

    font = find_cjk_font(config.screen.font)  # before anything opens: a clear message, nothing half-started
    db = store.init_db(db_path)
    pygame.display.init()
    pygame.font.init()
    size = (config.screen.width, config.screen.height)
    if config.screen.fullscreen and not window:
        display = pygame.display.set_mode(size, pygame.FULLSCREEN | pygame.NOFRAME)
        pygame.mouse.set_visible(False)
    else:
        display = pygame.display.set_mode(size)
    pygame.display.set_caption(config.kiosk.name)
    keys = DemoKeys() if demo else None
    screen = Screen(display, translator, font_path=font, legend=keys.legend if keys else ())
    loop_box: list[MainLoop] = []
    inputs = WakingQueue(lambda: loop_box and loop_box[0].wake())
    hw = config.hardware
    devices = hardware.build(hw.driver, hw.pins, spi_bus=hw.spi_bus, spi_device=hw.spi_device,
                             has_lock=hw.has_lock, active_high_lock=hw.active_high_lock)
    devices.post_to(inputs)
    syncs: list[subprocess.Popen] = []

    def sync_now():
        if config.central.url:
            process = start_sync_once(db_path, config_path)
            if process is not None:
                syncs.append(process)

    kiosk = Kiosk(db, config, SystemClock(db), lights=devices.lights, sounder=devices.sounder, lock=devices.lock,
                  screen=screen, translate=translator, on_sync=sync_now,
                  on_exit=lambda: loop_box[0].stop(MAINTENANCE_EXIT))
    loop = MainLoop(kiosk, screen, inputs, demo=keys, on_draw=pygame.display.update)
    loop_box.append(loop)
    signal.signal(signal.SIGTERM, lambda *_: loop.stop(0))
    if not window:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    devices.start()
    try:
        status = loop.run()
    finally:
        sdnotify.stopping()
        devices.close()  # the lock ends locked
        for process in syncs:
            if process.poll() is None:
                process.terminate()
        pygame.display.quit()
    log.info("kiosk stopped (%s)", "maintenance" if status == MAINTENANCE_EXIT else "stopped")
    return status


def display_available() -> tuple[bool, str]:
    """Whether a window can open here, and if not, why (for the demo's fallback)."""
    if os.environ.get("SDL_VIDEODRIVER") in ("dummy", "offscreen"):
        return False, f"SDL_VIDEODRIVER={os.environ['SDL_VIDEODRIVER']} draws nowhere"
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
        return False, "there is no display here (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    import pygame

    try:
        pygame.display.init()
    except pygame.error as exc:
        return False, f"the display cannot be opened ({exc})"
    finally:
        pygame.display.quit()
    return True, ""
