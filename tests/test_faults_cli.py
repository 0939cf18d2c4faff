"""One line, never a traceback, for what a person gets wrong at the command line; no database made by mistake.

Each command runs as a real process, as a new user would run it.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.run import MISSING_HARDWARE_EXIT

from kiosk import store
from kiosk.demo import prepare_demo_db
from sync.client import hide
from sync.server import db as central_db

ROOT = Path(__file__).resolve().parent.parent
KIOSK = [sys.executable, "-m", "kiosk.cli"]
CENTRAL = [sys.executable, "-m", "sync.server.cli"]


def cli(command, *args, env=None):
    return subprocess.run(command + [str(a) for a in args], capture_output=True, text=True, cwd=ROOT, timeout=60,
                          env=env)


def one_line(done, starts: str, says: str, status: int = 1) -> None:
    assert done.returncode == status, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(starts) and says in done.stderr, done.stderr


def test_init_in_a_folder_that_does_not_exist(tmp_path):
    path = tmp_path / "nonexistent" / "dir" / "k.db"
    one_line(cli(KIOSK, "init", "--db", path), f"kiosk: {path}: ", f"the folder {path.parent} does not exist")


def test_a_config_file_given_as_the_database_or_the_two_swapped(tmp_path):
    db = tmp_path / "kiosk.db"
    prepare_demo_db(db, "door")
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\nid = "door"\n[central]\nurl = "http://127.0.0.1:9"\ntoken = "t"\n')
    one_line(cli(KIOSK, "status", "--db", config), f"kiosk: {config}: ",
             "not a kiosk database (not a SQLite file) (is it the config file? --db takes the database, --config the "
             "config)")
    one_line(cli(KIOSK, "sync", "--once", "--db", config, "--config", db), "kiosk: ", "--config takes the config file")
    one_line(cli(KIOSK, "simulate", "-", "--db", db, "--config", db), f"kiosk: {db}: ",
             "not a config file but a SQLite database (--config takes the config file, --db the database)")


@pytest.mark.parametrize("command", [
    ["simulate", "-"], ["sync", "--once"], ["run"], ["status"], ["log"], ["import", "patrons", "patrons.csv"],
])
def test_only_init_makes_a_database_every_other_command_refuses_a_missing_one(tmp_path, command):
    path = tmp_path / "typo.db"
    one_line(cli(KIOSK, *command, "--db", path), f"kiosk: {path}: no such database", "kiosk init --db")
    assert list(tmp_path.iterdir()) == []  # nothing made, not even a -wal


def test_init_makes_its_own_database_once_and_refuses_any_other_file(tmp_path):
    path = tmp_path / "kiosk.db"
    assert cli(KIOSK, "init", "--db", path, "--kiosk-id", "door").returncode == 0
    again = cli(KIOSK, "init", "--db", path)
    assert again.returncode == 0 and again.stdout.strip() == f"{path}: ready for kiosk door"
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    one_line(cli(KIOSK, "init", "--db", empty), f"kiosk: {empty}: ", "the file is empty (0 bytes)")
    assert empty.read_bytes() == b""
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE photos (id INTEGER)").connection.close()
    one_line(cli(KIOSK, "init", "--db", other), f"kiosk: {other}: ", "not a kiosk database (another program's")
    central = tmp_path / "central.db"
    central_db.init_db(central).conn.close()
    one_line(cli(KIOSK, "init", "--db", central), f"kiosk: {central}: ", "not a kiosk database")


def test_a_database_gone_missing_where_one_was_made_is_not_started_over(tmp_path):
    path = tmp_path / "kiosk.db"
    assert cli(KIOSK, "init", "--db", path, "--kiosk-id", "door").returncode == 0
    path.unlink()  # as systemd's `kiosk init` before each start would then have silently made a new one
    one_line(cli(KIOSK, "init", "--db", path), f"kiosk: {path}: missing, but a kiosk database of kiosk door was "
             "made here before (kiosk.db.id)", "rebuild it with `kiosk restore`")
    assert not path.exists()


def test_a_kiosk_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "kiosk.db"
    prepare_demo_db(path, "door")
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA user_version = 99")
    raw.close()
    one_line(cli(KIOSK, "status", "--db", path), f"kiosk: {path}: made by a newer version of this program",
             "(schema version 99)")


def test_the_central_store_refuses_a_missing_folder_a_missing_file_and_a_newer_database(tmp_path):
    nowhere = tmp_path / "missing" / "central.db"
    one_line(cli(CENTRAL, "serve", "--db", nowhere), f"kiosk-central: {nowhere}: no such database", "")
    one_line(cli(CENTRAL, "add-kiosk", "door", "--db", tmp_path / "c.db"), "kiosk-central: ", "no such database")
    assert not (tmp_path / "c.db").exists()
    one_line(cli(CENTRAL, "init", "--db", nowhere), f"kiosk-central: {nowhere}: ", "does not exist")
    path = tmp_path / "central.db"
    made = cli(CENTRAL, "init", "--db", path)
    assert made.returncode == 0 and made.stdout.startswith(f"{path}: central store ready (epoch ")
    assert cli(CENTRAL, "init", "--db", path).stdout == made.stdout  # safe again: the same database, same epoch
    raw = sqlite3.connect(path)
    raw.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES"
                " ('central', 'from_2031_new_tables', '2031-01-01')")
    raw.commit()
    raw.close()
    for command in (["serve"], ["report", "loans"], ["add-kiosk", "door"]):
        one_line(cli(CENTRAL, *command, "--db", path), f"kiosk-central: {path}: made by a newer version",
                 "(migration from_2031_new_tables is unknown here)")


def test_backups_are_checked_copies_never_overwritten_and_the_newest_are_kept(tmp_path):
    path = tmp_path / "central.db"
    db = central_db.init_db(path)
    central_db.add_kiosk(db, "door")
    folder = tmp_path / "backups"
    folder.mkdir()
    for day in (1, 2, 3):
        (folder / f"central-2026110{day}-020000.db").write_bytes(b"an old backup")
    made = cli(CENTRAL, "backup", "--db", path, folder, "--keep", "2")
    assert made.returncode == 0, made.stderr
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == 2 and kept[0] == "central-20261103-020000.db"
    copy = folder / kept[1]
    assert central_db.epoch(central_db.open_db(copy)) == central_db.epoch(db)
    one_line(cli(CENTRAL, "backup", "--db", path, copy), f"kiosk-central: {copy}: already exists", "")
    one_line(cli(CENTRAL, "backup", "--db", path, tmp_path / "no" / "b.db"), "kiosk-central: ", "does not exist")


def test_the_display_that_is_not_there_is_named_in_one_line(tmp_path):
    path = tmp_path / "kiosk.db"
    prepare_demo_db(path, "door")
    bare = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")}
    bare["XDG_RUNTIME_DIR"] = str(tmp_path)  # else SDL itself complains on stderr
    # A missing display is missing hardware: its own status, which kiosk.service does not restart in a loop.
    one_line(cli(KIOSK, "run", "--db", path, env={**bare, "SDL_VIDEODRIVER": "kmsdrm"}), "kiosk: ",
             "the display cannot be opened (SDL_VIDEODRIVER=kmsdrm: ", status=MISSING_HARDWARE_EXIT)
    one_line(cli(KIOSK, "run", "--db", path, env=bare), "kiosk: ", "display", status=MISSING_HARDWARE_EXIT)
    assert store.status(store.open_db(path))["records"] == 0


def test_hiding_the_token_stars_the_token_only():
    assert hide("token t0k refused for t0ken and at0k; t0k.", "t0k") == "token *** refused for t0ken and at0k; ***."
    assert hide("a bearer secret-1 here", "secret-1") == "a bearer *** here"
