"""Kiosk hardware behind swappable drivers.

This package knows nothing of the kiosk: devices report input through
callbacks (like gpiozero's `when_*`) and take orders through small methods.
Only the real driver modules import hardware libraries; `fake` drivers are
complete stand-ins that record what they were told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

from hardware.base import (
    Buttons, Device, DoorSwitch, HardwareError, Lights, Lock, Reader, ReaderError, Sounder,
)

DRIVERS = ("fake", "real")


@dataclass
class Devices:
    """The parts of one kiosk. `lock` and `door` are None where there is no cabinet lock."""

    reader: Reader
    lights: Lights
    sounder: Sounder
    buttons: Buttons
    lock: Optional[Lock] = None
    door: Optional[DoorSwitch] = None
    driver: str = "fake"

    def all(self) -> list[Device]:
        return [d for d in (self.reader, self.lights, self.sounder, self.buttons, self.lock, self.door)
                if d is not None]

    def start(self) -> None:
        """Start the devices that run threads (the reader)."""
        for device in self.all():
            device.start()

    def post_to(self, queue) -> None:
        """Route every input to `queue.put` as a tuple, for one consuming loop.

        ("tag", uid), ("reader_fault", detail), ("reader_ok",),
        ("button", name), ("door", is_open).
        """
        self.reader.when_tag = lambda uid: queue.put(("tag", uid))
        self.reader.when_fault = lambda detail: queue.put(("reader_fault", detail))
        self.reader.when_ok = lambda: queue.put(("reader_ok",))
        self.buttons.when_pressed = lambda name: queue.put(("button", name))
        if self.door is not None:
            self.door.when_changed = lambda is_open: queue.put(("door", is_open))

    def close(self) -> None:
        """Close every device (the lock ends locked). Safe to call twice."""
        for device in reversed(self.all()):
            device.close()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()


def build(driver: str, pins: Mapping[str, Optional[int]], *, spi_bus: int = 0, spi_device: int = 0,
          has_lock: bool = False, active_high_lock: bool = True, pin_factory=None,
          **reader_options) -> Devices:
    """The kiosk's devices for `driver` ("fake" or "real") and BCM `pins`.

    `pins` names green_led, red_led, buzzer, lock, door, button_done,
    button_help, button_lang and reader_rst (as in the config's
    [hardware.pins]); a button whose pin is None is not fitted. The lock and
    the door switch exist only when `has_lock`. `pin_factory` goes to
    gpiozero (tests pass a MockFactory); `reader_options` go to the RC522
    reader (poll_interval, absent_polls, retry_seconds, ...). Nothing is
    started: call `Devices.start()`.
    """
    if driver not in DRIVERS:
        raise HardwareError(f"unknown hardware driver {driver!r} (use one of: {', '.join(DRIVERS)})")
    # Every pin named button_NAME is a button called NAME; which names exist is the caller's to say.
    button_pins = {key.removeprefix("button_"): pin for key, pin in pins.items()
                   if key.startswith("button_") and pin is not None}
    if driver == "fake":
        from hardware import fake

        return Devices(reader=fake.FakeReader(), lights=fake.FakeLights(), sounder=fake.FakeSounder(),
                       buttons=fake.FakeButtons(), lock=fake.FakeLock() if has_lock else None,
                       door=fake.FakeDoor() if has_lock else None, driver="fake")

    from hardware import gpio
    from hardware.pins import pin_factory as chosen_factory
    from hardware.rc522 import RC522Reader

    if pin_factory is None:
        pin_factory = chosen_factory()

    def need(name: str) -> int:
        pin = pins.get(name)
        if pin is None:
            raise HardwareError(f"hardware pin {name!r} is not set")
        return pin

    made: list[Device] = []
    try:
        lights = gpio.GpioLights(need("green_led"), need("red_led"), pin_factory=pin_factory)
        made.append(lights)
        sounder = gpio.GpioSounder(need("buzzer"), pin_factory=pin_factory)
        made.append(sounder)
        buttons = gpio.GpioButtons(button_pins, pin_factory=pin_factory)
        made.append(buttons)
        lock = door = None
        if has_lock:
            lock = gpio.GpioLock(need("lock"), active_high=active_high_lock, pin_factory=pin_factory)
            made.append(lock)
            door = gpio.GpioDoor(need("door"), pin_factory=pin_factory)
            made.append(door)
    except Exception:
        for device in reversed(made):
            device.close()
        raise
    reader = RC522Reader(spi_bus, spi_device, pins.get("reader_rst"), **reader_options)
    return Devices(reader=reader, lights=lights, sounder=sounder, buttons=buttons, lock=lock, door=door,
                   driver="real")


__all__ = ["Devices", "HardwareError", "ReaderError", "build"]
