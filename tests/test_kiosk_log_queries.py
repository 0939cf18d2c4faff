"""A card tap reads the patron's own records, not the kiosk's whole log, however long it grows.

Counted in SQLite's virtual machine steps (tests/steps.py), which do not
depend on the machine or its load. A student's reading progress (books this term, the
class's this month) counts the kiosk's own checkouts to her: without
statistics the planner took the log's primary key, whose kiosk id is every
record of a kiosk's own log (160 ms a card tap at 500,000 records).
"""

from datetime import datetime, timedelta, timezone

from hardware.fake import FakeLights, FakeLock, FakeSounder
from kiosk import store
from kiosk.app import Kiosk
from kiosk.clock import ScriptClock
from kiosk.config import Config
from kiosk.domain.events import Record
from tests.steps import vm_steps

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=8)))
STAMP = {"at": "2026-11-01T00:00:00.000+00:00", "trusted": True, "boot_id": "b", "monotonic": 1.0}


def kiosk_with_a_log(path, records: int) -> Kiosk:
    db = store.init_db(path, "door")
    db["patrons"].insert_all([{"id": f"S{n}", "name": f"Student {n}", "type": "student", "class_name": "3B",
                               "card_uid": f"{0x10000000 + n:08X}", "status": "active", "expires": None}
                              for n in range(30)])
    for first in range(0, records, 5000):
        store.append_records(db, "door", [Record("refused", patron_id=f"S{n % 30}", item_id=f"B{n}",
                                                 details={"reason": "limit_reached"})
                                          for n in range(first, min(records, first + 5000))], STAMP)
    clock = ScriptClock()
    clock.set(NOW)
    return Kiosk(db, Config(), clock, lights=FakeLights(), sounder=FakeSounder(), lock=FakeLock())


def steps_of_a_card_tap(kiosk: Kiosk) -> int:
    """Hundreds of virtual machine steps a student's card tap takes."""
    outcomes = []
    steps = vm_steps(kiosk.db, lambda: outcomes.append(kiosk.tap(f"{0x10000000 + 7:08X}", NOW)))
    assert outcomes[0]["outcome"] == "session_start"
    return steps


def test_a_card_tap_reads_as_much_at_30000_records_as_at_300(tmp_path):
    short = steps_of_a_card_tap(kiosk_with_a_log(tmp_path / "short.db", 300))
    long = steps_of_a_card_tap(kiosk_with_a_log(tmp_path / "long.db", 30000))
    assert long <= 2 * short + 10
