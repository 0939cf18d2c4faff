"""`kiosk simulate`, `kiosk log` and `kiosk status`, through the command line."""

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from kiosk import store
from kiosk.cli import main

DEMO = Path(__file__).resolve().parent.parent / "kiosk" / "demo" / "files"
KEYS = {"input", "screen", "outcome", "reason", "patron", "item", "due", "record", "flagged", "led", "sound", "message"}


def run(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input)


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "kiosk.db"
    assert run("init", "--db", path, "--kiosk-id", "door-1").exit_code == 0
    assert run("import", "patrons", DEMO / "patrons.csv", "--db", path).exit_code == 0
    assert run("import", "items", DEMO / "items.csv", "--db", path).exit_code == 0
    return path


def simulate(tmp_path, db_path, script, *extra):
    path = tmp_path / "s.script"
    path.write_text(script, encoding="utf-8")
    result = run("simulate", path, "--db", db_path, *extra)
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result, lines


def test_a_checkout_and_a_return(tmp_path, db_path):
    result, lines = simulate(tmp_path, db_path, "at 2026-11-23T09:00:00+08:00\ntap 04a1b2c3\ntap 04112233445566\n"
                             "press done\nwait 6\ntap 04112233445566\n")
    assert result.exit_code == 0, result.output
    assert all(KEYS <= set(line) for line in lines)
    start, checkout, end, back = lines
    assert (start["outcome"], start["patron"], start["screen"]) == ("session_start", "S1001", "session")
    assert checkout["outcome"] == "checkout" and checkout["item"] == "B0001" and checkout["due"] == "2026-12-07"
    assert checkout["record"] == 1 and checkout["led"] == "ok" and checkout["sound"] == "ok"
    assert checkout["message"] == "Borrowed: Charlotte's Web. Please return it by Mon 7 Dec."
    assert end["outcome"] == "session_end" and end["screen"] == "summary"
    assert back["outcome"] == "return" and back["record"] == 2 and back["message"].startswith("Returned")
    log = [json.loads(line) for line in run("log", "--db", db_path).stdout.splitlines()]
    assert [(r["seq"], r["kind"], r["item_id"]) for r in log] == [(1, "checkout", "B0001"), (2, "return", "B0001")]
    assert log[0]["details"]["due"] == "2026-12-07" and log[0]["trusted"] is True and log[0]["kiosk_id"] == "door-1"
    status = json.loads(run("status", "--db", db_path).stdout)
    assert status["pending"] == 2 and status["loans"] == 0 and status["records"] == 2


def test_the_loan_survives_a_restart(tmp_path, db_path):
    simulate(tmp_path, db_path, "at 2026-11-23T09:00:00+08:00\ntap 04A1B2C3\ntap 04112233445566\n")
    _, lines = simulate(tmp_path, db_path, "at 2026-11-23T10:00:00+08:00\ntap 04A1B2C3\ntap 04112233445566\n")
    assert (lines[1]["outcome"], lines[1]["reason"], lines[1]["due"]) == ("info", "already_yours", "2026-12-07")
    _, lines = simulate(tmp_path, db_path, "at 2026-11-25T10:00:00+08:00\ntap 04A1B2C3\ntap 04112233445566\n")
    assert lines[1]["outcome"] == "renew" and lines[1]["due"] == "2026-12-09"


def test_refusal_reasons_are_stable_codes(tmp_path, db_path):
    _, lines = simulate(tmp_path, db_path, "at 2026-11-23T09:00:00+08:00\ntap 2C3D4E5F\ntap 04112233445566\n"
                        "press done\nwait 6\ntap 3D4E5F60\ntap 04112233445566\npress done\nwait 6\n"
                        "tap 04A1B2C3\ntap 04BBCCDDEEFF00\ntap 04CCDDEEFF0011\n")
    refused = [(line["reason"], line["item"]) for line in lines if line["outcome"] == "refused"]
    assert refused == [("card_blocked", "B0001"), ("card_expired", "B0001"),
                       ("item_unavailable", "B0011"), ("item_unavailable", "B0012")]


def test_unknown_tag_and_bad_read(tmp_path, db_path):
    _, lines = simulate(tmp_path, db_path, "tap 04DEADBEEF0001\n")
    assert lines[0]["outcome"] == "unknown_tag" and lines[0]["record"] == 1
    assert lines[0]["message"] == "Please give this to the librarian" and lines[0]["sound"] == "librarian"


def test_chinese_after_the_language_button(tmp_path, db_path):
    _, lines = simulate(tmp_path, db_path, "press lang\ntap 1B2C3D4E\n")
    assert lines[-1]["language"] == "zh_CN" and lines[-1]["patron"] == "S1003"


def test_a_bad_line_stops_with_its_number_and_keeps_what_was_done(tmp_path, db_path):
    result, lines = simulate(tmp_path, db_path, "tap 04A1B2C3\ntap 04112233445566\n# fine\nfly away\ntap 0A0B0C0D\n")
    assert result.exit_code != 0
    assert "line 4" in result.stderr and "unknown command 'fly'" in result.stderr
    assert [line["outcome"] for line in lines] == ["session_start", "checkout"]
    assert json.loads(run("status", "--db", db_path).stdout)["loans"] == 1


@pytest.mark.parametrize("line, words", [
    ("tap 04A1B2", "hex digits"), ("wait soon", "not a number"), ("at yesterday", "not a date"),
    ("press eject", "no button 'eject'"), ("reader melt", "'reader' takes"), ("tap", "needs a tag UID"),
])
def test_bad_lines_are_named(tmp_path, db_path, line, words):
    result, _ = simulate(tmp_path, db_path, "# comment\n" + line + "\n")
    assert result.exit_code != 0 and "line 2" in result.stderr and words in result.stderr


def test_a_bad_config_is_named(tmp_path, db_path):
    cfg = tmp_path / "k.toml"
    cfg.write_text('[kiosk]\nrole = "shed"\n')
    result, _ = simulate(tmp_path, db_path, "tap 04A1B2C3\n", "--config", cfg)
    assert result.exit_code != 0 and str(cfg) in result.stderr and "[kiosk] role" in result.stderr


def test_a_cabinet_config_opens_the_lock_and_refuses_transfers(tmp_path, db_path):
    cfg = tmp_path / "k.toml"
    cfg.write_text('[kiosk]\nid = "cab-3a"\nrole = "cabinet"\nhome = "class-3a"\non_loan_to_other = "refuse"\n'
                   "[hardware]\nhas_lock = true\nlock_seconds = 7\n")
    _, lines = simulate(tmp_path, db_path, "tap 04A1B2C3\ntap 048899AABBCCDD\npress done\nwait 6\n"
                        "tap 0A0B0C0D\ntap 048899AABBCCDD\n", "--config", cfg)
    assert lines[0]["unlock"] == 7
    assert lines[-1]["outcome"] == "refused" and lines[-1]["reason"] == "on_loan_to_other"


def test_the_database_is_durable_by_construction(tmp_path, db_path):
    db = store.open_db(db_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    names = {r["name"] for r in db.query("SELECT name FROM _sqlite_migrations")}
    assert "0001_tables" in names


def test_init_refuses_to_change_a_kiosk_id(tmp_path, db_path):
    result = run("init", "--db", db_path, "--kiosk-id", "cab-9")
    assert result.exit_code != 0 and "belongs to kiosk 'door-1'" in result.stderr


def test_log_is_append_only_json_lines(tmp_path, db_path):
    simulate(tmp_path, db_path, "tap 04DEADBEEF0001\nwait 3\ntap 04DEADBEEF0002\n")
    raw = sqlite3.connect(db_path)
    assert [r[0] for r in raw.execute("SELECT seq FROM log ORDER BY seq")] == [1, 2]
    records = [json.loads(line) for line in run("log", "--db", db_path).stdout.splitlines()]
    assert [r["details"]["uid"] for r in records] == ["04DEADBEEF0001", "04DEADBEEF0002"]


def test_the_demo_script_runs(tmp_path, db_path):
    result = run("simulate", DEMO / "demo.script", "--db", db_path)
    assert result.exit_code == 0, result.output
    outcomes = {json.loads(line)["outcome"] for line in result.stdout.splitlines()}
    assert {"checkout", "return", "refused", "session_end", "unknown_tag", "staff"} <= outcomes


def test_a_tick_with_a_session_timeout_and_a_door_alarm_prints_both(tmp_path, db_path):
    config = tmp_path / "cabinet.toml"
    config.write_text('[kiosk]\nid = "door-1"\nrole = "cabinet"\nhome = "class-3a"\nsession_timeout = 60\n'
                      '[hardware]\nhas_lock = true\ndoor_alarm_seconds = 60\n')
    result, lines = simulate(tmp_path, db_path, "at 2026-11-23T09:00:00+08:00\ntap 04A1B2C3\ndoor open\nwait 60\n",
                             "--config", config)
    assert result.exit_code == 0, result.output
    assert [(x["outcome"], x["reason"]) for x in lines[-2:]] == [("session_end", "timeout"),
                                                                 ("info", "door_open_too_long")]
