"""`kiosk run --window --demo` on a real X display (Xvfb): the demo's window opens, tells systemd it is
ready, takes demo keys from X, and ends cleanly on SIGTERM. Without a display, the demo says why and runs
in the terminal."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from kiosk import store
from kiosk.demo import prepare_demo_db
from kiosk.demo.__main__ import script_start
from kiosk.domain.model import Policy
from kiosk.domain.reading import term_start
from kiosk.run import display_available

ROOT = Path(__file__).resolve().parent.parent

XVFB = shutil.which("Xvfb")
if XVFB is None and os.environ.get("CI") == "true":
    raise RuntimeError("CI needs xvfb (docs/test-packages.txt)")


@pytest.fixture
def display():
    if XVFB is None:
        pytest.skip("no Xvfb here (apt-get install xvfb)")
    number = 90 + os.getpid() % 9
    server = subprocess.Popen([XVFB, f":{number}", "-screen", "0", "1024x768x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        assert time.monotonic() < deadline and server.poll() is None, "Xvfb did not start"
        time.sleep(0.05)
    yield f":{number}"
    server.terminate()
    server.wait(5)


def test_the_kiosk_opens_a_window_on_a_display_and_stops_on_sigterm(tmp_path, display):
    db_path = tmp_path / "kiosk.db"
    prepare_demo_db(db_path)
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\nid = "demo-door"\n[screen]\nfullscreen = false\nwidth = 480\nheight = 320\n')
    notify = tmp_path / "notify"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify))
    listener.settimeout(20)
    env = {k: v for k, v in os.environ.items() if k != "SDL_VIDEODRIVER"}
    env.update(DISPLAY=display, NOTIFY_SOCKET=str(notify))
    kiosk = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", "--db", str(db_path), "--config",
                              str(config), "--window", "--demo"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert listener.recv(256) == b"READY=1"
        shot = subprocess.run(["xwd", "-root", "-display", display, "-silent"], capture_output=True)
        assert shot.returncode == 0 and len(shot.stdout) > 480 * 320  # something was drawn on the display
    finally:
        kiosk.send_signal(signal.SIGTERM)
        output, _ = kiosk.communicate(timeout=20)
        listener.close()
    assert kiosk.returncode == 0, output
    assert store.status(store.open_db(db_path))["records"] == 0


def test_display_available_tells_why_not(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    ok, why = display_available()
    assert not ok and "no display here" in why


def test_the_demo_without_a_display_says_why_and_runs_the_whole_system_in_the_terminal(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["SDL_VIDEODRIVER"] = "dummy"
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run([sys.executable, "-m", "kiosk.demo"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "No kiosk window: SDL_VIDEODRIVER=dummy draws nowhere." in out
    assert "the kiosk pulled 8 patrons and 15 items" in out
    assert "Borrowed: Charlotte's Web" in out
    # The demo students have read this term already: My reading shows it, and 李小龙 reaches the goal (while
    # the central store's today is in the term of the demo script's morning; it counts the term it is in).
    if term_start(Policy(), date.today()) == term_start(Policy(), script_start().date()):
        assert "Hello, Mia Chen  [5 of 15 books this term]" in out
        assert "你好，李小龙  [14 of 15 books this term]" in out and "1 本  [15 of 15 books this term]" in out
    assert "Syncing with the central store: done" in out
    assert "草房子" in out.split("Syncing with the central store")[1]  # the central store's loans
