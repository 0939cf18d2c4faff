"""`kiosk.run.run`, the whole of `kiosk run` as systemd starts it, in this process: the real drivers
over the emulated RC522 and gpiozero's MockFactory, full screen on SDL's dummy driver, systemd's
notify socket. A person taps a card and a book on the cabinet kiosk's reader; systemd then stops
the kiosk while the lock is open, and the lock must end locked."""

import os
import signal
import socket
import threading
import time


os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from kiosk import store  # noqa: E402
from kiosk.config import load_config  # noqa: E402
from kiosk.demo import prepare_demo_db  # noqa: E402
from kiosk.run import run  # noqa: E402
from hardware.emulator import MifareClassic1K, Ntag213  # noqa: E402

GREEN, LOCK, DOOR = 17, 23, 24


def wait_for(condition, what, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


def test_a_cabinet_kiosk_lends_on_the_real_drivers_and_sigterm_leaves_it_locked(tmp_path, emulated_pi,
                                                                               monkeypatch):
    chip, factory = emulated_pi
    db_path = tmp_path / "kiosk.db"
    prepare_demo_db(db_path, "cabinet-3a")
    config_path = tmp_path / "kiosk.toml"
    config_path.write_text('[kiosk]\nid = "cabinet-3a"\nrole = "cabinet"\nhome = "class-3a"\n'
                           '[hardware]\ndriver = "real"\nhas_lock = true\nlock_seconds = 60\n'
                           '[screen]\nfullscreen = true\nwidth = 480\nheight = 320\n')
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    notify.settimeout(20)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    sigterm_before = signal.getsignal(signal.SIGTERM)
    heard, seen, failures = [], {}, []

    def person():
        """What happens around the kiosk while `run` holds the main thread."""
        try:
            heard.append(notify.recv(256).decode())  # READY=1: the first screen is up
            watch = store.open_db(db_path)
            card = MifareClassic1K(bytes.fromhex("04A1B2C3"))
            chip.put(card)  # Mia's card
            wait_for(lambda: factory.pin(LOCK).state, "the lock opened for a valid card")
            chip.remove(card)
            chip.put(Ntag213(bytes.fromhex("04112233445566")))  # Charlotte's Web
            wait_for(lambda: "checkout" in [r["kind"] for r in store.iter_log(watch)], "a checkout record")
            seen["lock open at SIGTERM"] = factory.pin(LOCK).state
            watch.conn.close()
        except BaseException as exc:  # reported by the main thread, after run() has ended
            failures.append(exc)
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # systemctl stop

    helper = threading.Thread(target=person)
    helper.start()
    status = run(load_config(config_path), str(db_path), config_path=str(config_path))
    helper.join(20)
    notify.settimeout(0.1)
    try:
        while True:
            heard.append(notify.recv(256).decode())
    except OSError:
        notify.close()
    assert not failures, failures[0]
    assert status == 0
    assert signal.getsignal(signal.SIGTERM) is sigterm_before
    db = store.open_db(db_path)
    assert store.loan_of(db, "B0001").patron_id == "S1001"
    assert seen["lock open at SIGTERM"] is True
    assert factory.pin(LOCK).state is False  # closed by the shutdown, long before its 60 s were up
    assert [s.state for s in factory.pin(LOCK).states][:3] == [False, True, False]
    assert True in [s.state for s in factory.pin(GREEN).states]  # the green LED lit for the checkout
    assert heard[0] == "READY=1"
    assert "WATCHDOG=1" in heard
    assert "STATUS=kiosk cabinet-3a: showing session" in heard
    assert heard.index("STOPPING=1") > heard.index("WATCHDOG=1")
    assert heard[-1] == "STATUS=kiosk cabinet-3a: stopped"


def test_sigterm_while_the_kiosk_is_starting_stops_it(tmp_path, monkeypatch):
    """Once SDL's video is up, SDL turns SIGTERM into a window-close event, which a kiosk ignores."""
    import hardware

    db_path = tmp_path / "kiosk.db"
    prepare_demo_db(db_path)
    config_path = tmp_path / "kiosk.toml"
    config_path.write_text('[hardware]\ndriver = "fake"\nhas_lock = true\n[screen]\nfullscreen = true\n')
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify"))
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    built = []

    def build_during_sigterm(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)  # systemctl stop, while the screen is already up
        built.append(real_build(*args, **kwargs))
        return built[-1]

    real_build = hardware.build
    monkeypatch.setattr(hardware, "build", build_during_sigterm)
    second_try = threading.Timer(10, os.kill, (os.getpid(), signal.SIGTERM))  # so a failure cannot hang
    second_try.start()
    try:
        status = run(load_config(config_path), str(db_path), config_path=str(config_path))
    finally:
        second_try.cancel()
    notify.settimeout(0.1)
    heard = []
    try:
        while True:
            heard.append(notify.recv(256).decode())
    except OSError:
        notify.close()
    assert status == 0
    assert "READY=1" not in heard and heard[0] == "STOPPING=1"  # it never opened for taps
    assert built[0].lock.closed and built[0].lock.history == []
