"""The central store's timers: a nightly backup that keeps the newest copies, privacy at the end of each term.

Each unit's command is run as written, with its paths moved under a
temporary folder, against a real central database.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sync.server import db as central_db
from tests.test_deploy_install import parse_unit

ROOT = Path(__file__).resolve().parent.parent
SYSTEMD = ROOT / "systemd"
PROGRAM = "/opt/library-kiosk/current/bin/kiosk-central"
STATE = "/var/lib/library-kiosk-central"


def command_of(unit: str, state: Path) -> list[str]:
    """The unit's ExecStart, to run here: the program from this checkout, the state folder under `state`."""
    service = parse_unit(SYSTEMD / unit)["Service"]
    env = dict(value.split("=", 1) for line in service.get("Environment", []) for value in line.split())
    line = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], service["ExecStart"][0])
    words = line.replace(STATE, str(state)).split()
    assert words[0] == PROGRAM
    return [sys.executable, "-m", "sync.server.cli"] + words[1:]


def test_the_nightly_backup_keeps_the_newest_copies(tmp_path):
    db = central_db.init_db(tmp_path / "central.db")
    central_db.add_kiosk(db, "door")
    (tmp_path / "backups").mkdir()  # StateDirectory= makes it
    for night in range(1, 16):
        (tmp_path / "backups" / f"central-202611{night:02d}-023000.db").write_bytes(b"an older night")
    done = subprocess.run(command_of("kiosk-central-backup.service", tmp_path), cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    kept = sorted((tmp_path / "backups").iterdir())
    assert len(kept) == 14 and kept[0].name == "central-20261103-023000.db"
    assert central_db.epoch(central_db.open_db(kept[-1])) == central_db.epoch(db)


def test_the_end_of_term_forgets_with_the_commands_default(tmp_path):
    central_db.init_db(tmp_path / "central.db").conn.close()
    done = subprocess.run(command_of("kiosk-central-forget.service", tmp_path), cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "returned loans before" in done.stdout, done.stderr


def test_the_store_is_created_before_it_is_served_and_never_by_serve():
    service = parse_unit(SYSTEMD / "kiosk-central.service")["Service"]
    db = re.search(r"--db (\S+)", service["ExecStart"][0]).group(1)
    assert service["ExecStartPre"] == [f"{PROGRAM} init --db {db}"]


@pytest.mark.parametrize("timer, service", [("kiosk-central-backup.timer", "kiosk-central-backup.service"),
                                            ("kiosk-central-forget.timer", "kiosk-central-forget.service")])
def test_the_timers_are_valid_for_systemd(timer, service):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("no systemd-analyze here")
    for spec in parse_unit(SYSTEMD / timer)["Timer"]["OnCalendar"]:
        parsed = subprocess.run([analyze, "calendar", spec], capture_output=True, text=True)
        assert parsed.returncode == 0, parsed.stderr
    checked = subprocess.run([analyze, "verify", str(SYSTEMD / timer), str(SYSTEMD / service)], capture_output=True,
                             text=True)
    complaints = [line for line in checked.stderr.splitlines() if PROGRAM not in line]
    assert complaints == [], complaints
