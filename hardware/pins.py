"""The pin factory of the real drivers: gpiozero's lgpio factory, asked for by name.

gpiozero left to itself guesses among the pin libraries it can import, and
the guess differs between a Pi 4 (RPi.GPIO, whose edge detection fails on
kernels 6.6 and later) and a Pi 5. The kiosk drives every model through
lgpio instead (kiosk.service also sets GPIOZERO_PIN_FACTORY=lgpio, for any
other gpiozero program started with its environment).

Importing lgpio makes a named pipe (`.lgd-nfy0`) in `$LG_WD`, or else in the
working directory, and moves the process there; kiosk.service points LG_WD
at its runtime directory. Every failure is one line saying what is missing.
"""

from __future__ import annotations

import glob
import os
import sys

from hardware.base import HardwareError

FACTORY = "lgpio"
ENV = "GPIOZERO_PIN_FACTORY"


def pin_factory():
    """The factory for the real drivers: one already set (tests set gpiozero's MockFactory), else lgpio.

    A different factory named in $GPIOZERO_PIN_FACTORY is refused rather than
    half-supported: the kiosk is tested on lgpio only.
    """
    from gpiozero import Device

    if Device.pin_factory is not None:
        return Device.pin_factory
    asked = os.environ.get(ENV, FACTORY)
    if asked.lower() != FACTORY:
        raise HardwareError(f"{ENV}={asked}: the kiosk drives its pins with lgpio only (set {ENV}=lgpio)")
    Device.pin_factory = lgpio_factory()
    return Device.pin_factory


def lgpio_factory():
    """gpiozero's LGPIOFactory, or `HardwareError` naming what is missing."""
    where = os.environ.get("LG_WD") or os.getcwd()
    try:
        from gpiozero.pins.lgpio import LGPIOFactory
    except ImportError as exc:
        raise HardwareError(f"lgpio is not installed in {sys.prefix} ({exc}): run systemd/install.sh") from None
    except OSError as exc:
        # lgpio's import opens the pipe it has just tried to make: no pipe, no lgpio.
        raise HardwareError(f"lgpio cannot make its notification pipe in {where} ({exc.strerror}): "
                            "set LG_WD to a writable folder, as kiosk.service does") from None
    if not glob.glob("/dev/gpiochip*"):
        raise HardwareError("no GPIO chip: /dev/gpiochip* does not exist (not a Raspberry Pi, or its GPIO "
                            "driver is not loaded)")
    try:
        return LGPIOFactory()
    except Exception as exc:  # lgpio.error, gpiozero's PinUnknownPi, PermissionError: all mean no pins
        raise HardwareError(f"cannot open the GPIO chip with lgpio: {exc}") from None
