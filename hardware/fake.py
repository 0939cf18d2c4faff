"""Fake drivers: complete stand-ins that record what they were told.

Like gpiozero's mock pins, they have test hooks (`FakeReader.tap`,
`FakeButtons.press`, `FakeDoor.set_open`) and a record of every order
(`history`), so tests and the scripted kiosk can assert on them.
"""

from __future__ import annotations

import threading

from hardware.base import LIGHT_PATTERNS, SOUNDS, Buttons, DoorSwitch, Lights, Lock, Reader, Sounder


class FakeReader(Reader):
    """A reader whose taps come from `tap(uid)`; `fail()` and `recover()`."""

    def __init__(self):
        self.history: list[tuple[str, str]] = []

    def tap(self, uid: str) -> None:
        self.history.append(("tap", uid))
        if self.healthy:
            self._tag(uid)

    def fail(self, detail: str = "reader not answering") -> None:
        self.history.append(("fail", detail))
        if self.healthy:
            self._fault(detail)

    def recover(self) -> None:
        self.history.append(("ok", ""))
        if not self.healthy:
            self._ok()


class FakeLights(Lights):
    def __init__(self):
        self.history: list[str] = []

    @property
    def pattern(self) -> str:
        return self.history[-1] if self.history else "off"

    def show(self, pattern: str) -> None:
        if pattern not in LIGHT_PATTERNS:
            raise ValueError(f"unknown light pattern {pattern!r}")
        self.history.append(pattern)


class FakeSounder(Sounder):
    def __init__(self):
        self.history: list[str] = []

    def play(self, name: str) -> None:
        if name not in SOUNDS:
            raise ValueError(f"unknown sound {name!r}")
        self.history.append(name)


class FakeLock(Lock):
    """Records openings; `is_open` until `elapse()` or `close()`.

    With `auto_close`, the opening time really runs out (a timer calls
    `elapse()`), as a person watching `kiosk hw-test` would expect.
    """

    def __init__(self, auto_close: bool = False):
        self.history: list[tuple[str, float]] = []
        self._open = False
        self.auto_close = auto_close
        self._timer: threading.Timer | None = None

    def open_for(self, seconds: float) -> None:
        self.history.append(("open", seconds))
        self._open = True
        if self.auto_close:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(seconds, self.elapse)
            self._timer.daemon = True
            self._timer.start()

    def elapse(self) -> None:
        """The opening time ran out."""
        if self._open:
            self.history.append(("close", 0.0))
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.elapse()
        super().close()


class FakeButtons(Buttons):
    def press(self, name: str) -> None:
        self._pressed(name)


class FakeDoor(DoorSwitch):
    def __init__(self):
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def set_open(self, is_open: bool) -> None:
        if is_open != self._open:
            self._open = is_open
            self._changed(is_open)
