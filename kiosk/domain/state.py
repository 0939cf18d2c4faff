"""What the state machine knows: its kiosk's configuration and where it is now."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kiosk.domain.model import Loan, Patron, Policy
from kiosk.domain.view import LANGUAGES, Book, KioskStatus, Progress, Slide, View

__all__ = ["LANGUAGES", "MachineConfig", "State"]


@dataclass(frozen=True)
class MachineConfig:
    """What the machine needs to know about its kiosk and the rules.

    `homes` maps a home's id to its name (pulled from the central store);
    a home without one is shown in a readable form of its id.
    """

    kiosk_id: str = "demo-door"
    kiosk_name: str = "Library door"
    role: str = "door"
    home: str = "library"
    language: str = "en"
    policy: Policy = Policy()
    on_loan_to_other: str = "transfer"
    session_timeout: float = 20.0
    staff_timeout: float = 300.0
    debounce: float = 2.0
    result_seconds: float = 4.0
    has_lock: bool = False
    lock_seconds: float = 5.0
    door_alarm_seconds: float = 60.0
    homes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config, policy: Policy | None = None, homes: dict[str, str] | None = None) -> "MachineConfig":
        """Build from a `kiosk.config.Config`; `policy` overrides its [policy], `homes` names the homes."""
        k, hw = config.kiosk, config.hardware
        return cls(
            kiosk_id=k.id,
            kiosk_name=k.name,
            role=k.role,
            home=k.home,
            language=k.language,
            policy=policy or config.policy,
            on_loan_to_other=k.on_loan_to_other,
            session_timeout=k.session_timeout,
            debounce=k.debounce,
            result_seconds=k.result_seconds,
            has_lock=hw.has_lock,
            lock_seconds=hw.lock_seconds,
            door_alarm_seconds=hw.door_alarm_seconds,
            homes=dict(homes or {}),
        )


@dataclass(frozen=True)
class State:
    """Where the kiosk is. `view` is what the screen shows now.

    `language` is the one chosen on screen; it lasts until the kiosk is back
    at idle after a session, then the kiosk's own language returns.
    `progress_start` is the student's count when the session began, so the
    summary can praise a milestone crossed in it.
    """

    mode: str
    language: str
    view: View
    patron: Patron | None = None
    loans: tuple[Loan, ...] = ()
    touched: tuple[str, ...] = ()  # item ids borrowed or renewed this session
    last_activity: datetime | None = None
    until: datetime | None = None
    last_uid: str | None = None
    last_uid_at: datetime | None = None
    task: str | None = None  # the staff task under way: inventory or receive (kiosk.domain.staff)
    counted: frozenset[str] = frozenset()  # item ids counted or received in that task
    unknown_tags: tuple[tuple[str, str], ...] = ()
    status: KioskStatus = field(default_factory=KioskStatus)
    door_open_since: datetime | None = None
    door_alarmed: bool = False
    progress: Progress | None = None
    progress_start: int = 0
    slides: tuple[Slide, ...] = ()
    query: str = ""
    found: tuple[Book, ...] = ()
