"""The sync process against the real central store on loopback.

Kiosks here are the real `Kiosk` driven by scripts, each with its own
database; the central store runs in uvicorn on 127.0.0.1.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kiosk import store
from kiosk.app import Kiosk, run_script
from kiosk.clock import ScriptClock
from kiosk.config import parse_config
from kiosk.domain.events import Record
from sync.server import db as central_db
from sync.client import SyncClient, SyncError, make_session
from tests.faultproxy import FaultProxy
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "kiosk" / "demo" / "files"
KIOSK = [sys.executable, "-m", "kiosk.cli"]


@pytest.fixture
def central(demo_central):
    return demo_central


def config_for(kiosk_id, url, token, **central):
    role = "door" if kiosk_id == "door" else "cabinet"
    home = "library" if kiosk_id == "door" else kiosk_id
    return parse_config({"kiosk": {"id": kiosk_id, "role": role, "home": home},
                         "central": {"url": url, "token": token, **central}}, f"{kiosk_id}.toml")


class Site:
    """One kiosk: its database, its scripted front and its sync client."""

    def __init__(self, tmp_path, central, kiosk_id, url=None, session=None, token=None, **central_options):
        self.path = tmp_path / f"{kiosk_id}.db"
        self.db = store.init_db(self.path, kiosk_id)
        self.config = config_for(kiosk_id, url or central.url, token or central.tokens[kiosk_id], **central_options)
        self.sync = SyncClient(self.db, self.config, session=session)

    def run(self, script: str) -> list[dict]:
        clock = ScriptClock()
        kiosk = Kiosk(self.db, self.config, clock)
        outcomes = []
        run_script(kiosk, clock, script.strip().splitlines(), outcomes.append)
        return outcomes

    def loans(self) -> dict:
        return dict(self.db.execute("SELECT item_id, patron_id FROM loans").fetchall())


def central_loans(central) -> dict:
    return dict(central.db.execute("SELECT item_id, patron_id FROM loans").fetchall())


def test_three_kiosks_offline_then_synced_converge_with_cross_kiosk_returns(tmp_path, central):
    door, cab3, cab4 = (Site(tmp_path, central, k) for k in ("door", "cabinet-3a", "cabinet-4b"))
    for site in (door, cab3, cab4):
        assert site.sync.run_once(), store.get_meta(site.db, "last_error")
    assert store.patron_by_uid(cab3.db, "04A1B2C3").name == "Mia Chen"  # the catalog arrived

    # Offline: Mia borrows two books at her class cabinet; Ben one at the door.
    lent = cab3.run("at 2026-11-23T09:00:00+08:00\ntap 04A1B2C3\ntap 04112233445566\nwait 3\ntap 04223344556677\n"
                    "press done")
    assert [o["outcome"] for o in lent if o["outcome"] == "checkout"] == ["checkout", "checkout"]
    door.run("at 2026-11-23T09:30:00+08:00\ntap 0A0B0C0D\ntap 04334455667788\npress done")
    # Still offline, Mia brings Charlotte's Web back to the door, which has not heard of the loan.
    back = door.run("at 2026-11-23T11:00:00+08:00\ntap 04112233445566")
    assert back[-1]["reason"] == "not_on_loan"

    # The door reaches the central store first, then the cabinet.
    assert door.sync.run_once() and cab3.sync.run_once()
    assert central_loans(central) == {"B0002": "S1001", "B0003": "S1002"}
    assert central.db.execute("SELECT COUNT(*) FROM merge_flags").fetchone()[0] == 0
    for site in (door, cab3, cab4):
        assert site.sync.run_once()
        assert site.loans() == central_loans(central), site.config.kiosk.id
        assert store.pending_count(site.db) == 0
    # Mia's allowance at the door now counts the cabinet's loan.
    at_door = door.run("at 2026-11-23T12:00:00+08:00\ntap 04A1B2C3")
    assert at_door[-1]["outcome"] == "session_start"
    assert store.loans_of(door.db, "S1001")[0].item_id == "B0002"


def test_offline_sync_fails_softly_and_says_why(tmp_path, central):
    port = free_port()  # nothing listens there
    site = Site(tmp_path, central, "door", url=f"http://127.0.0.1:{port}", session=make_session(retries=0))
    site.run("at 2026-11-23T09:00:00+08:00\ntap 04DEADBEEF0001")
    assert site.sync.run_once() is False
    facts = store.status(site.db)
    assert facts["pending"] == 1 and facts["last_sync"] is None
    # One short line a person can act on, not urllib3's retry text.
    assert facts["last_error"] == (f"the central store at http://127.0.0.1:{port} did not answer "
                                   "(connection refused); 1 record waits")
    assert store.get_meta(site.db, "online") == "0"


def test_a_kiosk_with_another_kiosks_token_is_refused_and_the_token_stays_secret(tmp_path, central, caplog):
    site = Site(tmp_path, central, "door", token=central.tokens["cabinet-3a"])
    site.run("at 2026-11-23T09:00:00+08:00\ntap 04DEADBEEF0001")
    assert site.sync.run_once() is False
    error = store.get_meta(site.db, "last_error")
    assert "refused this kiosk's token (403" in error
    assert central.tokens["cabinet-3a"] not in error and central.tokens["cabinet-3a"] not in caplog.text
    assert central.db.execute("SELECT COUNT(*) FROM log").fetchone()[0] == 0
    assert store.pending_count(site.db) == 1


def test_two_kiosks_with_offline_periods_converge_whichever_syncs_first(tmp_path, central):
    door, cab3 = Site(tmp_path, central, "door"), Site(tmp_path, central, "cabinet-3a")
    for site in (door, cab3):
        assert site.sync.run_once(), store.get_meta(site.db, "last_error")

    def sync_both(first, second):
        for site in (first, second, first):  # the first learns what the second pushed
            assert site.sync.run_once(), store.get_meta(site.db, "last_error")
        assert door.loans() == cab3.loans() == central_loans(central)
        assert central.db.execute("SELECT COUNT(*) FROM merge_flags").fetchone()[0] == 0
        return central_loans(central)

    # Offline: Mia borrows Charlotte's Web at the cabinet; Ben borrows The
    # Hobbit at the door; Mia brings Charlotte's Web back to the door, which
    # has not heard of her loan.
    cab3.run("at 2026-11-23T09:00:00+08:00\ntap 04A1B2C3\ntap 04112233445566\npress done")
    door.run("at 2026-11-23T09:30:00+08:00\ntap 0A0B0C0D\ntap 04334455667788\npress done")
    assert door.run("at 2026-11-23T11:00:00+08:00\ntap 04112233445566")[-1]["reason"] == "not_on_loan"
    assert sync_both(cab3, door) == {"B0003": "S1002"}

    # Offline again: Ben returns The Hobbit at the cabinet, which knows of
    # his loan now; Mia borrows Matilda at the door. The door syncs first.
    assert cab3.run("at 2026-11-24T08:00:00+08:00\ntap 04334455667788")[-1]["outcome"] == "return"
    door.run("at 2026-11-24T08:30:00+08:00\ntap 04A1B2C3\ntap 04223344556677\npress done")
    assert sync_both(door, cab3) == {"B0002": "S1001"}
    assert store.pending_count(door.db) == store.pending_count(cab3.db) == 0


def test_a_batch_whose_answer_was_lost_after_the_commit_is_stored_once(tmp_path, central):
    with FaultProxy(("127.0.0.1", central.port)) as proxy:
        site = Site(tmp_path, central, "door", url=proxy.url, session=make_session(retries=0), batch_size=100)
        fill(site.db, "door", 250)
        site.sync.hello()  # the round begins
        proxy.cut_answers(1)
        with pytest.raises(SyncError, match="did not answer"):
            site.sync.push()  # the first batch was stored; its answer never came
        assert held(central, "door") == (100, 100, 100)
        assert store.pending_count(site.db) == 250
        assert site.sync.run_once()  # sent again: the first 100 are duplicates, the rest new
    assert proxy.counts["cut"] == 1
    assert held(central, "door") == (250, 250, 250)
    assert store.pending_count(site.db) == 0 and store.get_meta(site.db, "last_error") == ""


def write_config(tmp_path, central, kiosk_id, **central_options):
    path = tmp_path / f"{kiosk_id}.toml"
    options = "".join(f"{k} = {v!r}\n" for k, v in central_options.items())
    path.write_text(f'[kiosk]\nid = "{kiosk_id}"\n[central]\nurl = "{central.url}"\n'
                    f'token = "{central.tokens[kiosk_id]}"\n{options}')
    return path


@pytest.mark.slow
def test_kiosk_sync_once_exits_zero_only_when_everything_went(tmp_path, central):
    site = Site(tmp_path, central, "door")
    assert site.sync.run_once()  # the catalog first
    site.run("at 2026-11-23T09:00:00+08:00\ntap 04A1B2C3\ntap 04112233445566\npress done")
    cfg = write_config(tmp_path, central, "door")
    done = subprocess.run(KIOSK + ["sync", "--db", str(site.path), "--config", str(cfg), "--once"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "pending 0" in done.stdout
    status = subprocess.run(KIOSK + ["status", "--db", str(site.path)], capture_output=True, text=True, cwd=ROOT)
    assert '"pending": 0' in status.stdout and '"last_sync": "20' in status.stdout
    assert central_loans(central) == {"B0001": "S1001"}

    def once(config_text):
        cfg.write_text(config_text)
        return subprocess.run(KIOSK + ["sync", "--db", str(site.path), "--config", str(cfg), "--once"],
                              capture_output=True, text=True, cwd=ROOT)

    good = cfg.read_text()
    site.run("at 2026-11-23T10:00:00+08:00\ntap 04DEADBEEF0001")  # one record waits
    refused = once(good.replace(central.tokens["door"], "wrong-token"))
    assert refused.returncode == 1
    assert "401" in refused.stdout and "pending 1" in refused.stdout
    assert "wrong-token" not in refused.stdout + refused.stderr
    nowhere = once('[kiosk]\nid = "door"\n')
    assert nowhere.returncode == 1 and "[central] url is not set" in nowhere.stderr
    other = once(good.replace('id = "door"', 'id = "cabinet-3a"'))
    assert other.returncode == 1 and "belongs to kiosk 'door'" in other.stderr
    assert once(good).returncode == 0


def fill(db, kiosk_id, count, chunk=2000):
    """`count` records in the kiosk's log, written directly (the taps are not the point here)."""
    stamp = {"at": datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc).isoformat(), "trusted": True,
             "boot_id": "boot", "monotonic": 1.0}
    for start in range(0, count, chunk):
        store.append_records(db, kiosk_id, [Record("inventory", item_id=f"B{n:05d}")
                                            for n in range(start, min(count, start + chunk))], stamp)


def held(central, kiosk_id):
    return central.db.execute("SELECT COUNT(*), COUNT(DISTINCT seq), MAX(seq) FROM log WHERE kiosk_id = ?",
                              [kiosk_id]).fetchone()


@pytest.mark.slow
def test_the_sync_process_killed_mid_batch_resumes_and_stores_each_record_once(tmp_path, central):
    site = Site(tmp_path, central, "door")
    fill(site.db, "door", 6000)
    cfg = write_config(tmp_path, central, "door", batch_size=100, interval=0.2)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(KIOSK + ["sync", "--db", str(site.path), "--config", str(cfg)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while held(central, "door")[0] < 1500 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    count_at_kill = held(central, "door")[0]
    assert 0 < count_at_kill < 6000, "the kill should land mid-way"
    # Restarted, as systemd would: it resumes from its checkpoint.
    again = subprocess.Popen(KIOSK + ["sync", "--db", str(site.path), "--config", str(cfg)], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while store.pending_count(site.db) and time.monotonic() < deadline:
        time.sleep(0.02)
    again.send_signal(signal.SIGTERM)
    output = again.communicate(timeout=20)[0]
    assert again.returncode == 0, output  # SIGTERM ends it cleanly
    assert held(central, "door") == (6000, 6000, 6000)
    assert store.pending_count(site.db) == 0


@pytest.mark.slow
def test_twenty_thousand_records_through_a_bad_network_arrive_exactly_once(tmp_path, central):
    sizes = {"door": 8000, "cabinet-3a": 6000, "cabinet-4b": 6000}
    with FaultProxy(("127.0.0.1", central.port), drop=0.1, cut=0.08, delay=0.05, seed=7) as proxy:
        left, attempts = {}, {}

        def kiosk(kiosk_id):
            """One kiosk's sync process: its own thread and connection, as on a Pi."""
            site = Site(tmp_path, central, kiosk_id, url=proxy.url, session=make_session(retries=3, backoff=0.01),
                        batch_size=250)
            fill(site.db, kiosk_id, sizes[kiosk_id])
            for attempts[kiosk_id] in range(1, 200):
                if site.sync.run_once():
                    break
            left[kiosk_id] = (store.pending_count(site.db), store.get_meta(site.db, "last_error"))

        threads = [threading.Thread(target=kiosk, args=(k,)) for k in sizes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(240)
    assert proxy.counts["cut"] > 0 and proxy.counts["dropped"] > 0  # the network really was bad
    for kiosk_id, size in sizes.items():
        assert held(central, kiosk_id) == (size, size, size)
        assert left[kiosk_id][0] == 0, left[kiosk_id]
        answer = central.db.execute("SELECT acked_seq FROM kiosks WHERE id = ?", [kiosk_id]).fetchone()[0]
        assert answer == size


def test_a_running_kiosk_picks_up_new_rules_at_the_next_sync(tmp_path, central):
    from kiosk.domain.policy import parse_policy

    site = Site(tmp_path, central, "door")
    assert site.sync.run_once()
    clock = ScriptClock(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))
    kiosk = Kiosk(site.db, site.config, clock)
    kiosk.tap("04A1B2C3")
    first = kiosk.tap("04112233445566")
    assert first["due"] == "2026-12-07"  # 14 days for a student
    central_db.set_rules(central.db, parse_policy({"student": {"loan_days": 21}}))
    assert site.sync.run_once()  # the sync process, beside the running kiosk
    clock.advance(10)
    kiosk.tick()
    second = kiosk.tap("04223344556677")
    assert second["outcome"] == "checkout" and second["due"] == "2026-12-14"  # 21 days now
