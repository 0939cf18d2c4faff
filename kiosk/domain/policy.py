"""The circulation rules as a table: parsing and checking them, and writing them back.

The same rules come from a kiosk's config file, the librarian's rules form,
a pull from the central store and the central store's own database, so one
parser checks them all and every error names where the table came from.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kiosk.domain.errors import ConfigError
from kiosk.domain.model import PATRON_TYPES, LoanRule, Policy

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The sane range of every rule: a loan of 10**20 days is a typing slip, and
# a kiosk must never be handed a due date it cannot compute.
RANGES = {"loan_days": (1, 365), "max_loans": (0, 100), "renewals": (0, 20), "block_overdue_days": (0, 365)}
MAX_HOLIDAYS = 366


class TableReader:
    """Takes keys out of one table (of a config file, a form or pulled rules), checking types, naming file and key."""

    def __init__(self, path: str, section: str, table: Any):
        self.path, self.section = path, section
        if not isinstance(table, dict):
            self.fail("", f"must be a table, not {type(table).__name__}")
        self.table = dict(table)

    def fail(self, key: str, why: str):
        where = f"[{self.section}] {key}".rstrip()
        raise ConfigError(f"{self.path}: {where}: {why}")

    def take(self, key, kind, default, choices=None, minimum=None, between=None):
        """The value of `key` (else `default`), of type `kind`, within `choices`, at least `minimum`, `between` two."""
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
        if between is not None and not between[0] <= value <= between[1]:
            self.fail(key, f"must be from {between[0]} to {between[1]}, not {value!r}")
        return value

    def done(self):
        for key in self.table:
            self.fail(key, "unknown key (misspelt?)")


def parse_policy(table: dict, path: str = "(rules)") -> Policy:
    """Build a `Policy` from a `[policy]` table (also the central rules)."""
    r = TableReader(path, "policy", table)
    d = Policy()
    types = dict(d.types)
    for ptype in PATRON_TYPES:
        if ptype in r.table:
            t = TableReader(path, f"policy.{ptype}", r.table.pop(ptype))
            base = types[ptype]
            types[ptype] = LoanRule(**{key: t.take(key, int, getattr(base, key), between=RANGES[key])
                                       for key in ("loan_days", "max_loans", "renewals")})
            t.done()
    closed = r.take("closed_weekdays", list, [WEEKDAYS[i] for i in d.closed_weekdays])
    for day in closed:
        if day not in WEEKDAYS:
            r.fail("closed_weekdays", f"{day!r} is not one of {', '.join(WEEKDAYS)}")
    if len(set(closed)) == 7:
        r.fail("closed_weekdays", "cannot close every day of the week")
    holidays = []
    listed = r.take("holidays", list, [])
    if len(listed) > MAX_HOLIDAYS:
        r.fail("holidays", f"at most {MAX_HOLIDAYS} dates, not {len(listed)}")
    for text in listed:
        try:
            holidays.append(date.fromisoformat(str(text)))
        except ValueError:
            r.fail("holidays", f"{text!r} is not a date like 2026-12-25")
    out = Policy(
        types=types,
        block_overdue_days=r.take("block_overdue_days", int, d.block_overdue_days,
                                  between=RANGES["block_overdue_days"]),
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
