"""Restores, on both sides: the central store put back from an older backup, and a kiosk whose card died.

The central store runs for real on loopback; the kiosks are the real
`Kiosk` driven by scripts, synced with `kiosk sync --once` as a person (or
systemd) would run it; backups and restores go through the commands.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import store
from kiosk.app import Kiosk, run_script
from kiosk.clock import ScriptClock
from kiosk.config import load_config
from sync.server import db as central_db
from tests.servers import CentralServer

pytestmark = pytest.mark.slow  # real servers and a command-line process per sync

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "kiosk" / "demo" / "files"
KIOSK = [sys.executable, "-m", "kiosk.cli"]
CENTRAL = [sys.executable, "-m", "sync.server.cli"]
KIOSKS = ("door", "cabinet-3a")


def cli(command, *args):
    return subprocess.run(command + [str(a) for a in args], capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.fixture
def school(tmp_path):
    """A central store holding the demo catalog, and two kiosks with their config files."""
    path = tmp_path / "central.db"
    db = central_db.init_db(path)
    tokens = {k: central_db.add_kiosk(db, k) for k in KIOSKS}
    central_db.import_csv(db, "patrons", (DEMO / "patrons.csv").read_text(), "patrons.csv")
    central_db.import_csv(db, "items", (DEMO / "items.csv").read_text(), "items.csv")
    db.conn.close()
    server = CentralServer(path).start()
    sites = {}
    for kiosk_id in KIOSKS:
        config = tmp_path / f"{kiosk_id}.toml"
        role = "door" if kiosk_id == "door" else "cabinet"
        config.write_text(f'[kiosk]\nid = "{kiosk_id}"\nrole = "{role}"\n[central]\nurl = "{server.url}"\n'
                          f'token = "{tokens[kiosk_id]}"\n')
        sites[kiosk_id] = (tmp_path / f"{kiosk_id}.db", config)
        store.init_db(sites[kiosk_id][0], kiosk_id).conn.close()
    box = {"server": server, "path": path, "sites": sites}
    yield box
    box["server"].stop()


def taps(site, script):
    db = store.open_db(site[0])
    clock = ScriptClock()
    outcomes = []
    run_script(Kiosk(db, load_config(str(site[1])), clock), clock, script.strip().splitlines(), outcomes.append)
    db.conn.close()
    return outcomes


def sync_once(site):
    done = cli(KIOSK, "sync", "--once", "--db", site[0], "--config", site[1])
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def held(path, kiosk_id):
    db = central_db.open_db(path, check=False)
    try:
        return [r[0] for r in db.execute("SELECT seq FROM log WHERE kiosk_id = ? ORDER BY seq", [kiosk_id])]
    finally:
        db.conn.close()


def local_seqs(site):
    db = store.open_db(site[0])
    try:
        return [r[0] for r in db.execute("SELECT seq FROM log ORDER BY seq")]
    finally:
        db.conn.close()


def test_a_central_store_restored_from_an_older_backup_gets_everything_back_at_one_sync(school, tmp_path):
    door, cabinet = school["sites"]["door"], school["sites"]["cabinet-3a"]
    for site in (door, cabinet):
        sync_once(site)  # the catalog
    taps(cabinet, "at 2026-11-23T09:00:00+08:00\ntap 04A1B2C3\ntap 04112233445566\npress done")
    taps(door, "at 2026-11-23T09:30:00+08:00\ntap 0A0B0C0D\ntap 04334455667788\npress done")
    for site in (door, cabinet):
        sync_once(site)
    (tmp_path / "backups").mkdir()
    backup = cli(CENTRAL, "backup", "--db", school["path"], tmp_path / "backups")  # while it serves
    assert backup.returncode == 0, backup.stderr
    copy = Path(backup.stdout.split(":")[0])
    # After the backup: more lending and returning, all synced.
    taps(cabinet, "at 2026-11-24T09:00:00+08:00\ntap 04A1B2C3\ntap 04223344556677\npress done\nwait 5\n"
                  "tap 04112233445566")
    taps(door, "at 2026-11-24T10:00:00+08:00\ntap 04334455667788\ntap 0A0B0C0D\ntap 04445566778899\npress done")
    for site in (door, cabinet):
        sync_once(site)
    before = {k: held(school["path"], k) for k in KIOSKS}

    # The store's disk is replaced; last night's backup goes back in.
    port = school["server"].port
    school["server"].stop()
    restored = cli(CENTRAL, "restore", "--db", school["path"], copy)
    assert restored.returncode == 0, restored.stderr
    assert "at its next sync it sends the rest again" in restored.stdout
    school["server"] = CentralServer(school["path"], port=port).start()
    assert {k: held(school["path"], k) for k in KIOSKS} != before  # the store holds less than it acknowledged
    # On the restored store, the librarian blocks Ben's card.
    db = central_db.open_db(school["path"], check=False)
    central_db.set_status(db, "wu", "patrons", "S1002", "blocked", "lost card")
    db.conn.close()

    # One sync per kiosk, with no new taps, brings back every record and every change.
    for site in (door, cabinet):
        sync_once(site)
    for kiosk_id, site in school["sites"].items():
        assert held(school["path"], kiosk_id) == before[kiosk_id] == local_seqs(site)
        kiosk_db = store.open_db(site[0])
        assert store.patron_by_id(kiosk_db, "S1002").status == "blocked"
        kiosk_db.conn.close()
    central = central_db.open_db(school["path"], check=False)
    loans = dict(central.execute("SELECT item_id, patron_id FROM loans").fetchall())
    assert loans == {"B0002": "S1001", "B0004": "S1002"}


def test_a_kiosk_whose_database_died_is_rebuilt_from_the_central_store_and_numbers_on(school):
    door = school["sites"]["door"]
    sync_once(door)
    taps(door, "at 2026-11-23T09:00:00+08:00\ntap 04A1B2C3\ntap 04112233445566\ntap 04223344556677\npress done"
               "\nwait 5\ntap 0A0B0C0D\ntap 04334455667788\npress done")
    sync_once(door)
    db = store.open_db(door[0])
    loans_before = dict(db.execute("SELECT item_id, patron_id FROM loans").fetchall())
    last_before = store.last_seq(db, "door")
    db.conn.close()
    assert last_before == 3 and len(loans_before) == 3

    # The SD card died: the database and everything beside it are gone.
    for name in ("", "-wal", "-shm", ".id", ".sync.lock"):
        Path(f"{door[0]}{name}").unlink(missing_ok=True)
    refused = cli(KIOSK, "sync", "--once", "--db", door[0], "--config", door[1])
    assert refused.returncode == 1 and "no such database" in refused.stderr and not door[0].exists()
    rebuilt = cli(KIOSK, "restore", "--db", door[0], "--config", door[1])
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert rebuilt.stdout.strip() == (f"{door[0]}: restored kiosk door: 3 records (numbering on after #3), "
                                      "8 patrons, 15 items, 3 loans")
    again = cli(KIOSK, "restore", "--db", door[0], "--config", door[1])
    assert again.returncode == 1 and "already holds 3 records" in again.stderr

    db = store.open_db(door[0])
    assert dict(db.execute("SELECT item_id, patron_id FROM loans").fetchall()) == loans_before
    assert store.pending_count(db) == 0
    db.conn.close()
    # It taps on: Mia returns one book and borrows another; it syncs.
    out = taps(door, "at 2026-11-24T09:00:00+08:00\ntap 04112233445566\nwait 5\ntap 04A1B2C3\ntap 04445566778899")
    assert [o["record"] for o in out if o["record"]] == [4, 5]  # no number used twice
    done = sync_once(door)
    assert "pending 0" in done.stdout
    assert held(school["path"], "door") == local_seqs(door) == [1, 2, 3, 4, 5]  # no gap, no 409
    central = central_db.open_db(school["path"], check=False)
    assert central.execute("SELECT acked_seq FROM kiosks WHERE id = 'door'").fetchone()[0] == 5
    expected = {**{k: v for k, v in loans_before.items() if k != "B0001"}, "B0004": "S1001"}
    assert dict(central.execute("SELECT item_id, patron_id FROM loans").fetchall()) == expected


def test_a_database_older_than_the_kiosks_log_is_refused_before_it_numbers_on(school, tmp_path):
    door = school["sites"]["door"]
    sync_once(door)
    taps(door, "at 2026-11-23T09:00:00+08:00\ntap 04A1B2C3\ntap 04112233445566\npress done")
    old_copy = tmp_path / "old.db"
    old_copy.write_bytes(door[0].read_bytes())  # the database was closed: the file holds it all
    taps(door, "at 2026-11-23T10:00:00+08:00\ntap 04A1B2C3\ntap 04223344556677\ntap 04334455667788\npress done")
    sync_once(door)
    # The old copy comes back in place of the database (a card cloned last week, say).
    door[0].write_bytes(old_copy.read_bytes())
    refused = cli(KIOSK, "sync", "--once", "--db", door[0], "--config", door[1])
    assert refused.returncode == 1
    assert ("error: the central store holds records of kiosk door up to #3, but this database only up to #1: it "
            "is older than the kiosk's log; rebuild it with `kiosk restore`") in refused.stdout
    script = tmp_path / "s.script"
    script.write_text("tap 04A1B2C3\ntap 04445566778899\n")
    simulated = cli(KIOSK, "simulate", script, "--db", door[0])
    assert simulated.returncode == 1 and simulated.stdout == ""
    assert simulated.stderr == (f"kiosk: {door[0]}: holds records of kiosk door up to #1, but the central store has "
                                "them up to #3: this database is older than the kiosk's log; rebuild it with "
                                "`kiosk restore`\n")
    assert local_seqs(door) == [1] and held(school["path"], "door") == [1, 2, 3]  # no number given twice
