"""A clock the kiosk cannot trust: due dates from the floor, the floor in O(1), the central store's correction."""

import json
from datetime import datetime, timezone
from pathlib import Path

from kiosk import store
from kiosk.domain.events import Record
from sync.server import db as central_db
from tests.steps import vm_steps
from tests.test_simulate import run

DEMO = Path(__file__).resolve().parent.parent / "kiosk" / "demo" / "files"


def kiosk_db(tmp_path):
    path = tmp_path / "kiosk.db"
    assert run("init", "--db", path, "--kiosk-id", "door").exit_code == 0
    assert run("import", "patrons", DEMO / "patrons.csv", "--db", path).exit_code == 0
    assert run("import", "items", DEMO / "items.csv", "--db", path).exit_code == 0
    return path


def simulate(tmp_path, db_path, script):
    path = tmp_path / "s.script"
    path.write_text(script)
    result = run("simulate", path, "--db", db_path)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_kiosk_booted_in_1970_lends_from_its_floor_and_nobody_is_overdue_for_it(tmp_path):
    db_path = kiosk_db(tmp_path)
    lines = simulate(tmp_path, db_path, """
at 2026-11-20T09:00:00+08:00
tap 04A1B2C3
tap 04112233445566
press done
# A reboot with no clock and no network: the Pi believes it is 1970.
at 1970-01-01T00:00:05+00:00 untrusted
wait 30
tap 0A0B0C0D
tap 04223344556677
press done
# The time is set again (NTP); Ben comes back the next day.
at 2026-11-21T09:00:00+08:00
tap 0A0B0C0D
""")
    first, second = [o for o in lines if o["outcome"] == "checkout"]
    assert first["due"] == "2026-12-04"
    assert second["due"] == "2026-12-04"  # 14 days from the floor (20 Nov), never "1970-01-15"
    assert "4 Dec" in second["message_en"]
    back = lines[-1]
    assert back["outcome"] == "session_start" and back["reason"] is None  # not refused as 20,000 days late
    records = [json.loads(line) for line in run("log", "--db", db_path).stdout.splitlines()]
    assert [r["trusted"] for r in records] == [True, False]
    assert records[1]["at"] >= records[0]["at"]  # never stamped before the last trusted time


def test_at_takes_only_untrusted_after_the_time(tmp_path):
    db_path = kiosk_db(tmp_path)
    path = tmp_path / "s.script"
    path.write_text("at 2026-11-20T09:00:00+08:00 maybe\n")
    result = run("simulate", path, "--db", db_path)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"kiosk: {path}: line 1: after the time, 'at' takes only 'untrusted', not 'maybe'"


def floor_cost(db) -> int:
    """SQLite VM steps spent finding the floor: what grows if the lookup walks the log."""
    return vm_steps(db, lambda: store.last_trusted_at(db), every=1)


def test_the_floor_costs_the_same_however_many_untrusted_records_follow_it(tmp_path):
    trusted = {"at": "2026-11-20T01:00:00.000+00:00", "trusted": True, "boot_id": "b1", "monotonic": 1.0}
    untrusted = {"at": "2026-11-20T01:00:00.000+00:00", "trusted": False, "boot_id": "b2", "monotonic": 2.0}
    costs = []
    for count in (50, 5000):
        db = store.init_db(tmp_path / f"k{count}.db", "door")
        store.append_records(db, "door", [Record("inventory")], trusted)
        store.append_records(db, "door", [Record("inventory")] * count, untrusted)
        store.append_records(db, "door", [Record("inventory")], untrusted)
        assert store.last_trusted_at(db) == trusted["at"]
        costs.append(floor_cost(db))
    assert costs[0] == costs[1], costs  # a backward walk would cost a hundred times more for the longer log


def test_the_central_store_recomputes_an_untrusted_due_date_from_the_corrected_time(tmp_path):
    db = central_db.init_db(tmp_path / "central.db")
    central_db.add_kiosk(db, "door")
    central_db.import_csv(db, "patrons", (DEMO / "patrons.csv").read_text(), "patrons.csv")
    central_db.import_csv(db, "items", (DEMO / "items.csv").read_text(), "items.csv")
    # Lent with an untrusted clock, stamped at the floor (20 Nov) 900 s of
    # monotonic time before the push that the store receives at noon on 25 Nov.
    record = {"seq": 1, "kind": "checkout", "at": "2026-11-20T01:00:00+00:00", "trusted": False, "boot_id": "b2",
              "monotonic": 100.0, "patron_id": "S1001", "item_id": "B0001", "details": {"due": "2026-12-04"}}
    central_db.push(db, "door", {"sent_at": "1970-01-01T00:20:00+00:00", "boot_id": "b2", "monotonic": 1000.0,
                                 "records": [record]}, now=datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc))
    logged = list(central_db.log_records(db))
    assert logged[0]["corrected_at"].startswith("2026-11-25T11:45")
    assert logged[0]["corrected_due"] == "2026-12-09"  # 14 days from the corrected day, not from the floor
    assert json.loads(logged[0]["details"])["due"] == "2026-12-04"  # the kiosk's record stays as it was
    loans = central_db.current_loans(db, datetime(2026, 12, 7).date())
    assert [(r["item_id"], r["due"], r["days_overdue"]) for r in loans] == [("B0001", "2026-12-09", 0)]
