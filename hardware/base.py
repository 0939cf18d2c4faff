"""The contracts every driver implements, real or fake.

Subclasses must implement the abstract methods. Callbacks (`when_*`) are
plain attributes set by the owner; a driver calls them from its own thread,
so an owner that needs one thread (the kiosk's main loop) posts what it gets
onto a queue. `close()` is safe to call twice; every device is a context
manager.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, Optional

LIGHT_PATTERNS = ("ok", "error", "fault", "off")
SOUNDS = ("ok", "error", "librarian")  # done, refused, see the librarian


class Device(ABC):
    """Common life cycle: start, close, context manager."""

    closed = False

    def start(self) -> None:
        """Begin working (threads, polling). Default: nothing to start."""

    def close(self) -> None:
        """Release the hardware. Safe to call more than once."""
        self.closed = True

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()


class Reader(Device):
    """A tag reader.

    Calls `when_tag(uid_hex)` once when a tag enters the field (upper-case
    hex, 8 or 14 digits), `when_fault(detail)` when the reader stops
    answering and `when_ok()` when it answers again. Must override `start`
    and `close`; `healthy` says whether the reader answers now.
    """

    when_tag: Optional[Callable[[str], None]] = None
    when_fault: Optional[Callable[[str], None]] = None
    when_ok: Optional[Callable[[], None]] = None
    healthy: bool = True

    def _tag(self, uid: str) -> None:
        if self.when_tag:
            self.when_tag(uid)

    def _fault(self, detail: str) -> None:
        self.healthy = False
        if self.when_fault:
            self.when_fault(detail)

    def _ok(self) -> None:
        self.healthy = True
        if self.when_ok:
            self.when_ok()


class Lights(Device):
    """The green and red LEDs. `show(pattern)`, pattern in LIGHT_PATTERNS."""

    @abstractmethod
    def show(self, pattern: str) -> None: ...


class Sounder(Device):
    """The buzzer. `play(name)`, name in SOUNDS. Must not block the caller."""

    @abstractmethod
    def play(self, name: str) -> None: ...


class Lock(Device):
    """The cabinet lock relay: closed at start, opens for a time, always closes."""

    @abstractmethod
    def open_for(self, seconds: float) -> None: ...

    @property
    @abstractmethod
    def is_open(self) -> bool: ...


class Buttons(Device):
    """Hardware buttons; calls `when_pressed(name)` (done, help, lang)."""

    when_pressed: Optional[Callable[[str], None]] = None

    def _pressed(self, name: str) -> None:
        if self.when_pressed:
            self.when_pressed(name)


class DoorSwitch(Device):
    """The cabinet door switch; calls `when_changed(is_open)`."""

    when_changed: Optional[Callable[[bool], None]] = None

    @property
    @abstractmethod
    def is_open(self) -> bool: ...

    def _changed(self, is_open: bool) -> None:
        if self.when_changed:
            self.when_changed(is_open)


class HardwareError(Exception):
    """Root of the errors raised by drivers."""


class ReaderError(HardwareError, IOError):
    """The reader or a tag did not answer as it must (no card, cut-off read, timeout)."""
