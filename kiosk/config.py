"""The kiosk's config file: one TOML file, validated whole at start.

Every error names the file and the key (`kiosk.toml: [kiosk] role: ...`).
Every key has a default, so the demo and `kiosk simulate` need no file.
Pins are BCM numbers and live here, never in code.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.domain.errors import ConfigError
from kiosk.domain.model import KIOSK_ID_RULE, Policy, is_kiosk_id
from kiosk.domain.policy import TableReader as _Reader
from kiosk.domain.policy import parse_policy

DEFAULT_PINS = {
    "green_led": 17,
    "red_led": 27,
    "buzzer": 22,
    "lock": 23,
    "door": 24,
    "button_done": 5,
    "button_help": 6,
    "button_lang": 13,
    "reader_rst": 25,
}

# BCM pins with a job of their own on every Pi: a light, the buzzer, a
# button, the lock or the reader's reset there breaks that job or the part.
RESERVED_PINS = {
    **dict.fromkeys((0, 1), "the HAT ID EEPROM's bus (0-1), read by the firmware at boot"),
    **dict.fromkeys((2, 3), "the I2C bus (2-3), with fixed pull-ups, for clocks and touch screens"),
    **dict.fromkeys((7, 8, 9, 10, 11), "the SPI0 bus (7-11), wired to the RC522 reader"),
    **dict.fromkeys((14, 15), "the serial console's UART (14-15)"),
}
FREE_PINS = "4, 5, 6, 12, 13, 16-27"


@dataclass(frozen=True)
class KioskSection:
    id: str = "demo-door"
    name: str = "Library door"
    role: str = "door"
    home: str = "library"
    language: str = "en"
    session_timeout: float = 20.0
    debounce: float = 2.0
    result_seconds: float = 4.0
    on_loan_to_other: str = "transfer"


@dataclass(frozen=True)
class HardwareSection:
    driver: str = "fake"
    pins: dict[str, int | None] = field(default_factory=lambda: dict(DEFAULT_PINS))
    spi_bus: int = 0
    spi_device: int = 0
    lock_seconds: float = 5.0
    door_alarm_seconds: float = 60.0
    has_lock: bool = False
    active_high_lock: bool = True


@dataclass(frozen=True)
class ScreenSection:
    width: int = 800
    height: int = 480
    fullscreen: bool = True
    font: str = ""
    reader: str = "below"  # where the card reader is, seen from the screen: the idle screen's arrow points there


@dataclass(frozen=True)
class CentralSection:
    url: str = ""
    token: str = ""
    ca_file: str = ""
    timeout: float = 10.0
    batch_size: int = 500
    interval: float = 30.0


@dataclass(frozen=True)
class Config:
    path: str = "(defaults)"
    kiosk: KioskSection = KioskSection()
    hardware: HardwareSection = HardwareSection()
    screen: ScreenSection = ScreenSection()
    policy: Policy = Policy()
    central: CentralSection = CentralSection()


def _kiosk(path, table) -> KioskSection:
    r = _Reader(path, "kiosk", table)
    d = KioskSection()
    out = KioskSection(
        id=r.take("id", str, d.id),
        name=r.take("name", str, d.name),
        role=r.take("role", str, d.role, choices=("door", "cabinet")),
        home=r.take("home", str, d.home),
        language=r.take("language", str, d.language, choices=("en", "zh_CN")),
        session_timeout=r.take("session_timeout", float, d.session_timeout, minimum=1),
        debounce=r.take("debounce", float, d.debounce, minimum=0),
        result_seconds=r.take("result_seconds", float, d.result_seconds, minimum=0.5),
        on_loan_to_other=r.take(
            "on_loan_to_other", str, d.on_loan_to_other, choices=("transfer", "refuse")
        ),
    )
    if not is_kiosk_id(out.id):
        r.fail("id", f"must be {KIOSK_ID_RULE}, not {out.id!r}")
    r.done()
    return out


def _hardware(path, table) -> HardwareSection:
    r = _Reader(path, "hardware", table)
    d = HardwareSection()
    pins = dict(DEFAULT_PINS)
    raw_pins = r.table.pop("pins", {})
    p = _Reader(path, "hardware.pins", raw_pins)
    for name in list(p.table):
        value = p.table.pop(name)
        if value is False and name.startswith("button_"):
            value = None  # a button that is not fitted
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 27
        ):
            p.fail(name, f"must be a BCM pin number 0-27, not {value!r}")
        if value in RESERVED_PINS:
            p.fail(name, f"BCM pin {value} is {RESERVED_PINS[value]}; use a free pin: {FREE_PINS}")
        pins[name] = value
    used = [v for v in pins.values() if v is not None]
    for name, value in pins.items():
        if value is not None and used.count(value) > 1:
            p.fail(name, f"BCM pin {value} is used twice")
    out = HardwareSection(
        driver=r.take("driver", str, d.driver, choices=("fake", "real")),
        pins=pins,
        spi_bus=r.take("spi_bus", int, d.spi_bus, minimum=0),
        spi_device=r.take("spi_device", int, d.spi_device, minimum=0),
        lock_seconds=r.take("lock_seconds", float, d.lock_seconds, minimum=0.5),
        door_alarm_seconds=r.take("door_alarm_seconds", float, d.door_alarm_seconds, minimum=1),
        has_lock=r.take("has_lock", bool, d.has_lock),
        active_high_lock=r.take("active_high_lock", bool, d.active_high_lock),
    )
    r.done()
    return out


def _screen(path, table) -> ScreenSection:
    r = _Reader(path, "screen", table)
    d = ScreenSection()
    out = ScreenSection(
        width=r.take("width", int, d.width, minimum=320),
        height=r.take("height", int, d.height, minimum=240),
        fullscreen=r.take("fullscreen", bool, d.fullscreen),
        font=r.take("font", str, d.font),
        reader=r.take("reader", str, d.reader, choices=("below", "left", "right")),
    )
    r.done()
    return out


def _central(path, table) -> CentralSection:
    r = _Reader(path, "central", table)
    d = CentralSection()
    url = r.take("url", str, d.url)
    if url and not url.startswith(("http://", "https://")):
        r.fail("url", f"must start with http:// or https://, not {url!r}")
    ca_file = r.take("ca_file", str, d.ca_file)
    if ca_file and not Path(ca_file).is_file():
        r.fail("ca_file", f"no such file: {ca_file}")
    out = CentralSection(
        url=url.rstrip("/"),
        token=r.take("token", str, d.token),
        ca_file=ca_file,
        timeout=r.take("timeout", float, d.timeout, minimum=0.1),
        batch_size=r.take("batch_size", int, d.batch_size, minimum=1),
        interval=r.take("interval", float, d.interval, minimum=0.1),
    )
    r.done()
    return out


SECTIONS = ("kiosk", "hardware", "screen", "policy", "central")


def parse_config(data: dict, path: str = "(defaults)") -> Config:
    """Validate a parsed TOML document into a `Config`."""
    for key in data:
        if key not in SECTIONS:
            raise ConfigError(f"{path}: [{key}]: unknown section (misspelt?)")
    return Config(
        path=path,
        kiosk=_kiosk(path, data.get("kiosk", {})),
        hardware=_hardware(path, data.get("hardware", {})),
        screen=_screen(path, data.get("screen", {})),
        policy=parse_policy(data.get("policy", {}), path),
        central=_central(path, data.get("central", {})),
    )


def load_config(path: str | os.PathLike | None = None) -> Config:
    """Read the config named by `path`, else `$KIOSK_CONFIG`, else defaults."""
    if path is None:
        path = os.environ.get("KIOSK_CONFIG") or None
    if path is None:
        return Config()
    p = Path(path)
    try:
        raw = p.read_bytes()
        if raw.startswith(b"SQLite format 3\x00"):
            raise ConfigError(f"{p}: not a config file but a SQLite database (--config takes the config file, "
                              "--db the database)")
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return parse_config(data, str(p))
