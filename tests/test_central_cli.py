"""The kiosk-central command through its runner: tokens, imports, reports."""

import csv
import io
import json
from pathlib import Path

from click.testing import CliRunner

from sync.server import db as store
from sync.server.cli import main

DEMO = Path(__file__).resolve().parent.parent / "kiosk" / "demo" / "files"


def run(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def test_add_kiosk_prints_the_token_once_and_keeps_only_its_hash(store_url):
    db_path = store_url
    assert run("init", "--db", db_path).exit_code == 0
    result = run("add-kiosk", "door", "--db", db_path)
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert len(token) >= 40
    db = store.open_db(db_path)
    assert store.kiosk_for_token(db, token) == "door"
    assert token not in json.dumps(list(db.query("SELECT * FROM kiosks")))
    again = run("add-kiosk", "door", "--db", db_path)
    assert again.exit_code == 1 and "already registered" in again.output
    renewed = run("add-kiosk", "door", "--db", db_path, "--new-token")
    assert renewed.exit_code == 0 and store.kiosk_for_token(db, token) is None
    assert run("add-kiosk", "door 2", "--db", db_path).exit_code == 1


def test_imports_are_all_or_nothing_with_every_bad_row_named(tmp_path, store_url):
    db_path = store_url
    assert run("init", "--db", db_path).exit_code == 0
    assert run("import", "patrons", DEMO / "patrons.csv", "--db", db_path).exit_code == 0
    bad = tmp_path / "items.csv"
    bad.write_text("id,title,author,call_number,tag_uid,barcode,home,status\n"
                   "B1,Holes,,,04445566778899,,library,available\n"
                   "B2,,,,,,library,available\n"
                   "B3,Matilda,,,04A1B2C3,,library,shredded\n")
    result = run("import", "items", bad, "--db", db_path)
    assert result.exit_code == 1
    for expected in ("line 3: title is missing", "line 4: tag_uid 04A1B2C3 is already the tag of patron S1001",
                     "line 4: status 'shredded'"):
        assert expected in result.output
    assert store.open_db(db_path).execute("SELECT COUNT(*) FROM items").fetchone()[0] == 0


def seeded(db_path):
    run("init", "--db", db_path)
    run("import", "patrons", DEMO / "patrons.csv", "--db", db_path)
    run("import", "items", DEMO / "items.csv", "--db", db_path)
    db = store.open_db(db_path)
    store.add_kiosk(db, "door")
    records = [
        {"seq": 1, "kind": "checkout", "at": "2026-11-02T01:00:00+00:00", "trusted": True, "patron_id": "S1001",
         "item_id": "B0001", "details": {"due": "2026-11-16"}},
        {"seq": 2, "kind": "checkout", "at": "2026-11-20T01:00:00+00:00", "trusted": True, "patron_id": "S1002",
         "item_id": "B0002", "details": {"due": "2026-12-04"}},
        {"seq": 3, "kind": "return", "at": "2026-11-21T01:00:00+00:00", "trusted": True, "item_id": "B0004"},
    ]
    store.push(db, "door", {"sent_at": "2026-11-22T01:00:00+00:00", "boot_id": "b", "monotonic": 5.0,
                            "records": records})
    return db_path


def test_reports_as_table_json_and_csv(store_url):
    db_path = seeded(store_url)
    table = run("report", "loans", "--db", db_path, "--today", "2026-11-23")
    assert table.exit_code == 0 and "Charlotte's Web" in table.output and "Matilda" in table.output
    overdue = [json.loads(line) for line in
               run("report", "overdue", "--db", db_path, "--json", "--today", "2026-11-23").output.splitlines()]
    assert [(r["item_id"], r["patron_name"], r["days_overdue"]) for r in overdue] == [("B0001", "Mia Chen", 7)]
    rows = list(csv.DictReader(io.StringIO(run("report", "log", "--db", db_path, "--csv").output)))
    assert [r["seq"] for r in rows] == ["1", "2", "3"] and rows[0]["kind"] == "checkout"
    flagged = [json.loads(line) for line in run("report", "flagged", "--db", db_path, "--json").output.splitlines()]
    assert [(r["item_id"], r["reason"]) for r in flagged] == [("B0004", "return_not_on_loan")]


def test_report_on_a_missing_database_says_so(tmp_path):
    result = run("report", "loans", "--db", tmp_path / "nope.db")
    assert result.exit_code == 1 and "no such database" in result.output
    assert not (tmp_path / "nope.db").exists()
