"""`kiosk hw-test`: the wiring check a person runs after assembling a kiosk.

It blinks each LED, sounds the buzzer, asks for a card and prints its UID
and size, waits for each button, opens and closes the lock and, on a
cabinet, waits for the door to open and close. With `driver = "fake"` the
person's actions come from standard input, one per line (`tap UID`,
`press NAME`, `door open`, `door close`, `reader fail`, `reader ok`), so the
check can be scripted.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from typing import Callable, Iterable

import click

import hardware
from kiosk.config import load_config
from kiosk.domain.errors import ScriptError
from kiosk.domain.events import HARDWARE_BUTTONS
from kiosk.domain.view import BUTTON_LABELS
from kiosk.script import parse_line



class Check:
    """One run of the wiring check over `devices`, reporting through `out`."""

    def __init__(self, devices: hardware.Devices, out: Callable[[str], None], *, buttons: Iterable[str],
                 lock_seconds: float, wait: float = 30.0, pause: float = 1.0):
        self.devices, self.out = devices, out
        self.buttons, self.lock_seconds, self.wait, self.pause = list(buttons), lock_seconds, wait, pause
        self.inputs: queue.Queue = queue.Queue()
        self.failures: list[str] = []
        devices.post_to(self.inputs)

    def run(self) -> bool:
        """All steps in order; True when every one passed."""
        self.devices.start()
        self.lights()
        self.buzzer()
        self.card()
        for name in self.buttons:
            self.button(name)
        if self.devices.lock is not None:
            self.lock()
        if self.devices.door is not None:
            self.door()
        if self.failures:
            self.out(f"FAILED: {len(self.failures)} check(s): " + "; ".join(self.failures))
        else:
            self.out("All checks passed.")
        return not self.failures

    def fail(self, what: str) -> None:
        self.failures.append(what)
        self.out(f"  FAILED: {what}")

    def next_input(self, wanted: Callable[[tuple], bool], seconds: float):
        """The first input that `wanted` accepts within `seconds`; others are shown and skipped."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                item = self.inputs.get(timeout=left)
            except queue.Empty:
                return None
            if wanted(item):
                return item
            self.out(f"  (ignored: {' '.join(map(str, item))})")

    def lights(self) -> None:
        lights = self.devices.lights
        # Blinking is given two steps' time to show; a short dark gap between
        # patterns lets a person tell one from the next.
        for pattern, text, steps in (("ok", "Green LED on", 1), ("error", "Red LED on", 1),
                                     ("fault", "Red LED blinking", 2)):
            self.out(f"{text} for {self.pause * steps:g} s")
            lights.show(pattern)
            time.sleep(self.pause * steps)
            lights.show("off")
            time.sleep(self.pause / 2)

    def buzzer(self) -> None:
        self.out("Buzzer: one short beep")
        self.devices.sounder.play("ok")
        time.sleep(self.pause)
        self.out("Buzzer: two beeps")
        self.devices.sounder.play("error")
        time.sleep(self.pause)

    def card(self) -> None:
        self.out(f"Tap a card now (waiting {self.wait:g} s)")
        item = self.next_input(lambda i: i[0] in ("tag", "reader_fault"), self.wait)
        if item is None:
            self.fail(f"no card read within {self.wait:g} s")
        elif item[0] == "reader_fault":
            self.fail(f"reader not working: {item[1]}")
        else:
            uid = item[1]
            self.out(f"  card UID {uid} ({len(uid) // 2} bytes)")

    def button(self, name: str) -> None:
        label = BUTTON_LABELS.get(name, name)
        self.out(f"Press the {label} button (waiting {self.wait:g} s)")
        if self.next_input(lambda i: i == ("button", name), self.wait) is None:
            self.fail(f"{label} button not pressed within {self.wait:g} s")
        else:
            self.out(f"  {label} button pressed")

    def lock(self) -> None:
        lock = self.devices.lock
        self.out(f"Lock: opening for {self.lock_seconds:g} s")
        lock.open_for(self.lock_seconds)
        if not lock.is_open:
            self.fail("lock did not open")
            return
        deadline = time.monotonic() + self.lock_seconds + 2
        while lock.is_open and time.monotonic() < deadline:
            time.sleep(0.05)
        if lock.is_open:
            self.fail(f"lock still open {self.lock_seconds + 2:g} s later")
        else:
            self.out("  lock closed again")

    def door(self) -> None:
        for is_open, verb in ((True, "Open"), (False, "Close")):
            self.out(f"{verb} the cabinet door (waiting {self.wait:g} s)")
            if self.next_input(lambda i: i == ("door", is_open), self.wait) is None:
                self.fail(f"door switch did not report the door {'open' if is_open else 'closed'}")
                return
            self.out(f"  door {'open' if is_open else 'closed'}")


def drive_fakes(devices: hardware.Devices, lines: Iterable[str], out: Callable[[str], None]) -> None:
    """Act out a person's actions on fake devices, one line each, in the grammar of `kiosk simulate` scripts."""
    for number, raw in enumerate(lines, start=1):
        try:
            command = parse_line(number, raw.rstrip("\n"), "stdin")
        except ScriptError:
            command = None
            out(f"  (stdin line {number} not understood: {raw.strip()!r}; "
                "use tap UID, press NAME, door open|close, reader fail|ok)")
        if command is None:
            continue
        if command.verb == "tap":
            devices.reader.tap(command.arg)
        elif command.verb == "press":
            devices.buttons.press(command.arg)
        elif command.verb == "door" and devices.door is not None:
            devices.door.set_open(command.arg == "open")
        elif command.verb == "reader":
            devices.reader.fail() if command.arg == "fail" else devices.reader.recover()
        else:
            out(f"  (stdin line {number} not understood: {raw.strip()!r}; it is not a hardware action)")


@click.command(name="hw-test")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="The kiosk's config file (default: $KIOSK_CONFIG, else built-in defaults).")
@click.option("--wait", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Seconds to wait for each card, button press or door movement.")
@click.option("--pause", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Seconds each LED pattern and sound is given.")
def hw_test(config_path, wait, pause):
    """Check the wiring: LEDs, buzzer, a card on the reader, buttons, lock and door."""
    config = load_config(config_path)
    hw = config.hardware
    try:
        devices = hardware.build(hw.driver, hw.pins, spi_bus=hw.spi_bus, spi_device=hw.spi_device,
                                 has_lock=hw.has_lock, active_high_lock=hw.active_high_lock)
    except Exception as exc:  # gpiozero's pin-factory errors, a pin in use, a missing pin
        click.echo(f"kiosk: {config.path}: [hardware]: cannot open the {hw.driver} drivers: {exc}", err=True)
        sys.exit(1)
    if hw.driver == "fake" and devices.lock is not None:
        devices.lock.auto_close = True
    buttons = [name for name in HARDWARE_BUTTONS if hw.pins.get(f"button_{name}") is not None]
    check = Check(devices, click.echo, buttons=buttons, lock_seconds=hw.lock_seconds, wait=wait, pause=pause)
    click.echo(f"Wiring check of kiosk {config.kiosk.id} ({hw.driver} drivers, config {config.path})")
    if hw.driver == "fake":
        click.echo("Fake drivers: type the actions, one per line (tap UID, press NAME, door open|close)")
        threading.Thread(target=drive_fakes, args=(devices, sys.stdin, click.echo), daemon=True).start()
    try:
        passed = check.run()
    finally:
        devices.close()
    sys.exit(0 if passed else 1)
