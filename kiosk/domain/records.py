"""The log record: the one definition of its kinds and fields.

The kiosk's local store, the sync client, the wire format (docs/sync-api.md)
and the central store all take their field lists from here, so that a field
added to a record is added once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

RecordKind = Literal[
    "checkout",
    "return",
    "renew",
    "refused",
    "not_on_loan",
    "unknown_tag",
    "staff_login",
    "inventory",
    "rehome",
    "exit_maintenance",
    "door_open_too_long",
    "reader_fault",
    "reader_ok",
]
RECORD_KINDS: tuple[str, ...] = get_args(RecordKind)


@dataclass(frozen=True)
class Record:
    """Append one record to the kiosk's log (and apply it to local loans).

    `kind` is one of `RECORD_KINDS`. For a checkout or renewal `details`
    holds `due` (ISO date); for a return it holds `from_patron`.
    """

    kind: RecordKind
    patron_id: str | None = None
    item_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    flagged: bool = False


# The fields of a record as the kiosk stamps it and pushes it; `kiosk_id` is
# the other half of its identity, given by the URL of a push.
RECORD_FIELDS = ("seq", "kind", "at", "trusted", "boot_id", "monotonic", "patron_id", "item_id", "details", "flagged")
LOG_COLUMNS = ("kiosk_id",) + RECORD_FIELDS
# Kinds that change who has a book: the merge replays these per item.
LOAN_KINDS = ("checkout", "return", "renew", "not_on_loan")
# A book counted in a stocktake is on the shelf: its record closes a loan open at that time, so the merge
# replays it with LOAN_KINDS (flagged `seen_in_stocktake`). Only an item with a loan needs the replay.
SHELF_KINDS = ("inventory",)
# A book received at a cabinet belongs there from then on: `details.to` is its new home, `details.from` the old.
HOME_KINDS = ("rehome",)
