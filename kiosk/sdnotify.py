"""Tell systemd how the kiosk is doing (the sd_notify protocol).

`kiosk.service` is `Type=notify` with `WatchdogSec`: systemd waits for
`ready()` before it counts the kiosk as started, and restarts it when the
main loop stops calling `watchdog()` in time. Each call sends one datagram
to the socket named by `$NOTIFY_SOCKET`; without that variable (run by hand,
in tests, in the demo) every call does nothing, so callers need no checks.

The protocol is a few lines of socket code; the PyPI packages for it are
thin wrappers that add a dependency without removing any of this.
"""

from __future__ import annotations

import os
import socket

__all__ = ["notify", "ready", "watchdog", "stopping", "status", "watchdog_interval"]


def _address(name: str) -> str | bytes:
    # A leading '@' names a Linux abstract socket: a leading NUL byte.
    if name.startswith("@"):
        return b"\0" + name[1:].encode()
    return name


def notify(message: str) -> bool:
    """Send `message` (lines of KEY=VALUE) to systemd; False when not under it.

    A failure to send is not fatal to the kiosk: it returns False, and
    systemd's watchdog then restarts the service if it keeps failing.
    """
    name = os.environ.get("NOTIFY_SOCKET")
    if not name or name[0] not in "/@":
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(message.encode(), _address(name))
    except OSError:
        return False
    return True


def ready() -> bool:
    """The kiosk has started: the screen shows and taps are read."""
    return notify("READY=1")


def watchdog() -> bool:
    """The main loop is alive (call at least every `watchdog_interval()`)."""
    return notify("WATCHDOG=1")


def stopping() -> bool:
    """The kiosk is shutting down on purpose."""
    return notify("STOPPING=1")


def status(text: str) -> bool:
    """A one-line status shown by `systemctl status` (newlines become spaces)."""
    return notify("STATUS=" + " ".join(text.splitlines()))


def watchdog_interval() -> float | None:
    """Seconds between `watchdog()` calls that keep the service alive.

    Half of systemd's `WatchdogSec` (from `$WATCHDOG_USEC`), as sd_notify(3)
    recommends; None when no watchdog is set for this process (a
    `$WATCHDOG_PID` naming another process, or no or a bad value).
    """
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID")
    if pid is not None and pid != str(os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    if value <= 0:
        return None
    return value / 2_000_000
