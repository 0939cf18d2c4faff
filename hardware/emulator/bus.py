"""Fake `spidev` and `RPi.GPIO` modules wired to emulated chips.

The modules are installed into `sys.modules` once per process and stay:
`mfrc522` binds them at its first import. Which chip answers on which bus
is decided at `SpiDev.open` time from the registry below, so each test
attaches its own chip.
"""

from __future__ import annotations

import sys
import threading
import types

_chips: dict[tuple[int, int], object] = {}
_reset_pins: dict[int, object] = {}
_lock = threading.Lock()


def attach(chip, bus: int = 0, device: int = 0, reset_pin: int | None = 25) -> None:
    """Put `chip` on SPI `bus`.`device`, its NRSTPD on BCM `reset_pin`."""
    with _lock:
        _chips[(bus, device)] = chip
        if reset_pin is not None:
            _reset_pins[reset_pin] = chip


def detach(chip) -> None:
    """Take `chip` off every bus and pin."""
    with _lock:
        for table in (_chips, _reset_pins):
            for key in [k for k, v in table.items() if v is chip]:
                del table[key]


class SpiDev:
    """The part of py-spidev that drivers use."""

    def __init__(self, bus: int | None = None, device: int | None = None):
        self.chip = None
        self.max_speed_hz = 500000
        self.mode = 0
        if bus is not None:
            self.open(bus, device or 0)

    def open(self, bus: int, device: int) -> None:
        with _lock:
            chip = _chips.get((bus, device))
        if chip is None:
            raise FileNotFoundError(2, "No such file or directory", f"/dev/spidev{bus}.{device}")
        self.chip = chip

    def xfer2(self, data, *args):
        if self.chip is None:
            raise OSError(9, "Bad file descriptor")
        return self.chip.transfer(list(data))

    xfer = xfer2

    def close(self) -> None:
        self.chip = None


def _gpio_module() -> types.ModuleType:
    gpio = types.ModuleType("RPi.GPIO")
    gpio.BOARD, gpio.BCM, gpio.OUT, gpio.IN = 10, 11, 0, 1
    gpio.HIGH, gpio.LOW, gpio.PUD_UP, gpio.PUD_DOWN, gpio.PUD_OFF = 1, 0, 22, 21, 20
    state = {"mode": None, "outputs": {}}
    gpio._state = state

    def setmode(mode):
        state["mode"] = mode

    def getmode():
        return state["mode"]

    def setwarnings(flag):
        pass

    def setup(channel, direction, *args, **kwargs):
        if state["mode"] is None:
            raise RuntimeError("Please set pin numbering mode using GPIO.setmode(GPIO.BOARD) or GPIO.setmode(GPIO.BCM)")
        if direction == gpio.OUT:
            state["outputs"][channel] = kwargs.get("initial", 0)

    def output(channel, value):
        if channel not in state["outputs"]:
            raise RuntimeError("The GPIO channel has not been set up as an OUTPUT")
        state["outputs"][channel] = int(bool(value))
        with _lock:
            chip = _reset_pins.get(channel)
        if chip is not None:
            chip.hard_reset(low=not value)

    def input(channel):
        return state["outputs"].get(channel, 0)

    def cleanup(channel=None):
        if channel is None:
            state["outputs"].clear()
            state["mode"] = None
        else:
            for c in channel if isinstance(channel, (list, tuple)) else [channel]:
                state["outputs"].pop(c, None)

    for name, fn in dict(setmode=setmode, getmode=getmode, setwarnings=setwarnings, setup=setup,
                         output=output, input=input, cleanup=cleanup).items():
        setattr(gpio, name, fn)
    return gpio


def install() -> None:
    """Make `import spidev` and `import RPi.GPIO` find the emulated ones."""
    if getattr(sys.modules.get("spidev"), "_emulated", False):
        return
    spidev = types.ModuleType("spidev")
    spidev.SpiDev = SpiDev
    spidev._emulated = True
    rpi = types.ModuleType("RPi")
    gpio = _gpio_module()
    rpi.GPIO = gpio
    sys.modules.update({"spidev": spidev, "RPi": rpi, "RPi.GPIO": gpio})
