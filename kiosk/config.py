"""The kiosk's config file: one TOML file, validated whole at start.

Every error names the file and the key (`kiosk.toml: [kiosk] role: ...`).
Every key has a default, so the demo and `kiosk simulate` need no file.
Pins are BCM numbers and live here, never in code.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.errors import ConfigError
from kiosk.model import PATRON_TYPES, LoanRule, Policy

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

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


class _Reader:
    """Takes keys out of one table, checking types, naming file and key."""

    def __init__(self, path: str, section: str, table: Any):
        self.path, self.section = path, section
        if not isinstance(table, dict):
            self.fail("", f"must be a table, not {type(table).__name__}")
        self.table = dict(table)

    def fail(self, key: str, why: str):
        where = f"[{self.section}] {key}".rstrip()
        raise ConfigError(f"{self.path}: {where}: {why}")

    def take(self, key, kind, default, choices=None, minimum=None):
        if key not in self.table:
            return default
        value = self.table.pop(key)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            self.fail(key, f"must be {kind.__name__}, not {value!r}")
        if choices is not None and value not in choices:
            self.fail(key, f"must be one of {', '.join(map(str, choices))}, not {value!r}")
        if minimum is not None and value < minimum:
            self.fail(key, f"must be at least {minimum}, not {value!r}")
        return value

    def done(self):
        for key in self.table:
            self.fail(key, "unknown key (misspelt?)")


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
    if not out.id or not all(c.isalnum() or c in "-_." for c in out.id):
        r.fail("id", f"must be letters, digits, '-', '_' or '.', not {out.id!r}")
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
    )
    r.done()
    return out


def parse_policy(table: dict, path: str = "(rules)") -> Policy:
    """Build a `Policy` from a `[policy]` table (also the central rules)."""
    r = _Reader(path, "policy", table)
    d = Policy()
    types = dict(d.types)
    for ptype in PATRON_TYPES:
        if ptype in r.table:
            t = _Reader(path, f"policy.{ptype}", r.table.pop(ptype))
            base = types[ptype]
            types[ptype] = LoanRule(
                loan_days=t.take("loan_days", int, base.loan_days, minimum=1),
                max_loans=t.take("max_loans", int, base.max_loans, minimum=0),
                renewals=t.take("renewals", int, base.renewals, minimum=0),
            )
            t.done()
    closed = r.take("closed_weekdays", list, [WEEKDAYS[i] for i in d.closed_weekdays])
    for day in closed:
        if day not in WEEKDAYS:
            r.fail("closed_weekdays", f"{day!r} is not one of {', '.join(WEEKDAYS)}")
    if len(set(closed)) == 7:
        r.fail("closed_weekdays", "cannot close every day of the week")
    holidays = []
    for text in r.take("holidays", list, []):
        try:
            holidays.append(date.fromisoformat(str(text)))
        except ValueError:
            r.fail("holidays", f"{text!r} is not a date like 2026-12-25")
    out = Policy(
        types=types,
        block_overdue_days=r.take("block_overdue_days", int, d.block_overdue_days, minimum=0),
        closed_weekdays=tuple(sorted(WEEKDAYS.index(x) for x in set(closed))),
        holidays=tuple(sorted(set(holidays))),
    )
    r.done()
    return out


def policy_to_table(policy: Policy) -> dict:
    """The inverse of `parse_policy`: a plain dict (for JSON or TOML)."""
    table: dict[str, Any] = {
        "block_overdue_days": policy.block_overdue_days,
        "closed_weekdays": [WEEKDAYS[i] for i in policy.closed_weekdays],
        "holidays": [d.isoformat() for d in policy.holidays],
    }
    for ptype, rule in policy.types.items():
        table[ptype] = {
            "loan_days": rule.loan_days,
            "max_loans": rule.max_loans,
            "renewals": rule.renewals,
        }
    return table


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
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return parse_config(data, str(p))
