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
# The sane range of every number: a loan of 10**20 days is a typing slip, a
# kiosk must never be handed a due date it cannot compute, and 0 books as the
# goal is a typo; each is refused with its name.
RANGES = {
    "loan_days": (1, 365), "max_loans": (0, 100), "renewals": (0, 20), "block_overdue_days": (0, 365),
    "term_goal": (1, 200), "class_month_goal": (1, 50),
}
FIRST_YEAR, LAST_YEAR = 2000, 2100  # dates outside are typos
MAX_HOLIDAYS = 366
MAX_TERMS = 12


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

    def number(self, key: str, default: int) -> int:
        """A whole number within its range in `RANGES`."""
        low, high = RANGES[key]
        return self.take(key, int, default, between=(low, high))

    def dates(self, key: str, most: int, example: str) -> list[date]:
        """A list of ISO dates between `FIRST_YEAR` and `LAST_YEAR`, at most `most` of them."""
        out = []
        values = self.take(key, list, [])
        if len(values) > most:
            self.fail(key, f"at most {most} dates, not {len(values)}")
        for text in values:
            try:
                day = date.fromisoformat(str(text))
            except ValueError:
                self.fail(key, f"{text!r} is not a date like {example}")
            if not FIRST_YEAR <= day.year <= LAST_YEAR:
                self.fail(key, f"{text!r} is not between {FIRST_YEAR} and {LAST_YEAR}")
            out.append(day)
        return sorted(set(out))

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
            types[ptype] = LoanRule(
                loan_days=t.number("loan_days", base.loan_days),
                max_loans=t.number("max_loans", base.max_loans),
                renewals=t.number("renewals", base.renewals),
            )
            t.done()
    closed = r.take("closed_weekdays", list, [WEEKDAYS[i] for i in d.closed_weekdays])
    for day in closed:
        if day not in WEEKDAYS:
            r.fail("closed_weekdays", f"{day!r} is not one of {', '.join(WEEKDAYS)}")
    if len(set(closed)) == 7:
        r.fail("closed_weekdays", "cannot close every day of the week")
    out = Policy(
        types=types,
        block_overdue_days=r.number("block_overdue_days", d.block_overdue_days),
        closed_weekdays=tuple(sorted(WEEKDAYS.index(x) for x in set(closed))),
        holidays=tuple(r.dates("holidays", MAX_HOLIDAYS, "2026-12-25")),
        term_goal=r.number("term_goal", d.term_goal),
        class_month_goal=r.number("class_month_goal", d.class_month_goal),
        term_starts=tuple(r.dates("term_starts", MAX_TERMS, "2026-09-01")),
        showcase_names=r.take("showcase_names", bool, d.showcase_names),
    )
    r.done()
    return out


def policy_to_table(policy: Policy) -> dict:
    """The inverse of `parse_policy`: a plain dict (for JSON or TOML)."""
    table: dict[str, Any] = {
        "block_overdue_days": policy.block_overdue_days,
        "closed_weekdays": [WEEKDAYS[i] for i in policy.closed_weekdays],
        "holidays": [d.isoformat() for d in policy.holidays],
        "term_goal": policy.term_goal,
        "class_month_goal": policy.class_month_goal,
        "term_starts": [d.isoformat() for d in policy.term_starts],
        "showcase_names": policy.showcase_names,
    }
    for ptype, rule in policy.types.items():
        table[ptype] = {
            "loan_days": rule.loan_days,
            "max_loans": rule.max_loans,
            "renewals": rule.renewals,
        }
    return table
