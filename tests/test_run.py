"""The kiosk's main loop on SDL's dummy driver: input from the devices, the keyboard and touches,
what it refuses to do (quit), systemd's notify socket, and a checkout on the real drivers over the
emulated RC522 and gpiozero's MockFactory."""

import os
import queue
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from datetime import datetime, timezone

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import pygame  # noqa: E402
from gpiozero.pins.mock import MockFactory  # noqa: E402

import hardware  # noqa: E402
from kiosk import store  # noqa: E402
from kiosk.app import Kiosk  # noqa: E402
from kiosk.clock import ScriptClock  # noqa: E402
from kiosk.config import parse_config  # noqa: E402
from kiosk.demo import prepare_demo_db  # noqa: E402
from kiosk.i18n import translator  # noqa: E402
from kiosk.config import ScreenSection  # noqa: E402
from kiosk.demo.keys import DemoKeys  # noqa: E402
from kiosk.run import MAINTENANCE_EXIT, MainLoop, open_display  # noqa: E402
from kiosk.startup import WakeSync  # noqa: E402
from kiosk.screen import Screen, find_cjk_font  # noqa: E402
from hardware.emulator import MFRC522Chip, MifareClassic1K, Ntag213, attach, detach, install  # noqa: E402
from sync.lock import holder  # noqa: E402
from sync.server import db as central_db  # noqa: E402
from tests.servers import CentralServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


class Rig:
    """A kiosk in its loop, with every part reachable from the test."""

    def __init__(self, tmp_path, devices, *, demo=False, on_sync=None, **kiosk_section):
        self.db_path = tmp_path / "kiosk.db"
        prepare_demo_db(self.db_path, kiosk_section.get("id", "demo-door"))
        self.db = store.open_db(self.db_path)
        hw = {"has_lock": devices.lock is not None, "lock_seconds": 0.5, "door_alarm_seconds": 5}
        self.config = parse_config({"kiosk": {"name": "Library door", **kiosk_section}, "hardware": hw})
        self.clock = ScriptClock(START)
        pygame.display.init()
        pygame.font.init()
        self.surface = pygame.display.set_mode((480, 320))
        self.screen = Screen(self.surface, translator, font_path=find_cjk_font())
        self.devices = devices
        self.loop = None
        self.inputs = queue.Queue()
        devices.post_to(self.inputs)
        self.kiosk = Kiosk(self.db, self.config, self.clock, lights=devices.lights, sounder=devices.sounder,
                           lock=devices.lock, screen=self.screen, translate=translator, on_sync=on_sync,
                           on_exit=lambda: self.loop.stop(MAINTENANCE_EXIT))
        self.loop = MainLoop(self.kiosk, self.screen, self.inputs, demo=DemoKeys() if demo else None,
                             timer=lambda: self.clock.now().timestamp())
        devices.start()

    def turn(self, count=1, wait_ms=0):
        for _ in range(count):
            self.loop.step(wait_ms)

    def until(self, condition, seconds=5.0):
        deadline = time.monotonic() + seconds
        while not condition():
            assert time.monotonic() < deadline, "the kiosk did not get there"
            self.loop.step(20)

    def kinds(self):
        return [r["kind"] for r in store.iter_log(self.db)]

    def touch(self, button):
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=self.screen.targets[button].center,
                                             button=1))

    def key(self, key, unicode="", mod=0):
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, unicode=unicode, mod=mod))

    def close(self):
        self.devices.close()
        pygame.display.quit()


@pytest.fixture
def rig(tmp_path):
    made = []

    def make(devices=None, **options):
        r = Rig(tmp_path, devices or hardware.build("fake", {}), **options)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def texts(rig):
    return " | ".join(b.text for b in rig.screen.boxes)


def test_a_checkout_and_a_return_from_the_reader_thread(rig):
    r = rig()
    r.turn()
    r.devices.reader.tap("04A1B2C3")  # Mia's card, from the reader's thread
    r.devices.reader.tap("04112233445566")  # Charlotte's Web
    r.until(lambda: "checkout" in r.kinds())
    assert r.kiosk.view.screen == "session"
    assert "Borrowed: Charlotte's Web" in texts(r)
    assert r.devices.lights.history[-1] == "ok" and r.devices.sounder.history[-1] == "ok"
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=r.screen.targets["done"].center, button=1))
    r.until(lambda: r.kiosk.view.screen == "summary")
    r.clock.advance(10)
    r.turn(2)
    r.devices.reader.tap("04112233445566")  # tapped alone: returned
    r.until(lambda: "return" in r.kinds())
    assert "Returned: Charlotte's Web" in texts(r)
    assert store.loan_of(r.db, "B0001") is None


def test_the_barcode_scanner_types_digits_and_enter(rig):
    r = rig(demo=True)
    r.key(pygame.K_m, "m")  # the demo's key for Mia's card
    r.turn()
    for digit in "9780142410370":
        r.key(getattr(pygame, f"K_{digit}"), digit)
    r.key(pygame.K_RETURN, "\r")
    r.turn()
    assert "checkout" in r.kinds()
    assert store.loan_of(r.db, "B0002").patron_id == "S1001"


@pytest.mark.parametrize("attempt", ["escape", "alt+f4", "ctrl+c", "ctrl+q", "window close"])
def test_nothing_a_student_can_do_closes_the_kiosk(rig, attempt):
    r = rig()
    if attempt == "window close":
        pygame.event.post(pygame.event.Event(pygame.QUIT))
    else:
        key, mod = {"escape": (pygame.K_ESCAPE, 0), "alt+f4": (pygame.K_F4, pygame.KMOD_ALT),
                    "ctrl+c": (pygame.K_c, pygame.KMOD_CTRL), "ctrl+q": (pygame.K_q, pygame.KMOD_CTRL)}[attempt]
        r.key(key, "", mod)
    r.turn(3)
    assert r.loop.exit_status is None
    assert len(r.loop.ignored) == 1
    assert r.kiosk.view.screen == "idle"


def test_only_a_librarian_exits_for_maintenance_and_it_is_logged(rig):
    r = rig()
    r.devices.reader.tap("5F607182")  # a volunteer: no exit offered
    r.until(lambda: r.kiosk.view.screen == "staff")
    assert "exit" not in r.screen.targets
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=r.screen.targets["done"].center, button=1))
    r.until(lambda: r.kiosk.view.screen == "idle")
    r.clock.advance(3)
    r.devices.reader.tap("60718293")  # the librarian
    r.until(lambda: "exit" in r.screen.targets)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=r.screen.targets["exit"].center, button=1))
    r.turn()
    assert r.loop.exit_status == MAINTENANCE_EXIT
    assert r.kinds()[-1] == "exit_maintenance"


def test_systemd_hears_ready_then_watchdog_pings(rig, tmp_path, monkeypatch):
    path = str(tmp_path / "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # pings every 50 ms
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    r = rig()
    heard = []
    deadline = time.monotonic() + 3
    while heard.count("WATCHDOG=1") < 3 and time.monotonic() < deadline:
        r.turn(1, wait_ms=30)
        try:
            while True:
                listener.settimeout(0.01)
                heard.append(listener.recv(256).decode())
        except OSError:
            pass
    listener.close()
    assert heard[0] == "READY=1"
    assert heard.count("WATCHDOG=1") >= 3


def test_a_cabinet_opens_for_a_card_and_minds_its_door(rig):
    devices = hardware.build("fake", {}, has_lock=True)
    r = rig(devices, id="cabinet-3a", role="cabinet", home="class-3a")
    r.devices.reader.tap("04A1B2C3")
    r.until(lambda: r.kiosk.view.screen == "session")
    assert r.devices.lock.history[0] == ("open", 0.5)
    r.devices.door.set_open(True)
    r.until(lambda: r.kiosk.state.door_open_since is not None)
    r.clock.advance(6)  # longer than door_alarm_seconds
    r.turn(2)
    assert "door_open_too_long" in r.kinds()
    assert "Please close the cabinet door." in texts(r)


@pytest.fixture
def real_devices():
    install()
    chip = MFRC522Chip()
    attach(chip, 0, 0, reset_pin=25)
    factory = MockFactory()
    pins = {"green_led": 17, "red_led": 27, "buzzer": 22, "lock": 23, "door": 24, "button_done": 5,
            "button_help": 6, "button_lang": 13, "reader_rst": 25}
    devices = hardware.build("real", pins, has_lock=True, pin_factory=factory, poll_interval=0.02)
    factory.pin(24).drive_low()  # the cabinet door is shut
    yield devices, chip, factory
    factory.reset()
    detach(chip)


def test_a_checkout_end_to_end_on_the_real_drivers(rig, real_devices):
    devices, chip, factory = real_devices
    r = rig(devices, id="cabinet-3a", role="cabinet", home="class-3a")
    for pin in (17, 23):
        factory.pin(pin).clear_states()
    card = MifareClassic1K(bytes.fromhex("04A1B2C3"))
    chip.put(card)  # Mia's card on the reader
    r.until(lambda: r.kiosk.view.screen == "session")
    chip.remove(card)
    book = Ntag213(bytes.fromhex("04112233445566"))
    chip.put(book)  # Charlotte's Web, a 7-byte NTAG sticker
    r.until(lambda: "checkout" in r.kinds())
    assert store.loan_of(r.db, "B0001").patron_id == "S1001"
    r.until(lambda: factory.pin(23).state is False and len(factory.pin(23).states) >= 3, seconds=3)
    assert [s.state for s in factory.pin(23).states][:3] == [False, True, False]  # opened, then locked again
    assert True in [s.state for s in factory.pin(17).states]  # the green LED lit


def test_the_reader_fault_screen_and_recovery_on_the_real_driver(rig, real_devices):
    devices, chip, factory = real_devices
    r = rig(devices)
    r.turn()
    chip.stop_answering()
    r.until(lambda: r.kiosk.view.screen == "fault", seconds=8)
    assert "Reader not working" in texts(r)
    assert store.get_meta(r.db, "reader_ok") == "0"  # the sync process reports it to the central store
    chip.resume()
    r.until(lambda: r.kiosk.view.screen == "idle", seconds=8)
    assert {"reader_fault", "reader_ok"} <= set(r.kinds())


def sync_processes(db_path):
    """The `kiosk sync` processes running for this database, from /proc."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"sync" in words and str(db_path).encode() in words:
            found.append(int(cmdline.parent.name))
    return found


def test_sync_now_signals_the_running_sync_process_and_starts_no_other(rig, tmp_path):
    central_path = tmp_path / "central.db"
    central = central_db.init_db(central_path)
    token = central_db.add_kiosk(central, "demo-door")
    r = rig()
    config = tmp_path / "kiosk.toml"
    with CentralServer(central_path) as server:
        # Once an hour on its own: a sync within seconds is the staff screen's doing.
        config.write_text(f'[kiosk]\nid = "demo-door"\n[central]\nurl = "{server.url}"\ntoken = "{token}"\n'
                          "interval = 3600\n")
        sync = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "sync", "--db", str(r.db_path), "--config",
                                 str(config)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        r.kiosk.on_sync = WakeSync(r.db_path, server.url)
        try:
            r.until(lambda: central.execute("SELECT last_seen FROM kiosks WHERE id = 'demo-door'").fetchone()[0] is not None, seconds=20)
            r.devices.reader.tap("04A1B2C3")
            r.devices.reader.tap("04112233445566")
            r.until(lambda: "checkout" in r.kinds())
            assert store.pending_count(r.db) == 1
            r.devices.reader.tap("5F607182")  # a volunteer: the staff screen
            r.until(lambda: "sync" in r.screen.targets)
            r.touch("sync")
            r.turn()
            r.until(lambda: store.pending_count(r.db) == 0, seconds=20)  # pushed at once, not in an hour
            assert [r[0] for r in central.execute("SELECT kind FROM log ORDER BY seq")] == ["checkout", "staff_login"]
            r.touch("sync")  # pressed again while it is syncing or after: still one sync process
            r.turn()
            assert sync_processes(r.db_path) == [sync.pid]
            assert sync.poll() is None  # SIGUSR1 woke it; it did not end it
        finally:
            sync.terminate()
            sync.wait(15)


def test_a_second_sync_process_for_the_same_database_is_refused_and_wakes_the_first(tmp_path):
    db_path = tmp_path / "kiosk.db"
    prepare_demo_db(db_path, "demo-door")
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\nid = "demo-door"\n[central]\nurl = "http://127.0.0.1:9"\ntoken = "t"\n'
                      "interval = 3600\n")
    first = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "sync", "--db", str(db_path), "--config",
                              str(config)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while holder(db_path) != first.pid:
            assert time.monotonic() < deadline and first.poll() is None, "the first sync process did not start"
            time.sleep(0.05)
        second = subprocess.run([sys.executable, "-m", "kiosk.cli", "sync", "--once", "--db", str(db_path),
                                 "--config", str(config)], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert second.returncode == 1
        assert second.stderr.strip() == (f"kiosk: {db_path}: another sync process (pid {first.pid}) is running for "
                                         "this database; it was asked to sync now (SIGUSR1)")
        assert first.poll() is None
    finally:
        first.terminate()
        first.wait(15)


def test_systemctl_status_names_the_screen_and_the_reader_fault(rig, tmp_path, monkeypatch):
    path = str(tmp_path / "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    r = rig()
    r.turn()
    r.devices.reader.fail("no answer from the chip")
    r.until(lambda: r.kiosk.view.screen == "fault")
    r.devices.reader.recover()
    r.until(lambda: r.kiosk.view.screen == "idle")
    heard = []
    listener.settimeout(0.2)
    try:
        while True:
            heard.append(listener.recv(256).decode())
    except OSError:
        listener.close()
    statuses = [h for h in heard if h.startswith("STATUS=")]
    assert heard[0] == "READY=1"
    assert statuses == ["STATUS=kiosk demo-door: showing idle",
                        "STATUS=kiosk demo-door: reader not working, showing the fault screen",
                        "STATUS=kiosk demo-door: showing idle"]


def test_full_screen_has_no_frame_and_no_pointer():
    pygame.display.init()
    try:
        surface = open_display(ScreenSection(width=480, height=320, fullscreen=True), window=False)
        assert surface.get_flags() & pygame.FULLSCREEN and surface.get_flags() & pygame.NOFRAME
        assert not pygame.mouse.get_visible()
        pygame.mouse.set_visible(True)
        surface = open_display(ScreenSection(width=480, height=320, fullscreen=True), window=True)
        assert surface.get_size() == (480, 320) and not surface.get_flags() & pygame.FULLSCREEN
        assert pygame.mouse.get_visible()
    finally:
        pygame.display.quit()


def test_the_service_stays_stopped_after_maintenance_and_restarts_after_anything_else():
    unit = (Path(__file__).resolve().parent.parent / "systemd/kiosk.service").read_text()
    assert re.search(r"^Restart=always$", unit, re.M)
    assert re.search(rf"^RestartPreventExitStatus=.*\b{MAINTENANCE_EXIT}\b", unit, re.M)


def test_the_demo_keys_tap_the_demo_cards_and_books_and_the_legend_shows_them_all(tmp_path):
    prepare_demo_db(tmp_path / "kiosk.db")
    db = store.open_db(tmp_path / "kiosk.db")
    keys = DemoKeys()
    known = {key: store.patron_by_uid(db, uid) or store.item_by_uid(db, uid) for key, uid in keys.taps.items()}
    assert [key for key, found in known.items() if found is None] == ["u"]  # the one tag nobody knows
    assert sorted("".join(k for k, _ in keys.legend).replace(" ", "").lower()) == sorted(keys.taps)
    pygame.display.init()
    pygame.font.init()
    try:
        for size in ((480, 320), (800, 480)):
            screen = Screen(pygame.Surface(size), translator, font_path=find_cjk_font(), legend=keys.legend)
            Kiosk(db, parse_config({}), ScriptClock(START), screen=screen, translate=translator)  # shows idle
            screen.draw(START)
            legend = [b for b in screen.boxes if b.text.startswith("M B K Z")]
            assert legend, size
            assert " ".join(legend[0].lines).split() == legend[0].text.split(), size  # nothing cut off
    finally:
        pygame.display.quit()
    assert "G 草房子" in keys.describe() and "digits then Enter" in keys.describe()


def test_the_demo_keys_lend_a_chinese_book_to_a_chinese_name(rig):
    r = rig(demo=True)
    r.key(pygame.K_k, "k")
    r.key(pygame.K_g, "g")
    r.turn()
    assert store.loan_of(r.db, "B0006").patron_id == "S1003"
    assert "草房子" in texts(r) and "李小龙" in texts(r)


def test_one_touch_on_a_touch_screen_is_one_press(rig):
    """SDL reports a finger twice: as a touch and as a mouse click made from it."""
    r = rig()
    r.devices.reader.tap("04A1B2C3")
    r.until(lambda: r.kiosk.view.screen == "session")
    x, y = r.screen.targets["done"].center
    width, height = r.surface.get_size()
    pygame.event.post(pygame.event.Event(pygame.FINGERDOWN, x=x / width, y=y / height, touch_id=1, finger_id=0))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, y), button=1, touch=True))
    r.turn()
    assert r.kiosk.view.screen == "summary"  # not pressed twice: that would be idle already
