"""The school's settings kept by the central store: its name, its time zone, what lost books cost.

Only the pages and reports read them; the kiosks never pull them (the loan
rules are in `rules`). Each is checked on the way in, so a stored value is
always usable.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kiosk.domain.money import money_text, parse_money
from sync.server.db.audit import audit
from sync.server.db.schema import CentralError

# key -> default, as text. `charge_limit` empty: unpaid charges never block.
DEFAULTS = {
    "school_name": "",
    "timezone": "Asia/Shanghai",
    "lost_charge": "0.00",
    "charge_limit": "0.00",
}


def _check(key: str, value: str) -> str:
    value = value.strip()
    if key == "school_name":
        if len(value) > 120:
            raise CentralError("school_name: at most 120 characters")
        return value
    if key == "timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise CentralError(f"timezone {value!r} is not a time zone like Asia/Shanghai") from None
        return value
    if key == "charge_limit" and value == "":
        return value
    try:
        return money_text(parse_money(value, key))
    except ValueError as exc:
        raise CentralError(str(exc)) from None


def get_settings(db) -> dict[str, str]:
    """Every setting, stored or default."""
    out = dict(DEFAULTS)
    out.update({k: v for k, v in db.execute("SELECT key, value FROM settings") if k in DEFAULTS})
    return out


def zone(db) -> ZoneInfo:
    """The school's time zone."""
    return ZoneInfo(get_settings(db)["timezone"])


def save_settings(db, librarian: str, changes: dict[str, str]) -> None:
    """Check and store settings in one transaction, audited; a bad value changes nothing (`CentralError`)."""
    unknown = sorted(set(changes) - set(DEFAULTS))
    if unknown:
        raise CentralError(f"unknown setting(s) {', '.join(unknown)}; settings are {', '.join(DEFAULTS)}")
    checked = {k: _check(k, str(v)) for k, v in changes.items()}
    from sync.server.db.charges import refresh_blocks  # the amount that blocks may have changed

    with db.atomic():
        for key, value in checked.items():
            db.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", [key, value])
        audit(db, librarian, "settings", ", ".join(checked), ", ".join(f"{k}={v}" for k, v in checked.items()))
        refresh_blocks(db)
