"""Amounts of money (prices, charges) as whole cents: parsed from what people type, written back the same way."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_CENTS = 100_000_000  # a million: more is a typing slip, not a book


def parse_money(text: str, what: str = "amount") -> int:
    """`12`, `12.5` or `12.50` as 1250 cents; `ValueError` naming `what` for anything else.

    A comma is taken as the decimal point too (12,50), as many keyboards type it.
    """
    raw = str(text).strip()
    try:
        value = Decimal(raw.replace(",", ".", 1) if raw.count(",") == 1 and "." not in raw else raw)
    except InvalidOperation:
        raise ValueError(f"{what} {raw!r} is not an amount like 25.50") from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{what} {raw!r} must be 0 or more, with at most two decimals")
    cents = int(value * 100)
    if cents > MAX_CENTS:
        raise ValueError(f"{what} {raw!r} is more than {MAX_CENTS // 100}")
    return cents


def money_text(cents: int | None) -> str:
    """1250 as `12.50`; None as an empty text."""
    if cents is None:
        return ""
    return f"{cents // 100}.{cents % 100:02d}"
