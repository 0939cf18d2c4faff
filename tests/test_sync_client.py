"""The sync client against the contract of docs/sync-api.md, on loopback.

The central store here is `tests/contract_server.py`: real HTTP, scripted
faults. The tests against the real central store are in tests/test_sync.py.
"""

import logging
import random
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from urllib3.util.retry import RequestHistory

from kiosk import store
from kiosk.clock import SystemClock
from kiosk.config import parse_config
from kiosk.domain.errors import ConfigError
from kiosk.domain.events import Record
from sync.client import BACKOFF_MAX, SyncClient, make_session, retry_delay
from tests.contract_server import ContractServer

TOKEN = "k-door-0123456789abcdef-secret"
STAMP = {"at": "2026-11-23T01:00:00.000+00:00", "trusted": True, "boot_id": "b1", "monotonic": 1.0}


@pytest.fixture
def central():
    with ContractServer({"door": TOKEN, "cabinet-3a": "k-cabinet-secret"}) as server:
        yield server


def client_for(tmp_path, server, retries=2, token=TOKEN, kiosk_id="door", **central):
    db = store.init_db(tmp_path / "door.db", "door")
    config = parse_config({"kiosk": {"id": kiosk_id}, "central": {"url": server.url, "token": token, **central}},
                          "door.toml")
    return db, SyncClient(db, config, session=make_session(retries=retries, backoff=0.01))


def fill(db, count, kiosk_id="door"):
    store.append_records(db, kiosk_id, [Record("inventory", item_id=f"B{n:05d}") for n in range(count)], STAMP)


def posts(server):
    """The pushes (each round's hello is a POST too)."""
    return [r for r in server.seen if r["method"] == "POST" and r["path"].endswith("/records")]


def test_pending_records_go_in_batches_and_every_one_is_acknowledged(tmp_path, central):
    db, client = client_for(tmp_path, central, batch_size=1000)
    fill(db, 2345)
    assert client.run_once()
    assert [len(r["records"]) for r in posts(central)] == [1000, 1000, 345]
    assert central.held("door") == list(range(1, 2346))
    facts = store.status(db)
    assert facts["pending"] == 0 and facts["last_error"] == "" and facts["last_sync"].startswith("20")
    assert store.get_meta(db, "pushed_seq") == "2345" and store.get_meta(db, "online") == "1"
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in central.seen)


def test_server_errors_and_answers_lost_after_the_commit_are_retried_and_stored_once(tmp_path, central):
    db, client = client_for(tmp_path, central, retries=3, batch_size=100)
    fill(db, 250)
    central.fail("POST", 503, "drop-after-commit", 502)
    central.fail("GET", "drop-after-commit")
    assert client.run_once(), store.get_meta(db, "last_error")
    # Each batch went as often as it had to, and each record is held once.
    assert [r["records"][0] for r in posts(central)] == [1, 1, 1, 1, 101, 201]
    assert central.held("door") == list(range(1, 251))
    assert store.pending_count(db) == 0


@pytest.mark.parametrize("status", [401, 403, 409, 422])
def test_refusals_are_never_retried_and_say_why_without_the_token(tmp_path, central, status):
    db, client = client_for(tmp_path, central, retries=4)
    fill(db, 5)
    central.fail("POST", status)
    assert client.run_once() is False
    assert len(posts(central)) == 1  # sent once, not retried
    assert not [r for r in central.seen if r["method"] == "GET"]  # and no pull after a failed push
    error = store.get_meta(db, "last_error")
    assert str(status) in error and "scripted" in error and TOKEN not in error
    assert store.pending_count(db) == 5
    assert client.last_fatal and retry_delay(30, 1, client.last_fatal) == BACKOFF_MAX
    assert store.get_meta(db, "online") == "1"  # it was reached; it said no


def test_another_kiosks_token_stops_the_push(tmp_path, central):
    db, client = client_for(tmp_path, central, token="k-cabinet-secret")
    fill(db, 3)
    assert client.run_once() is False
    error = store.get_meta(db, "last_error")
    assert "refused this kiosk's token (403" in error and "k-cabinet-secret" not in error
    assert central.held("door") == [] and len(central.seen) == 1  # the round's hello, refused: nothing after


def test_a_central_store_that_does_not_answer_meets_the_timeout(tmp_path, central):
    db, client = client_for(tmp_path, central, retries=1, timeout=0.3)
    fill(db, 2)
    central.fail("POST", "stall", "stall")
    started = time.monotonic()
    assert client.run_once() is False
    assert time.monotonic() - started < 5
    assert len(posts(central)) == 2  # the first attempt and its one retry, each cut at 0.3 s
    assert "timed out" in store.get_meta(db, "last_error")
    assert store.get_meta(db, "online") == "0" and store.pending_count(db) == 2


def test_answers_that_break_the_contract_fail_the_round_not_the_process(tmp_path, central):
    db, client = client_for(tmp_path, central)
    fill(db, 2)
    central.fail("POST", 200)  # a 200 whose body has no acked_seq
    assert client.run_once() is False
    assert "no acked_seq" in store.get_meta(db, "last_error")
    central.pages = [["not", "a", "page"]]
    assert client.run_once() is False
    assert "not a JSON object" in store.get_meta(db, "last_error")
    central.pages = []
    assert client.run_once() and store.pending_count(db) == 0


def test_pages_are_applied_with_their_cursor_and_a_bad_page_changes_nothing(tmp_path, central):
    db, client = client_for(tmp_path, central)
    item = {"title": "Holes", "author": "", "call_number": "", "barcode": None, "home": "library",
            "status": "available"}
    central.pages = [
        {"items": [{**item, "id": "B1", "tag_uid": "04000000000001"}]},
        {"items": [{**item, "id": "B2", "tag_uid": "04000000000002"}],
         "loans": [{"item_id": "B2", "due": "2026-12-07"}]},  # no patron_id: the page cannot be applied
        {"items": [{**item, "id": "B3", "tag_uid": "04000000000003"}]},
    ]
    assert client.run_once() is False
    assert "after cursor 1" in store.get_meta(db, "last_error")
    assert store.item_by_uid(db, "04000000000001").id == "B1"
    assert store.item_by_uid(db, "04000000000002") is None  # nothing of the bad page
    assert store.get_meta(db, "pull_cursor") == "1"

    central.pages[1]["loans"] = [{"item_id": "B2", "patron_id": "S1", "due": "2026-12-07",
                                  "checked_out": "2026-11-23T09:00:00+08:00", "renewals": 0}]
    assert client.run_once()
    asked = [r["query"]["since"][0] for r in central.seen if r["method"] == "GET"]
    assert asked == ["0", "1", "1", "2"]  # resumed from the checkpoint, not from the start
    assert [store.item_by_uid(db, f"0400000000000{n}").id for n in (1, 2, 3)] == ["B1", "B2", "B3"]
    assert store.get_meta(db, "pull_cursor") == "3"


def test_a_pull_keeps_a_loan_the_central_store_has_not_heard_of(tmp_path, central):
    db, client = client_for(tmp_path, central)
    store.append_records(db, "door", [Record("checkout", patron_id="S1", item_id="B1", details={"due": "2026-12-07"})],
                         STAMP)
    loan = {"patron_id": "S9", "due": "2026-12-01", "checked_out": "2026-11-17T09:00:00+08:00", "renewals": 0}
    central.pages = [{"loans": [{**loan, "item_id": "B1"}, {**loan, "item_id": "B2"}]}]
    central.fail("POST", 503, 503, 503)  # the push fails: the checkout stays pending
    assert client.run_once() is False
    assert client.pull() == 2
    assert store.loan_of(db, "B1").patron_id == "S1"  # the kiosk's own, not yet pushed
    assert store.loan_of(db, "B2").patron_id == "S9"  # another kiosk's
    # Once pushed and acknowledged, the central store's word stands.
    central.pages.append({"loans_removed": ["B1"]})
    assert client.run_once()
    assert store.loan_of(db, "B1") is None


def test_records_lost_by_the_central_store_are_sent_again(tmp_path, central):
    db, client = client_for(tmp_path, central, batch_size=4)
    fill(db, 10)
    assert client.run_once()
    central.forget_after("door", 4)  # restored from last night's backup
    fill(db, 2)
    assert client.run_once(), store.get_meta(db, "last_error")
    assert central.held("door") == list(range(1, 13))
    assert store.pending_count(db) == 0


def test_the_central_stores_clock_lets_a_kiosk_without_a_clock_trust_its_time(tmp_path, monkeypatch):
    boot_file = tmp_path / "boot_id"
    boot_file.write_text("boot-one\n")
    monkeypatch.setattr("kiosk.clock.BOOT_ID_FILE", boot_file)
    never_synced = tmp_path / "synchronized"  # systemd's time-sync flag, absent
    with ContractServer({"door": TOKEN}, clock_ahead=3600) as server:
        db, client = client_for(tmp_path, server)
        clock = SystemClock(lambda: store.central_offset(db), timesync_flag=never_synced)
        assert clock.trusted is False
        assert client.run_once()
        assert store.get_meta(db, "central_offset_boot") == "boot-one"
        assert 3590 < float(store.get_meta(db, "central_offset")) < 3610
    # The screen process: trusted now, and an hour ahead of this Pi's clock.
    assert clock.trusted is True
    believed = clock.now()
    assert timedelta(minutes=59) < believed - datetime.now(timezone.utc) < timedelta(minutes=61)
    store.append_records(db, "door", [Record("inventory")], clock.stamp(believed))
    # Rebooted without network, the Pi believes it is 1970: the offset was for
    # the other boot, and no record is stamped before the last trusted time.
    boot_file.write_text("boot-two\n")
    rebooted = SystemClock(lambda: store.central_offset(db), timesync_flag=never_synced)
    assert rebooted.trusted is False
    stamp = rebooted.stamp(datetime(1970, 1, 1, tzinfo=timezone.utc), store.last_trusted_at(db))
    assert stamp["trusted"] is False and stamp["boot_id"] == "boot-two"
    assert datetime.fromisoformat(stamp["at"]) >= believed - timedelta(milliseconds=1)


def test_a_tap_in_the_middle_of_applying_a_page_waits_and_neither_fails(tmp_path, central):
    db, client = client_for(tmp_path, central)
    central.pages = [{"items": [{"id": "B1", "title": "Holes", "author": "", "call_number": "",
                                 "tag_uid": "04000000000001", "barcode": None, "home": "library",
                                 "status": "available"}]}]
    taps, screen = [], threading.Thread(target=lambda: taps.extend(
        store.append_records(store.open_db(tmp_path / "door.db"), "door", [Record("inventory")], STAMP)))

    def tap_while_applying(statement):
        # The page's transaction has begun and written: the screen process
        # commits a tap now, from its own connection.
        if "UPDATE items SET tag_uid = NULL" in statement and not screen.is_alive() and not taps:
            screen.start()
            screen.join(0.5)  # committed at once unless the page holds the write lock

    client.db.conn.set_trace_callback(tap_while_applying)
    assert client.run_once(), store.get_meta(db, "last_error")
    screen.join(10)
    assert taps == [1]  # the tap went in, after the page
    assert store.item_by_uid(db, "04000000000001").id == "B1" and store.get_meta(db, "pull_cursor") == "1"


def test_the_token_never_reaches_a_log_line(tmp_path, central, caplog):
    caplog.set_level(logging.DEBUG)
    db, client = client_for(tmp_path, central, retries=1)
    fill(db, 3)
    central.fail("POST", 503, 503, 401)
    assert client.run_once() is False  # a retried 503, then a 503 given up on
    assert client.run_once() is False  # a 401
    assert client.run_once()
    away = parse_config({"kiosk": {"id": "door"}, "central": {"url": "http://127.0.0.1:9", "token": TOKEN}},
                        "door.toml")
    assert SyncClient(db, away, session=make_session(retries=1, backoff=0.01)).run_once() is False  # no one there
    assert "sync failed" in caplog.text and "urllib3" in caplog.text  # the libraries did log
    assert TOKEN not in caplog.text
    assert all(TOKEN not in (value or "") for _, value in db.execute("SELECT key, value FROM meta"))


def test_a_config_naming_another_kiosk_is_refused_before_anything_is_sent(tmp_path, central):
    store.init_db(tmp_path / "door.db", "door")
    with pytest.raises(ConfigError, match=r"\[kiosk\] id is 'cabinet-3a', but this database belongs to kiosk 'door'"):
        client_for(tmp_path, central, kiosk_id="cabinet-3a")
    assert central.seen == []


def test_run_forever_syncs_at_once_when_woken_and_stops_when_told(tmp_path, central):
    stop, wake = threading.Event(), threading.Event()

    def sync_process():
        client_for(tmp_path, central)[1].run_forever(3600, stop, wake)

    thread = threading.Thread(target=sync_process)
    thread.start()
    try:
        assert central.wait_for(lambda s: [r["method"] for r in s.seen] == ["POST", "GET"])  # hello, pull
        fill(store.open_db(tmp_path / "door.db"), 3)
        wake.set()  # the staff screen's "sync now"
        assert central.wait_for(lambda s: s.held("door") == [1, 2, 3])
    finally:
        stop.set()
        wake.set()
        thread.join(10)
    assert not thread.is_alive()


@pytest.mark.parametrize("interval, failures, fatal, wait", [
    (30, 0, False, 30),      # after a success: the interval
    (30, 1, False, 60),      # then doubling
    (30, 3, False, 240),
    (30, 4, False, 300),     # capped
    (30, 50, False, 300),
    (0.2, 1, False, 0.4),
    (600, 2, False, 600),    # never shorter than the interval
    (30, 1, True, 300),      # a refusal only a person can fix: the longest wait at once
    (900, 1, True, 900),
])
def test_the_wait_between_rounds(interval, failures, fatal, wait):
    assert retry_delay(interval, failures, fatal) == pytest.approx(wait)


@pytest.mark.parametrize("errors, ceiling", [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (6, 10.0)])
def test_kiosks_answered_busy_together_come_back_apart(errors, ceiling):
    """Each wait is drawn between none and the capped exponential backoff: 400 kiosks answered 503 at one moment
    spread evenly over it instead of coming back together a fifth of a second apart."""
    random.seed(errors)
    retry = make_session().adapters["https://"].max_retries
    busy = (RequestHistory("POST", "/api/v1/kiosks/door/records", None, 503, None),) * errors
    waits = [retry.new(history=busy).get_backoff_time() for _ in range(400)]
    assert all(0 <= wait <= ceiling for wait in waits)
    quarters = Counter(min(3, int(4 * wait / ceiling)) for wait in waits)
    assert all(60 <= quarters[q] <= 140 for q in range(4)), quarters
    assert retry.get_backoff_time() == 0  # before any error, no wait
