"""The libraries under the real drivers, checked where they are installed: `python -m hardware.stack`.

install.sh runs it in each new venv before switching to it, so a kiosk
never starts on a GPIO stack that cannot work:

- lgpio 0.2 or newer (older releases, such as the 0.0.0.2 that pip picks on
  Python 3.13 when only wheels are allowed, lack what gpiozero needs);
- `RPi.GPIO` (imported by mfrc522 for the reader's reset pin) is rpi-lgpio,
  the same API on lgpio, never the RPi.GPIO package from PyPI, whose edge
  detection fails on kernels 6.6 and later and which cannot drive a Pi 5;
- spidev, mfrc522 and pygame-ce.

Prints one line per library, or one line naming the first problem and
exits 1. Importing lgpio makes its named pipe in $LG_WD (else here).
"""

from __future__ import annotations

import sys
from importlib import metadata

LGPIO_MINIMUM = (0, 2)


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:  # a Debian package may carry no metadata
        return "?"


def _lgpio() -> str:
    import lgpio

    number = lgpio.LGPIO_PY_VERSION
    found = tuple((number >> shift) & 0xFF for shift in (24, 16, 8, 0))
    if found[:2] < LGPIO_MINIMUM:
        raise RuntimeError(f"lgpio {'.'.join(map(str, found))} at {lgpio.__file__} is too old: "
                           f"{'.'.join(map(str, LGPIO_MINIMUM))} or newer is needed")
    return f"lgpio {'.'.join(map(str, found))} ({lgpio.__file__})"


def _rpi_gpio() -> str:
    import lgpio
    import RPi.GPIO as GPIO

    if getattr(GPIO, "lgpio", None) is not lgpio:
        raise RuntimeError(f"RPi.GPIO at {GPIO.__file__} is not rpi-lgpio: remove the RPi.GPIO package")
    try:
        pypi = metadata.distribution("RPi.GPIO")
    except metadata.PackageNotFoundError:
        pypi = None
    if pypi is not None and str(pypi.locate_file("")).startswith(sys.prefix):
        raise RuntimeError(f"the RPi.GPIO package is installed in {sys.prefix}: remove it (rpi-lgpio stands in)")
    return f"RPi.GPIO from rpi-lgpio {_version('rpi-lgpio')} ({GPIO.__file__})"


def _spidev() -> str:
    import spidev

    return f"spidev {getattr(spidev, '__version__', '?')} ({spidev.__file__})"


def _mfrc522() -> str:
    import mfrc522

    return f"mfrc522 {_version('mfrc522')} ({mfrc522.__file__})"


def _pygame() -> str:
    import pygame

    if not getattr(pygame, "IS_CE", False):
        raise RuntimeError(f"pygame at {pygame.__file__} is not pygame-ce")
    sdl = ".".join(map(str, pygame.get_sdl_version()))
    return f"pygame-ce {pygame.version.ver} with SDL {sdl} ({pygame.__file__})"


CHECKS = (("lgpio", _lgpio), ("RPi.GPIO", _rpi_gpio), ("spidev", _spidev), ("mfrc522", _mfrc522),
          ("pygame-ce", _pygame))


def check() -> list[str]:
    """One line per library; RuntimeError naming the first that is missing or wrong."""
    found = []
    for name, look in CHECKS:
        try:
            found.append(look())
        except ImportError as exc:
            raise RuntimeError(f"{name} cannot be imported in {sys.prefix}: {exc}") from None
        except OSError as exc:  # lgpio's import opens the named pipe it has just tried to make
            raise RuntimeError(f"{name} cannot be imported in {sys.prefix}: {exc} (is $LG_WD writable?)") from None
    return found


def main() -> int:
    import os

    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        lines = check()
    except RuntimeError as exc:
        print(f"hardware stack: {exc}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
