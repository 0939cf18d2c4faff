"""The bodies of the kiosks' API (docs/sync-api.md), validated before anything is stored.

Every value a kiosk pushes is held to the rules of an import: identifiers
and names hold no control character, a tag UID is 8 or 14 hex digits as a
reader reports it, and free text (an error message) may have lines but no
other control character. A refused body is a 422 naming the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Optional

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from kiosk.domain.errors import BadUid
from kiosk.domain.model import normalize_uid
from kiosk.domain.records import RecordKind
from kiosk.domain.text import bad_character
from sync.protocol import MAX_BATCH

LINES = "\n\t"  # what free text may hold of the control characters


def no_control(value: str) -> str:
    """An identifier or a name: no control character at all."""
    bad = bad_character(value)
    if bad:
        raise ValueError(f"holds a control character ({bad})")
    return value


def lines_only(value: str) -> str:
    """Free text: lines and tabs, no other control character."""
    bad = bad_character(value, allow=LINES)
    if bad:
        raise ValueError(f"holds a control character ({bad})")
    return value


def clean_json(value: Any, where: str) -> None:
    """Every key and text in a JSON value held to `lines_only`; ValueError naming where."""
    if isinstance(value, str):
        bad = bad_character(value, allow=LINES)
        if bad:
            raise ValueError(f"{where} holds a control character ({bad})")
    elif isinstance(value, dict):
        for key, item in value.items():
            clean_json(key, f"{where} key")
            clean_json(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            clean_json(item, f"{where}[{n}]")


TEXT = Annotated[str, Field(max_length=200), AfterValidator(no_control)]
MAX_MONOTONIC = 1e10  # seconds since boot: three centuries


def plausible(value: datetime) -> datetime:
    """A kiosk without a real-time clock may believe 1970, never year 1 or 9999."""
    if not 1970 <= value.year <= 9000:
        raise ValueError(f"{value.isoformat()} is not a time a kiosk can have believed")
    return value


KIOSK_TIME = Annotated[AwareDatetime, AfterValidator(plausible)]


class RecordIn(BaseModel):
    """One log record as the kiosk holds it."""

    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1, le=2**53)
    kind: RecordKind
    at: KIOSK_TIME
    trusted: bool
    boot_id: Optional[TEXT] = None
    monotonic: Optional[float] = Field(default=None, ge=0, le=MAX_MONOTONIC, allow_inf_nan=False)
    patron_id: Optional[TEXT] = None
    item_id: Optional[TEXT] = None
    details: dict[str, Any] = Field(default_factory=dict)
    flagged: bool = False

    @model_validator(mode="after")
    def _details_hold_clean_values(self):
        clean_json(self.details, f"record {self.seq}: details")
        uid = self.details.get("uid")
        if uid is not None:
            try:
                canonical = isinstance(uid, str) and normalize_uid(uid) == uid
            except BadUid:
                canonical = False
            if not canonical:
                raise ValueError(f"record {self.seq}: details.uid must be a tag UID as a reader reports it "
                                 f"(8 or 14 upper-case hex digits), not {uid!r}")
        return self

    @model_validator(mode="after")
    def _loan_records_name_their_item(self):
        if self.kind in ("checkout", "return", "renew") and not self.item_id:
            raise ValueError(f"record {self.seq}: a {self.kind} needs an item_id")
        home = self.details.get("to")
        if self.kind == "rehome" and not (self.item_id and isinstance(home, str) and 0 < len(home) <= 64):
            raise ValueError(f"record {self.seq}: a rehome needs an item_id and details.to, its new home")
        if self.kind in ("checkout", "renew"):
            if not self.patron_id:
                raise ValueError(f"record {self.seq}: a {self.kind} needs a patron_id")
            due = self.details.get("due")
            try:
                datetime.strptime(str(due), "%Y-%m-%d")
            except ValueError:
                raise ValueError(f"record {self.seq}: details.due must be a date like 2026-12-07, not {due!r}")
        return self


class Status(BaseModel):
    """Health facts a kiosk reports with each push (all optional)."""

    model_config = ConfigDict(extra="allow")

    pending: Optional[int] = Field(default=None, ge=0, le=2**53)
    reader_ok: Optional[bool] = None
    version: Optional[TEXT] = None
    last_error: Optional[Annotated[str, Field(max_length=2000), AfterValidator(lines_only)]] = None

    @model_validator(mode="after")
    def _extras_hold_clean_values(self):
        clean_json(self.model_extra or {}, "status")
        return self


class HelloIn(BaseModel):
    """The start of a kiosk's round: its clock reading and its health, no records."""

    model_config = ConfigDict(extra="forbid")

    sent_at: KIOSK_TIME
    boot_id: TEXT
    monotonic: float = Field(ge=0, le=MAX_MONOTONIC, allow_inf_nan=False)
    clock_trusted: bool = False
    status: Status = Field(default_factory=Status)


class PushIn(HelloIn):
    """A batch of one kiosk's records with its clock reading."""

    records: list[RecordIn] = Field(max_length=MAX_BATCH)  # none: a report of the kiosk's health alone


class HelloOut(BaseModel):
    """The answer to a hello: the store's epoch and how far this kiosk's log is held."""

    epoch: str
    acked_seq: int
    server_time: str
    clock_offset: float


class PushOut(BaseModel):
    """The answer to a push: how far this kiosk's log is held without a gap."""

    acked_seq: int
    stored: int
    duplicates: int
    server_time: str
    clock_offset: float
    epoch: str


class RecordsOut(BaseModel):
    """A kiosk's own records as pushed, for `kiosk restore`."""

    epoch: str
    acked_seq: int
    more: bool
    records: list[dict[str, Any]]


class ChangesOut(BaseModel):
    """A page of changes after a cursor."""

    cursor: str
    more: bool
    server_time: str
    epoch: str
    acked_seq: int
    patrons: list[dict[str, Any]]
    items: list[dict[str, Any]]
    homes: list[dict[str, Any]] = []
    loans: list[dict[str, Any]]
    loans_removed: list[str]
    rules: Optional[dict[str, Any]]
    reading: list[dict[str, Any]] = []
    class_reading: list[dict[str, Any]] = []
    showcase: list[dict[str, Any]] = []
    recommendations: list[dict[str, Any]] = []
