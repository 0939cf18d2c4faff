"""Real drivers for the LEDs, buzzer, lock relay, buttons and door switch.

Built on gpiozero, so this module imports no hardware library itself. Every
device takes a `pin_factory`: `hardware.build` passes gpiozero's lgpio
factory, asked for by name (`hardware.pins`), or a `MockFactory` in tests.

Inputs are debounced here rather than by the pin driver, so that every pin
driver (and the mock one, which ignores `bounce_time`) behaves the same: a
change counts only once the pin has held its new level for `debounce`
seconds.
"""

from __future__ import annotations

import threading
from typing import Callable, Mapping, Optional

from gpiozero import LED, Button, Buzzer, DigitalOutputDevice

from hardware.base import LIGHT_PATTERNS, SOUNDS, Buttons, DoorSwitch, Lights, Lock, Sounder

BLINK_SECONDS = 0.5  # fault: red on half a second, off half a second
BEEP_SECONDS = 0.1  # one short beep
DEBOUNCE_SECONDS = 0.05


class GpioLights(Lights):
    """Green and red LEDs: ok = green, error = red, fault = red blinking, off.

    A pattern stays until the next one; the kiosk turns the lights off when
    it goes back to idle.
    """

    def __init__(self, green_pin: int, red_pin: int, blink_seconds: float = BLINK_SECONDS, pin_factory=None):
        self.blink_seconds = blink_seconds
        self.green = LED(green_pin, pin_factory=pin_factory)
        self.red = LED(red_pin, pin_factory=pin_factory)
        self.pattern = "off"

    def show(self, pattern: str) -> None:
        """Switch to `pattern` at once, ending any blinking."""
        if pattern not in LIGHT_PATTERNS:
            raise ValueError(f"unknown light pattern {pattern!r}")
        self.pattern = pattern
        self.green.value = pattern == "ok"
        if pattern == "fault":
            self.red.blink(on_time=self.blink_seconds, off_time=self.blink_seconds)
        else:
            self.red.value = pattern == "error"

    def close(self) -> None:
        if not self.closed:
            self.green.close()
            self.red.close()
        super().close()


class GpioSounder(Sounder):
    """An active buzzer: ok = one short beep, error = two, librarian = one long beep. Never blocks."""

    def __init__(self, pin: int, beep_seconds: float = BEEP_SECONDS, pin_factory=None):
        self.beep_seconds = beep_seconds
        self.buzzer = Buzzer(pin, pin_factory=pin_factory)

    def play(self, name: str) -> None:
        """Start the sound in gpiozero's background thread and return."""
        if name not in SOUNDS:
            raise ValueError(f"unknown sound {name!r}")
        if name == "librarian":
            # "See the librarian" must not sound like "not now": one long tone.
            self.buzzer.beep(on_time=6 * self.beep_seconds, off_time=self.beep_seconds, n=1)
            return
        beeps = 1 if name == "ok" else 2
        self.buzzer.beep(on_time=self.beep_seconds, off_time=self.beep_seconds, n=beeps)

    def close(self) -> None:
        if not self.closed:
            self.buzzer.close()
        super().close()


class GpioLock(Lock):
    """The cabinet lock relay.

    The relay is driven closed (locked) as soon as the driver starts, so a
    crash while it was open leaves the cabinet locked after a restart.
    `open_for` opens it and a background timer always closes it again; a
    second opening while open restarts the time. `active_high=False` suits
    relay boards that switch on a low level.
    """

    def __init__(self, pin: int, active_high: bool = True, pin_factory=None):
        self.relay = DigitalOutputDevice(pin, active_high=active_high, initial_value=False,
                                         pin_factory=pin_factory)

    def open_for(self, seconds: float) -> None:
        """Open now; close again after `seconds`."""
        if seconds <= 0:
            raise ValueError(f"lock opening time must be positive, not {seconds!r}")
        self.relay.blink(on_time=seconds, off_time=0, n=1)

    @property
    def is_open(self) -> bool:
        return bool(self.relay.value)

    def close(self) -> None:
        """Lock (ending any opening) and release the pin."""
        if not self.closed:
            self.relay.off()
            self.relay.close()
        super().close()


class _Debounced:
    """Reports a level only after it held for `debounce` seconds."""

    def __init__(self, button: Button, debounce: float, report: Callable[[bool], None]):
        self.button, self.debounce, self.report = button, debounce, report
        self.level = button.is_pressed
        self._timer: Optional[threading.Timer] = None
        self._lock = threading.Lock()
        button.when_pressed = self._edge
        button.when_released = self._edge

    def _edge(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce, self._settled)
            self._timer.daemon = True
            self._timer.start()

    def _settled(self) -> None:
        with self._lock:
            self._timer = None
            level = self.button.is_pressed
            changed = level != self.level
            self.level = level
        if changed:
            self.report(level)

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
        self.button.close()


class GpioButtons(Buttons):
    """Push buttons between a pin and ground (internal pull-up), debounced.

    `pins` maps button names (done, help, lang) to BCM numbers.
    """

    def __init__(self, pins: Mapping[str, int], debounce: float = DEBOUNCE_SECONDS, pin_factory=None):
        self.inputs = {}
        for name, pin in pins.items():
            button = Button(pin, pull_up=True, pin_factory=pin_factory)
            self.inputs[name] = _Debounced(button, debounce, self._reporter(name))

    def _reporter(self, name: str) -> Callable[[bool], None]:
        def report(pressed: bool) -> None:
            if pressed:
                self._pressed(name)
        return report

    def close(self) -> None:
        if not self.closed:
            for debounced in self.inputs.values():
                debounced.close()
        super().close()


class GpioDoor(DoorSwitch):
    """A reed switch between a pin and ground: closed while the door is shut.

    A broken wire reads as an open door, which is the safe mistake.
    """

    def __init__(self, pin: int, debounce: float = DEBOUNCE_SECONDS, pin_factory=None):
        button = Button(pin, pull_up=True, pin_factory=pin_factory)
        self.input = _Debounced(button, debounce, lambda shut: self._changed(not shut))

    @property
    def is_open(self) -> bool:
        return not self.input.level

    def close(self) -> None:
        if not self.closed:
            self.input.close()
        super().close()
