"""Two installs: a Pi's `.[kiosk]` has no web server, the school's server's `.[central]` has no screen or GPIO.

Each part's commands are run with the other part's libraries made unimportable
(tests/without.py), so an import that crosses over fails here as it would on
the real install; and pip resolves each extra to show what it would install.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest

from kiosk import store
from kiosk.demo import DATA, prepare_demo_db
from sync.server import db as central_db
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
WITHOUT = str(ROOT / "tests" / "without.py")
SERVER_ONLY = "fastapi,uvicorn,jinja2,starlette,pydantic,multipart"
KIOSK_ONLY = "pygame,gpiozero,requests,urllib3,mfrc522,spidev,RPi,lgpio"


def run_without(blocked: str, *args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, WITHOUT, blocked, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, **kwargs)


def test_the_extras_name_each_part_s_libraries_only_once():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    names = lambda reqs: {r.split(">")[0].split("=")[0].split("[")[0].split("<")[0].strip() for r in reqs}  # noqa: E731
    kiosk, central, common = names(extras["kiosk"]), names(extras["central"]), names(project["dependencies"])
    assert {"pygame-ce", "gpiozero", "requests"} <= kiosk and not kiosk & {"fastapi", "uvicorn", "jinja2"}
    assert {"fastapi", "uvicorn", "jinja2"} <= central and not central & {"pygame-ce", "gpiozero"}
    assert not common & (kiosk | central)


def test_kiosk_commands_run_without_the_web_server_libraries(tmp_path):
    db = tmp_path / "kiosk.db"
    prepare_demo_db(db)
    script = tmp_path / "s.script"
    script.write_text("tap 04A1B2C3\ntap 04112233445566\npress done\n")
    done = run_without(SERVER_ONLY, "kiosk.cli", "simulate", str(script), "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["outcome"] for line in done.stdout.splitlines()] == ["session_start", "checkout",
                                                                                 "session_end"]
    for command in (["status", "--db", str(db)], ["log", "--db", str(db)], ["hw-test", "--help"]):
        assert run_without(SERVER_ONLY, "kiosk.cli", *command).returncode == 0


@pytest.mark.slow
def test_kiosk_sync_and_run_without_the_web_server_libraries(tmp_path):
    central = tmp_path / "central.db"
    cdb = central_db.init_db(central)
    central_db.import_csv(cdb, "patrons", (DATA / "patrons.csv").read_text(encoding="utf-8"), "patrons.csv")
    token = central_db.add_kiosk(cdb, "door")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "sync.server.cli", "serve", "--db", str(central), "--port",
                               str(port)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, server)
        db = tmp_path / "kiosk.db"
        store.init_db(db, "door")
        config = tmp_path / "kiosk.toml"
        config.write_text(f'[kiosk]\nid = "door"\n[central]\nurl = "http://127.0.0.1:{port}"\ntoken = "{token}"\n'
                          '[screen]\nfullscreen = false\nwidth = 480\nheight = 320\n')
        synced = run_without(SERVER_ONLY, "kiosk.cli", "sync", "--once", "--db", str(db), "--config", str(config))
        assert synced.returncode == 0, synced.stderr
        assert store.status(store.open_db(db))["patrons"] > 0  # the catalog came through the kiosk's own client
        notify = tmp_path / "notify"
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        listener.bind(str(notify))
        listener.settimeout(60)
        env = dict(os.environ, SDL_VIDEODRIVER="dummy", NOTIFY_SOCKET=str(notify))
        kiosk = subprocess.Popen([sys.executable, WITHOUT, SERVER_ONLY, "-m", "kiosk.cli", "run", "--db", str(db),
                                  "--config", str(config), "--window", "--demo"], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert listener.recv(256) == b"READY=1"
        finally:
            kiosk.send_signal(signal.SIGTERM)
            out, _ = kiosk.communicate(timeout=30)
        assert kiosk.returncode == 0, out
        assert "ModuleNotFoundError" not in out
    finally:
        server.terminate()
        server.wait(10)


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            assert process.poll() is None, "the server ended"
            time.sleep(0.1)
    raise AssertionError("the server did not listen")


@pytest.mark.slow
def test_the_central_store_serves_pages_without_the_kiosk_s_libraries(tmp_path):
    central = tmp_path / "central.db"
    for command in (["init"], ["add-kiosk", "door"]):
        created = run_without(KIOSK_ONLY, "sync.server.cli", *command, "--db", str(central))
        assert created.returncode == 0, created.stderr
    port = free_port()
    server = subprocess.Popen([sys.executable, WITHOUT, KIOSK_ONLY, "-m", "sync.server.cli", "serve", "--db",
                               str(central), "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_port(port, server)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as page:
            assert page.status == 200 and "password" in page.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=10) as health:
            assert json.load(health)["ok"] is True
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=15)
    assert "ModuleNotFoundError" not in out


def test_importing_the_server_loads_no_screen_or_gpio_and_the_kiosk_no_web_server():
    probe = ("import sys, sync.server.app, sync.server.cli, sync.server.pages;"
             " print(sorted(m for m in ('pygame', 'gpiozero', 'requests', 'mfrc522') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True).stdout == "[]\n"
    probe = ("import sys, kiosk.cli, kiosk.app, kiosk.run, kiosk.demo.__main__, sync.client;"
             " print(sorted(m for m in ('fastapi', 'uvicorn', 'jinja2', 'starlette') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True).stdout == "[]\n"


@pytest.mark.slow
@pytest.mark.parametrize("extra, absent", [("kiosk", {"fastapi", "uvicorn", "jinja2", "starlette"}),
                                           ("central", {"pygame-ce", "gpiozero"})])
def test_pip_resolves_each_extra_without_the_other_part(tmp_path, extra, absent):
    report = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
                           "--report", str(report), f".[{extra}]"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    names = {i["metadata"]["name"].lower() for i in json.loads(report.read_text())["install"]}
    assert "sqlite-utils" in names and not names & absent
