"""`kiosk run` on a machine without the Pi's hardware: one line saying what is missing, a documented exit
status that kiosk.service does not restart, and the same line in `kiosk status`; never a traceback.

This machine has no GPIO chip (and its test venv no lgpio): the `pi` tests (tests/test_pi_roots.py) run the
same start in arm64 roots where lgpio is installed and only the chip is missing.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from hardware import HardwareError
from hardware.pins import pin_factory
from kiosk.run import MAINTENANCE_EXIT, MISSING_HARDWARE_EXIT

REPO = Path(__file__).resolve().parent.parent


def kiosk(*args, cwd, env):
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env={**os.environ, "PYTHONPATH": str(REPO), **env})


def start(tmp_path, driver, **env):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\nid = "door-1"\n[hardware]\ndriver = "{driver}"\n')
    db = tmp_path / "kiosk.db"
    kiosk("init", "--db", str(db), cwd=tmp_path, env={})
    # From a folder the kiosk may not write to, as systemd starts it (WorkingDirectory=/).
    result = kiosk("run", "--config", str(config), "--db", str(db), cwd="/", env=env)
    status = json.loads(kiosk("status", "--db", str(db), cwd=tmp_path, env={}).stdout)
    return result, status


def lines(text):
    return [line for line in text.splitlines() if line.strip()]


def test_no_gpio_chip_is_one_line_and_a_status_the_unit_does_not_restart(tmp_path):
    result, status = start(tmp_path, "real", SDL_VIDEODRIVER="dummy", GPIOZERO_PIN_FACTORY="lgpio")
    assert result.returncode == MISSING_HARDWARE_EXIT
    assert "Traceback" not in result.stderr + result.stdout
    [line] = lines(result.stderr)
    # This machine: no lgpio in the venv, or (with lgpio) no /dev/gpiochip*.
    assert re.match(r"kiosk: (lgpio is not installed in .*: run systemd/install.sh|no GPIO chip: /dev/gpiochip)",
                    line), line
    assert status["start_error"] == line.removeprefix("kiosk: ")


def test_no_display_is_one_line_and_the_same_status(tmp_path):
    env = {"SDL_VIDEODRIVER": "x11", "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    result, status = start(tmp_path, "fake", **env)
    assert result.returncode == MISSING_HARDWARE_EXIT
    assert "Traceback" not in result.stderr
    [line] = lines(result.stderr)
    assert line.startswith("kiosk: no display: the display cannot be opened (SDL_VIDEODRIVER=x11: ")
    assert status["start_error"] == line.removeprefix("kiosk: ")


def test_a_good_start_clears_the_last_start_error(tmp_path):
    _, status = start(tmp_path, "fake", SDL_VIDEODRIVER="x11", DISPLAY="", WAYLAND_DISPLAY="")
    assert status["start_error"]
    db = tmp_path / "kiosk.db"
    config = tmp_path / "kiosk.toml"
    script = ("import os, signal, threading, sys\n"
              "from kiosk.config import load_config\nfrom kiosk.run import run\n"
              "threading.Timer(3, os.kill, (os.getpid(), signal.SIGTERM)).start()\n"
              f"sys.exit(run(load_config({str(config)!r}), {str(db)!r}))\n")
    started = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO,
                             env={**os.environ, "SDL_VIDEODRIVER": "dummy"})
    assert started.returncode == 0, started.stderr
    status = json.loads(kiosk("status", "--db", str(db), cwd=tmp_path, env={}).stdout)
    assert status["start_error"] is None


def test_kiosk_service_stays_stopped_on_missing_hardware_and_names_the_status():
    unit = (REPO / "systemd/kiosk.service").read_text()
    prevent = re.search(r"^RestartPreventExitStatus=(.*)$", unit, re.M).group(1).split()
    assert {str(MAINTENANCE_EXIT), str(MISSING_HARDWARE_EXIT)} <= set(prevent)
    readme = (REPO / "README.md").read_text()
    assert f"exits with status {MISSING_HARDWARE_EXIT}" in readme


def test_a_pin_factory_already_set_is_used_and_another_by_name_is_refused(monkeypatch):
    before = Device.pin_factory
    try:
        Device.pin_factory = mock = MockFactory()
        assert pin_factory() is mock
        Device.pin_factory = None
        monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "rpigpio")
        with pytest.raises(HardwareError, match=r"^GPIOZERO_PIN_FACTORY=rpigpio: the kiosk drives its pins "
                                                r"with lgpio only"):
            pin_factory()
    finally:
        if Device.pin_factory is not None and Device.pin_factory is not before:
            Device.pin_factory.close()
        Device.pin_factory = before
