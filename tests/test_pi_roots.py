"""The proof without a Pi: `install.sh --kiosk` for real in arm64 Debian 12 (Bookworm) and 13 (Trixie) roots.

Each root is debootstrapped once per machine and cached (tests/pi_roots.py),
copied afresh for every run and made to look like a Raspberry Pi (a Pi 4 on
Bookworm, a Pi 5 on Trixie: /proc/device-tree/model, the board revision,
/boot/firmware/config.txt and cmdline.txt). install.sh then runs in it as on
a Pi: apt-get from Debian, Python packages from PyPI at the versions of
requirements/constraints.txt, under qemu-user-static. What a kiosk needs is
then checked inside the root:

- the venv imports lgpio 0.2 or newer, rpi-lgpio as RPi.GPIO, spidev,
  mfrc522 and pygame-ce, and the libraries SDL's kmsdrm driver loads;
- lgpio cannot start in a working directory it cannot write to (the
  upstream problem), and the installed kiosk.service's environment gives it
  a folder of its own;
- the installed kiosk.service's ExecStart, run with the unit's user,
  environment and directories from the unwritable folder /, reaches READY
  on the fake driver (SDL's dummy video driver), and on the real driver
  says in one line that there is no GPIO chip (or no display) and exits
  with the status the unit does not restart;
- the appliance settings, the boot-partition config and (Bookworm) a second
  version and `install.sh --rollback` with a stand-in systemctl.

Raspberry Pi OS's own archive cannot be reached from here: on a real Pi,
install.sh takes python3-lgpio and python3-rpi-lgpio from it, the path that
Debian (which has neither) does not take. The time of each step is printed.

Run by `make pi-check` (as root; CI installs debootstrap, qemu-user-static
and binfmt-support from docs/test-packages.txt).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kiosk.domain.model import KIOSK_ID_RULE
from tests import pi_roots
from tests.test_deploy_install import environment, expand, parse_unit, snapshot_source

pytestmark = pytest.mark.pi

SUITES = ("bookworm", "trixie")
SRC = "/usr/src/library-kiosk"  # where the checkout sits in the root, as a `git clone` on the Pi
VENV = "/opt/library-kiosk/current"
PYTHON = {"bookworm": "3.11", "trixie": "3.13"}
NOTIFY = "/run/library-kiosk-test/notify"


@dataclass
class Pi:
    suite: str
    root: Path
    install: subprocess.CompletedProcess
    times: dict[str, float] = field(default_factory=dict)

    def run(self, command: list[str], **kwargs) -> subprocess.CompletedProcess:
        return pi_roots.run_in(self.root, command, **kwargs)


def preflight() -> None:
    ci = bool(os.environ.get("CI"))
    if os.geteuid() != 0:
        if ci:
            pytest.fail("the pi checks build roots with debootstrap and chroot: run them as root")
        pytest.skip("the pi checks build roots with debootstrap and chroot: run them as root (make pi-check)")
    missing = pi_roots.missing_tools()
    if missing:
        message = f"missing {', '.join(missing)}: apt-get install $(cat docs/test-packages.txt)"
        if ci:
            pytest.fail(message)
        pytest.skip(message)


def say(text: str) -> None:
    print(f"\n[pi-check] {text}", flush=True)


def wanted(session) -> list[str]:
    """The releases the selected tests ask for (all of them, unless -k narrows it)."""
    return [suite for suite in SUITES
            if any(getattr(item, "callspec", None) and item.callspec.params.get("pi") == suite
                   for item in session.items)]


def prepare(suite: str) -> Pi:
    """A fresh root of `suite` with the kiosk installed by install.sh --kiosk, and the time each step took."""
    times: dict[str, float] = {}
    started = time.monotonic()
    cached = (pi_roots.CACHE / f"{suite}-{pi_roots.ARCH}-{pi_roots.base_key(suite)}/.library-kiosk-base").exists()
    pi_roots.base_root(suite)
    times["base root" + (" (cached)" if cached else " (debootstrap)")] = time.monotonic() - started
    mark = time.monotonic()
    root = pi_roots.fresh_root(suite)
    src = root / SRC.lstrip("/")
    src.mkdir(parents=True)
    snapshot_source(src)
    times["fresh copy"] = time.monotonic() - mark
    mark = time.monotonic()
    pi_roots.wheelhouse(src / "requirements/constraints.txt", (PYTHON[suite],))
    times["wheels"] = time.monotonic() - mark
    mark = time.monotonic()
    log = root.parent / f"{suite}-install.log"
    result = pi_roots.run_logged(root, ["bash", f"{SRC}/systemd/install.sh", "--kiosk"], log, caches=True)
    times["install.sh --kiosk"] = time.monotonic() - mark
    pi_roots.debs(root, back=True)
    say(f"{suite}: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()) + f" (log: {log})")
    for at, line in pi_roots.phases(log):
        print(f"    {suite} +{at:4.0f} s  {line}", flush=True)
    return Pi(suite, root, result, times)


@pytest.fixture(scope="module")
def installs(request):
    """Both releases installed side by side: on a busy machine two emulated installs finish sooner together."""
    preflight()
    suites = wanted(request.session)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(suites) or 1) as pool:
        futures = {suite: pool.submit(prepare, suite) for suite in suites}
        yield futures
    # What CI prints of each release: where its time went, and the whole run's, the two side by side.
    for suite, future in futures.items():
        if future.done() and future.exception() is None:
            times = future.result().times
            say(f"{suite}: {sum(times.values()):.0f} s: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))
    say(f"{' and '.join(suites)} side by side: {time.monotonic() - started:.0f} s")
    # A root is a gigabyte: this run's go, its install logs stay until the next run.
    for future in futures.values():
        if future.done() and future.exception() is None:
            shutil.rmtree(future.result().root, ignore_errors=True)


@pytest.fixture(scope="module", params=SUITES)
def pi(request, installs):
    """A fresh root of one Debian release with the kiosk installed by install.sh --kiosk."""
    suite = request.param
    installed = installs[suite].result()
    result = installed.install
    assert result.returncode == 0, f"install.sh --kiosk in {suite}:\n{result.stdout[-8000:]}"
    started = time.monotonic()  # after the install: not the wait for it
    yield installed
    installed.times["checks"] = installed.times.get("checks", 0.0) + time.monotonic() - started
    say(f"{suite}: checks {installed.times['checks']:.0f} s")


# --- the venv ---------------------------------------------------------------

STACK = r"""
import json, os, sys, glob
from importlib import metadata
import lgpio, RPi.GPIO, spidev, mfrc522, pygame
try:
    pypi_rpi_gpio = str(metadata.distribution("RPi.GPIO").locate_file(""))
except metadata.PackageNotFoundError:
    pypi_rpi_gpio = None
print(json.dumps({
    "python": "%d.%d" % sys.version_info[:2],
    "lgpio": [(lgpio.LGPIO_PY_VERSION >> s) & 0xFF for s in (24, 16, 8, 0)],
    "lgpio_file": lgpio.__file__,
    "rpi_gpio_is_rpi_lgpio": getattr(RPi.GPIO, "lgpio", None) is lgpio,
    "rpi_gpio_file": RPi.GPIO.__file__,
    "rpi_gpio_package": pypi_rpi_gpio,
    "spidev_file": spidev.__file__,
    "mfrc522": metadata.version("mfrc522"),
    "pygame_ce": bool(getattr(pygame, "IS_CE", False)),
    "pygame": pygame.version.ver,
    "sdl": glob.glob(os.path.join(os.path.dirname(pygame.__file__), "..", "pygame_ce.libs", "libSDL2-*")),
    "prefix": sys.prefix,
}))
"""


def stack(pi: Pi) -> dict:
    result = pi.run([f"{VENV}/bin/python", "-c", STACK], env={"LG_WD": "/tmp", "PYGAME_HIDE_SUPPORT_PROMPT": "1"},
                    cwd="/tmp")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_venv_imports_the_pi_gpio_stack(pi):
    found = stack(pi)
    assert found["python"] == PYTHON[pi.suite]
    assert tuple(found["lgpio"][:2]) >= (0, 2), found["lgpio"]
    assert found["rpi_gpio_is_rpi_lgpio"], found["rpi_gpio_file"]
    assert found["rpi_gpio_package"] is None  # the RPi.GPIO package never came in
    # Debian's python3-spidev through the system site packages: nothing compiled for it.
    assert found["spidev_file"].startswith("/usr/lib/python3/dist-packages/"), found["spidev_file"]
    assert found["mfrc522"] == constraint("mfrc522")
    assert found["pygame_ce"] and found["pygame"] == constraint("pygame-ce")
    assert "lgpio" in pi.install.stdout and "RPi.GPIO from rpi-lgpio" in pi.install.stdout
    version = (Path(__file__).resolve().parent.parent / "VERSION").read_text().strip()
    assert pi.run(["kiosk", "--version"]).stdout.strip() == f"kiosk, version {version}"


def constraint(name: str) -> str:
    for line in (Path(__file__).resolve().parent.parent / "requirements/constraints.txt").read_text().splitlines():
        if line.startswith(f"{name}=="):
            return line.split("==", 1)[1]
    raise AssertionError(f"{name} is not in requirements/constraints.txt")


def test_lgpio_comes_from_the_constraints_and_on_python_3_13_is_built_from_source(pi):
    found = stack(pi)
    assert ".".join(map(str, found["lgpio"])) == constraint("lgpio")
    built = "building it from source" in pi.install.stdout
    # PyPI has lgpio wheels up to Python 3.12 only; Debian has no python3-lgpio.
    assert built == (pi.suite == "trixie"), pi.install.stdout[-3000:]


KMSDRM = r"""
import ctypes, glob, json, sys
sdl = glob.glob(sys.prefix + "/lib/python3*/site-packages/pygame_ce.libs/libSDL2-*")[0]
names = [n for n in (b"libdrm.so.2", b"libgbm.so.1", b"libEGL.so.1", b"libGLESv2.so.2") if n in open(sdl, "rb").read()]
loaded = {}
for name in names:
    try:
        ctypes.CDLL(name.decode())
        loaded[name.decode()] = "ok"
    except OSError as exc:
        loaded[name.decode()] = str(exc)
print(json.dumps({"sdl": sdl, "asks_for": [n.decode() for n in names], "loaded": loaded}))
"""


def test_sdl_finds_what_its_kmsdrm_driver_loads(pi):
    result = pi.run([f"{VENV}/bin/python", "-c", KMSDRM])
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["asks_for"] == ["libdrm.so.2", "libgbm.so.1", "libEGL.so.1", "libGLESv2.so.2"], found["sdl"]
    assert set(found["loaded"].values()) == {"ok"}, found["loaded"]
    # Mesa's drivers for the Pi's GPUs, which GBM and EGL load in turn.
    dri = pi.root / "usr/lib/aarch64-linux-gnu/dri"
    assert (dri / "v3d_dri.so").exists() and (dri / "vc4_dri.so").exists(), sorted(p.name for p in dri.iterdir())


# --- the unit, run as systemd would run it -----------------------------------


def unit(pi: Pi, name: str) -> dict[str, list[str]]:
    return parse_unit(pi.root / "etc/systemd/system" / name)["Service"]


def prepare_directories(pi: Pi, service: dict[str, list[str]]) -> None:
    """What systemd makes before it starts the unit: its runtime, state and cache folders, owned by its user."""
    user = service["User"][0]
    for key, base in (("RuntimeDirectory", "/run"), ("StateDirectory", "/var/lib"), ("CacheDirectory", "/var/cache")):
        for name in " ".join(service.get(key, [])).split():
            folder = f"{base}/{name}"
            if key == "RuntimeDirectory":  # emptied at every start
                shutil.rmtree(pi.root / folder.lstrip("/"), ignore_errors=True)
            pi.run(["install", "-d", "-o", user, "-g", user, "-m", "0750", folder], check=True)


def unit_command(pi: Pi, service, key: str, env: dict[str, str]) -> list[str]:
    [line] = service[key]
    return expand(line, env)


def start_kiosk(pi: Pi, config: str, **overrides: str):
    """The installed kiosk.service's ExecStartPre and ExecStart, from /, as its user, with its environment."""
    service = unit(pi, "kiosk.service")
    env = environment(service, pi.root)
    env.update(KIOSK_CONFIG=config, PYGAME_HIDE_SUPPORT_PROMPT="1", **overrides)
    env = {k: v for k, v in env.items() if v is not None}
    prepare_directories(pi, service)
    user = service["User"][0]
    assert "WorkingDirectory" not in service  # systemd's default, /: not writable by the kiosk
    pre = pi.run(unit_command(pi, service, "ExecStartPre", env), env=env, user=user, timeout=300)
    assert pre.returncode == 0, pre.stderr
    return service, env, user


def write_config(pi: Pi, name: str, driver: str) -> str:
    path = f"/etc/library-kiosk/{name}"
    text = (pi.root / "etc/library-kiosk/kiosk.toml").read_text().replace('driver = "real"', f'driver = "{driver}"')
    (pi.root / path.lstrip("/")).write_text(text)
    pi.run(["chown", "root:kiosk", path], check=True)
    pi.run(["chmod", "0640", path], check=True)
    return path


def test_lgpio_cannot_start_in_a_folder_it_cannot_write_and_the_unit_gives_it_one(pi):
    service = unit(pi, "kiosk.service")
    env = environment(service, pi.root)
    prepare_directories(pi, service)
    bare = pi.run([f"{VENV}/bin/python", "-c", "import lgpio"], user="kiosk", cwd="/")
    # gpiozero issue 1106: the named pipe goes into the working directory.
    assert bare.returncode != 0 and ".lgd-nfy" in bare.stderr, bare.stderr
    with_unit = pi.run([f"{VENV}/bin/python", "-c", "import lgpio"], user="kiosk", cwd="/",
                       env={"LG_WD": env["LG_WD"]})
    assert with_unit.returncode == 0, with_unit.stderr
    assert [p.name for p in (pi.root / env["LG_WD"].lstrip("/")).iterdir()] == [".lgd-nfy0"]


def test_the_installed_service_reaches_ready_on_the_fake_driver(pi):
    config = write_config(pi, "kiosk-fake.toml", "fake")
    service, env, user = start_kiosk(pi, config, SDL_VIDEODRIVER="dummy")
    notify_dir = pi.root / NOTIFY.lstrip("/")
    shutil.rmtree(notify_dir.parent, ignore_errors=True)
    notify_dir.parent.mkdir(parents=True)
    notify_dir.parent.chmod(0o777)
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(notify_dir))
        notify_dir.chmod(0o777)
        notify.settimeout(240)  # under qemu, pygame's import alone takes a while
        started = time.monotonic()
        kiosk = pi_roots.popen_in(pi.root, unit_command(pi, service, "ExecStart", env),
                                  env={**env, "NOTIFY_SOCKET": NOTIFY}, user=user)
        heard = []
        try:
            while "READY=1" not in heard:
                heard.append(notify.recv(4096).decode())
            ready_after = time.monotonic() - started
            while not any(h.startswith("STATUS=") for h in heard):  # sent just after READY
                heard.append(notify.recv(4096).decode())
            kiosk.send_signal(signal.SIGTERM)  # systemctl stop
            out, err = kiosk.communicate(timeout=60)
        finally:
            if kiosk.poll() is None:
                kiosk.kill()
                kiosk.communicate()
    say(f"{pi.suite}: kiosk.service READY after {ready_after:.0f} s (emulated)")
    assert kiosk.returncode == 0, err
    assert "Traceback" not in err
    assert any(h.startswith("STATUS=kiosk door-1: showing idle") for h in heard), heard


def test_the_real_driver_without_a_gpio_chip_says_so_in_one_line(pi):
    service, env, user = start_kiosk(pi, "/etc/library-kiosk/kiosk.toml", SDL_VIDEODRIVER="dummy")
    result = pi.run(unit_command(pi, service, "ExecStart", env), env=env, user=user, timeout=300)
    assert result.returncode == 69
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["kiosk: no GPIO chip: /dev/gpiochip* does not exist (not a Raspberry Pi, or its GPIO driver "
                     "is not loaded)"], result.stderr
    # lgpio was imported and made its pipe where the unit told it to.
    assert (pi.root / env["LG_WD"].lstrip("/") / ".lgd-nfy0").exists()
    status = pi.run([f"{VENV}/bin/kiosk", "status", "--db", "/var/lib/library-kiosk/kiosk.db"], user=user)
    assert json.loads(status.stdout)["start_error"] == lines[0].removeprefix("kiosk: ")


def test_the_real_driver_without_a_screen_says_so_in_one_line(pi):
    service, env, user = start_kiosk(pi, "/etc/library-kiosk/kiosk.toml")  # the unit's own kmsdrm
    assert env["SDL_VIDEODRIVER"] == "kmsdrm"
    result = pi.run(unit_command(pi, service, "ExecStart", env), env=env, user=user, timeout=300)
    assert result.returncode == 69
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    # The same line as off a Pi (tests/test_faults_cli.py): no /dev/dri, no kmsdrm.
    assert len(lines) == 1 and lines[0].startswith(
        "kiosk: no display: the display cannot be opened (SDL_VIDEODRIVER=kmsdrm: "), result.stderr


# --- the appliance ------------------------------------------------------------


def systemctl(pi: Pi, *args: str) -> str:
    return pi.run(["systemctl", *args], env={"SYSTEMD_OFFLINE": "1"}).stdout.strip()


def test_the_units_verify_with_this_releases_systemd(pi):
    units = ["kiosk.service", "kiosk-sync.service", "library-kiosk-boot-config.service",
             "kiosk-backlight@off.service", "kiosk-backlight-off.timer", "kiosk-backlight-on.timer"]
    result = pi.run(["systemd-analyze", "verify", "--man=no", *units], cwd="/etc/systemd/system", timeout=600)
    out = "\n".join(line for line in (result.stdout + result.stderr).splitlines()
                    # Neither runs in a root without /proc: these are about the root, not the units.
                    if "/proc" not in line and "Failed to" not in line)
    assert result.returncode == 0 and out == "", result.stdout + result.stderr


def test_appliance_settings_are_in_place(pi):
    assert systemctl(pi, "is-enabled", "kiosk.service") == "enabled"
    assert systemctl(pi, "is-enabled", "library-kiosk-boot-config.service") == "enabled"
    assert systemctl(pi, "is-enabled", "getty@tty1.service") == "masked"
    assert systemctl(pi, "is-enabled", "kiosk-backlight-off.timer") == "disabled"
    watchdog = pi.run(["systemd-analyze", "cat-config", "systemd/system.conf"]).stdout
    assert "RuntimeWatchdogSec=15s" in watchdog
    journal = pi.run(["systemd-analyze", "cat-config", "systemd/journald.conf"]).stdout
    assert "Storage=volatile" in journal and "RuntimeMaxUse=32M" in journal
    assert (pi.root / "boot/firmware/cmdline.txt").read_text().rstrip("\n").endswith(" consoleblank=0")
    assert "\ndtparam=spi=on\n" in (pi.root / "boot/firmware/config.txt").read_text()


def test_a_config_on_the_boot_partition_becomes_the_kiosks(pi):
    service = parse_unit(pi.root / "etc/systemd/system/library-kiosk-boot-config.service")["Service"]
    command = service["ExecStart"][0].split()
    boot = pi.root / "boot/firmware/library-kiosk.toml"
    config = pi.root / "etc/library-kiosk/kiosk.toml"
    before = config.read_text()
    boot.write_text('[kiosk]\nid = "cabinet 3a"\n')  # a space: not a valid id
    bad = pi.run(command)
    assert bad.returncode == 1
    assert bad.stderr.strip() == ("boot-config: not used, the kiosk keeps /etc/library-kiosk/kiosk.toml: "
                                  f"/boot/firmware/library-kiosk.toml: [kiosk] id: must be {KIOSK_ID_RULE}, "
                                  "not 'cabinet 3a'")
    assert boot.exists() and config.read_text() == before
    boot.write_text('[kiosk]\nid = "cabinet-3a"\nrole = "cabinet"\n[hardware]\ndriver = "real"\n'
                    '[central]\nurl = "http://library.school.example:8080"\ntoken = "secret"\n')
    good = pi.run(command)
    assert good.returncode == 0, good.stderr
    assert not boot.exists()  # it held the token, on a partition anyone can read
    assert 'id = "cabinet-3a"' in config.read_text()
    assert (pi.root / "etc/library-kiosk/kiosk.toml.before-boot-config").read_text() == before
    owner = pi.run(["stat", "-c", "%U:%G %a", "/etc/library-kiosk/kiosk.toml"]).stdout.strip()
    assert owner == "root:kiosk 640"
    (pi.root / "etc/library-kiosk/kiosk.toml").write_text(before)


# One release is enough for the switch of versions.
@pytest.mark.parametrize("pi", ["bookworm"], indirect=True)
def test_a_bad_new_version_is_rolled_back_and_the_services_restarted(pi):
    """A new version that cannot run (installed without its packages: no click, no pygame) goes live with the
    services restarted; --rollback brings back the one before and restarts them again."""
    fake = pi.root / "usr/local/sbin/systemctl"
    fake.write_text('#!/bin/sh\necho "$*" >>/run/fake-systemctl.log\n'
                    'case "$1" in is-enabled) echo enabled ;; esac\n')
    fake.chmod(0o755)
    running = pi.root / "run/systemd/system"  # how install.sh tells that systemd runs the machine
    running.mkdir(parents=True, exist_ok=True)
    log = pi.root / "run/fake-systemctl.log"
    version = [f"{VENV}/bin/kiosk", "--version"]
    try:
        home = pi.root / "opt/library-kiosk"
        first = os.readlink(home / "current")
        sdnotify = pi.root / SRC.lstrip("/") / "kiosk/sdnotify.py"
        sdnotify.write_text(sdnotify.read_text() + "\n# a new version\n")
        mark = time.monotonic()
        bad = pi.run(["bash", f"{SRC}/systemd/install.sh", "--kiosk", "--no-packages"], caches=True, timeout=1800)
        say(f"{pi.suite}: a second version installed in {time.monotonic() - mark:.0f} s")
        assert bad.returncode == 0, bad.stdout[-3000:] + bad.stderr[-3000:]
        second = os.readlink(home / "current")
        assert second != first
        assert "try-restart kiosk.service kiosk-sync.service library-kiosk-boot-config.service" in log.read_text()
        assert pi.run(version).returncode != 0  # the bad version
        log.write_text("")
        back = pi.run(["bash", f"{SRC}/systemd/install.sh", "--rollback"])
        assert back.returncode == 0, back.stderr
        assert f"rolled back from {Path(second).name} to {Path(first).name}" in back.stdout
        assert os.readlink(home / "current") == first and os.readlink(home / "previous") == second
        assert pi.run(version).returncode == 0
        assert log.read_text().splitlines() == ["daemon-reload", "restart kiosk.service kiosk-sync.service"]
    finally:
        fake.unlink()
        shutil.rmtree(running)
