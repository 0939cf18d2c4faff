"""Storage faults: nothing shown as done that is not on disk, no traceback, no crash loop.

On real filesystems: a tiny tmpfs that fills up, a read-only bind mount, a
read-only file and folder (the process runs without the capability that
lets root write anyway), a lock held past the busy timeout, and damaged
files. Mounting needs root; in CI (CI=true) these tests must run, never skip.
"""

import ctypes
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from hardware.fake import FakeLights, FakeLock, FakeSounder
from kiosk import store
from kiosk.app import Kiosk
from kiosk.clock import ScriptClock
from kiosk.config import Config
from kiosk.demo import prepare_demo_db
from kiosk.startup import open_kiosk_db

ROOT = Path(__file__).resolve().parent.parent
KIOSK = [sys.executable, "-m", "kiosk.cli"]
START = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
NOT_BORROWED = "Sorry, this kiosk cannot save right now: your book is not borrowed. Please see the librarian."
MIA, CHARLOTTES_WEB, MATILDA = "04A1B2C3", "04112233445566", "04223344556677"


def need_root():
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI runs these storage tests as root (they mount filesystems)")
        pytest.skip("mounting a filesystem needs root")


def mount(*args):
    subprocess.run(["mount", *map(str, args)], check=True, capture_output=True)


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 600 KiB filesystem (tmpfs)."""
    need_root()
    disk = tmp_path / "disk"
    disk.mkdir()
    mount("-t", "tmpfs", "-o", "size=600k", "tmpfs", disk)
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk: Path) -> Path:
    """Fill the filesystem to the last byte; returns the file that did."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


class Shown:
    """A screen that keeps what it was asked to show."""

    def __init__(self):
        self.views = []

    def show(self, view):
        self.views.append(view)


def kiosk_on(path, db=None, fault=None):
    told = []
    clock = ScriptClock(START)
    kiosk = Kiosk(db, Config(), clock, lights=FakeLights(), sounder=FakeSounder(), lock=FakeLock(), screen=Shown(),
                  reopen=lambda: store.open_db(path, writable=True), on_storage=told.append, fault=fault)
    return kiosk, clock, told


def later(kiosk, clock, seconds):
    """The clock moves on and the kiosk ticks: its one outcome, or None."""
    clock.advance(seconds)
    outcomes = kiosk.tick(kiosk.now())
    assert len(outcomes) <= 1, outcomes
    return outcomes[0] if outcomes else None


def test_a_full_disk_tells_the_student_the_book_is_not_borrowed_and_the_kiosk_comes_back_by_itself(tiny_disk):
    path = tiny_disk / "kiosk.db"
    prepare_demo_db(path, "door")
    db = store.open_db(path, writable=True)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the next commit must grow the -wal
    kiosk, clock, told = kiosk_on(path, db)
    assert kiosk.tap(MIA)["outcome"] == "session_start"
    filler = fill(tiny_disk)

    outcome = kiosk.tap(CHARLOTTES_WEB)
    assert (outcome["outcome"], outcome["reason"], outcome["message"]) == ("not_done", "storage", NOT_BORROWED)
    assert outcome["record"] is None and outcome["led"] == "fault" and outcome["unlock"] is None
    assert kiosk.view.screen == "fault" and "out of order" in kiosk.view.heading.render()
    assert kiosk.screen.views[-1] is kiosk.view and kiosk.lights.history[-1] == "fault"
    assert told == ["the disk is full"]
    assert kiosk.tap(MIA)["outcome"] == "not_done"  # out of order: nothing is even tried
    assert later(kiosk, clock, 6) is None and kiosk.fault == "the disk is full"  # retried: still full

    filler.unlink()
    back = later(kiosk, clock, 6)
    assert (back["outcome"], back["reason"], back["screen"]) == ("info", "storage_ok", "idle")
    assert told == ["the disk is full", None] and kiosk.fault is None
    assert kiosk.tap(MIA)["outcome"] == "session_start"
    lent = kiosk.tap(CHARLOTTES_WEB)
    assert lent["outcome"] == "checkout" and lent["record"] == 1
    fresh = store.open_db(path)
    assert [(r["seq"], r["item_id"]) for r in store.iter_log(fresh)] == [(1, "B0001")]  # nothing else was kept


def test_a_read_only_mount_at_start_is_out_of_order_until_it_can_be_written(tiny_disk, tmp_path):
    prepare_demo_db(tiny_disk / "kiosk.db", "door")
    view = tmp_path / "view"
    view.mkdir()
    mount("--bind", tiny_disk, view)
    try:
        mount("-o", "remount,bind,ro", view)
        path = view / "kiosk.db"
        db, fault = open_kiosk_db(path)
        assert db is None and "read-only" in fault
        kiosk, clock, told = kiosk_on(path, db, fault)
        assert kiosk.view.screen == "fault" and told == [fault]
        assert kiosk.tap(MIA)["outcome"] == "not_done"
        assert later(kiosk, clock, 6) is None
        mount("-o", "remount,bind,rw", view)
        assert later(kiosk, clock, 6)["reason"] == "storage_ok"
        kiosk.tap(MIA)
        assert kiosk.tap(MATILDA)["outcome"] == "checkout"
        kiosk.db.conn.close()
    finally:
        subprocess.run(["umount", "-l", str(view)], check=True)


def test_a_lock_held_past_the_busy_timeout_is_not_done_then_passes(tmp_path):
    path = tmp_path / "kiosk.db"
    prepare_demo_db(path, "door")
    db = store.open_db(path, writable=True)
    db.execute("PRAGMA busy_timeout = 50")
    kiosk, clock, told = kiosk_on(path, db)
    other = store.open_db(path)
    kiosk.tap(MIA)
    other.execute("BEGIN IMMEDIATE")  # an import, say, that will not let go
    outcome = kiosk.tap(CHARLOTTES_WEB)
    assert outcome["outcome"] == "not_done" and outcome["message"] == NOT_BORROWED
    assert told == ["another process held it locked for too long"]
    other.execute("ROLLBACK")
    assert later(kiosk, clock, 6)["reason"] == "storage_ok"
    assert store.loan_of(other, "B0001") is None  # the refused checkout left nothing behind


def without_root_powers():
    """In the child: drop the capabilities that let root write where the modes say no."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def damage(kind: str, path: Path) -> None:
    if kind == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    elif kind == "garbage":
        path.write_bytes(os.urandom(64 * 1024))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "wal lost":
        Path(f"{path}-wal").write_bytes(b"")
        Path(f"{path}-shm").write_bytes(b"\0" * 32768)
        Path(f"{path}-wal").unlink()
    elif kind == "read-only file":
        path.chmod(0o444)
    elif kind == "read-only folder":
        path.parent.chmod(0o555)


@pytest.mark.parametrize("kind, says", [
    ("truncated", "it is damaged"),
    ("garbage", "not a kiosk database (not a SQLite file)"),
    ("empty", "the file is empty (0 bytes)"),
    ("wal lost", "its write-ahead log kiosk.db-wal is missing while kiosk.db-shm is still there"),
    ("read-only file", "it cannot be written (a read-only file, folder or filesystem)"),
    ("read-only folder", "read-only"),
])
def test_a_damaged_or_unwritable_database_is_refused_with_one_line_and_left_as_it_is(tmp_path, kind, says):
    need_root()
    folder = tmp_path / "state"
    folder.mkdir()
    path = folder / "kiosk.db"
    prepare_demo_db(path, "door")
    (tmp_path / "s.script").write_text("tap 04A1B2C3\ntap 04112233445566\n")
    damage(kind, path)
    before = digest(folder)
    try:
        done = subprocess.run(KIOSK + ["simulate", str(tmp_path / "s.script"), "--db", str(path)], cwd=ROOT,
                              capture_output=True, text=True, preexec_fn=without_root_powers, timeout=60)
    finally:
        folder.chmod(0o755)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"kiosk: {path}: ") and says in done.stderr, done.stderr
    after = digest(folder)
    assert {name: after.get(name) for name in before} == before  # never recreated, never "repaired"


def test_kiosk_run_on_a_read_only_folder_shows_out_of_order_and_comes_back_when_it_is_writable(tmp_path):
    need_root()
    folder = tmp_path / "state"
    folder.mkdir()
    path = folder / "kiosk.db"
    prepare_demo_db(path, "door")
    folder.chmod(0o555)
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(30)
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", NOTIFY_SOCKET=str(tmp_path / "notify"))
    kiosk = subprocess.Popen(KIOSK + ["run", "--db", str(path)], cwd=ROOT, env=env, preexec_fn=without_root_powers,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    heard = []
    try:
        def until(words):
            deadline = time.monotonic() + 30
            while not any(words in h for h in heard):
                assert time.monotonic() < deadline, heard
                heard.append(notify.recv(512).decode())

        until("out of order, cannot save: ")
        assert "READY=1" in heard and kiosk.poll() is None  # up, serving its out-of-order screen, not restarting
        folder.chmod(0o755)
        until("showing idle")
    finally:
        folder.chmod(0o755)
        kiosk.send_signal(signal.SIGTERM)
        output, _ = kiosk.communicate(timeout=30)
        notify.close()
    assert kiosk.returncode == 0, output
    assert "Traceback" not in output and output.count("out of order: the kiosk cannot save") == 1


def test_the_out_of_order_screen_says_both_things_in_both_languages_at_every_size(tmp_path):
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from kiosk.config import parse_config
    from kiosk.i18n import translator
    from kiosk.screen import SIZES, Screen, find_cjk_font

    pygame.display.init()
    pygame.font.init()
    for language, book_not_borrowed in (("en", NOT_BORROWED), ("zh_CN", "你的书没有借出")):
        path = tmp_path / f"{language}.db"
        prepare_demo_db(path, "door")
        kiosk = Kiosk(store.open_db(path), parse_config({"kiosk": {"language": language}}), ScriptClock(START),
                      screen=Shown(), translate=translator)
        kiosk.tap(MIA)
        kiosk.out_of_order.begin("the disk is full", START, "tap 04112233445566", "checkout")
        for width, height in SIZES:
            surface = pygame.Surface((width, height))
            screen = Screen(surface, translator, font_path=find_cjk_font())
            screen.show(kiosk.view)
            screen.draw(START)
            drawn = " | ".join(b.text for b in screen.boxes)
            assert book_not_borrowed in drawn and translator(language)(
                "This kiosk is out of order. Please see the librarian.") in drawn
            assert screen.problems() == [], (language, width)


def test_the_sync_process_tells_the_kiosk_health_page_when_the_kiosks_disk_is_full(tiny_disk, demo_central):
    from kiosk.config import parse_config
    from sync.client import SyncClient, make_session
    from sync.server import db as central_db

    path = tiny_disk / "kiosk.db"
    prepare_demo_db(path, "door")
    db = store.open_db(path, writable=True)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    config = parse_config({"kiosk": {"id": "door"},
                           "central": {"url": demo_central.url, "token": demo_central.tokens["door"]}}, "door.toml")
    client = SyncClient(db, config, session=make_session(retries=0))
    fill(tiny_disk)
    assert client.run_once() is False  # its own checkpoints cannot be written
    health = {k["id"]: k for k in central_db.kiosks(demo_central.db)}["door"]
    assert health["last_error"] == "the kiosk's database: the disk is full"
    assert health["status"]["storage_ok"] is False
