"""systemd/install.sh into throwaway root directories, and the units it installs.

Each root starts like a fresh Raspberry Pi OS as far as the script can see:
/etc/passwd and friends, the boot config, the board's model name. The
script runs for real in it (users by `useradd --prefix`, the venv by
`python3 -m venv`, the project built and installed by pip, units enabled by
`systemctl --root`); only apt-get and the Python dependencies from PyPI are
left out (`--no-packages`); tests/test_pi_roots.py runs it whole, in arm64
Debian roots.

The units are checked by `systemd-analyze verify --root=ROOT`, which also
checks that each ExecStart program exists and is executable. It needs
systemd's own units (sysinit.target and the rest) in the root, as every Pi
has them: they are copied from this machine's /usr/lib/systemd/system.
"""

import hashlib
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from kiosk.config import load_config

REPO = Path(__file__).resolve().parent.parent
UNITS = ("kiosk.service", "kiosk-sync.service", "kiosk-central.service")
APPLIANCE_UNITS = ("library-kiosk-boot-config.service", "kiosk-backlight@off.service", "kiosk-backlight-off.timer",
                   "kiosk-backlight-on.timer")
# The central store's nightly backup and end-of-term forgetting: services started by their timers.
CENTRAL_TIMERS = ("kiosk-central-backup.timer", "kiosk-central-forget.timer")
CENTRAL_TIMER_UNITS = CENTRAL_TIMERS + ("kiosk-central-backup.service", "kiosk-central-forget.service")
CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait\n"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 and not os.environ.get("CI"),
    reason="install.sh creates users and sets owners: run the tests as root",
)


def seed_root(root: Path, model: str | None, boot_config: str | None, groups: str = "",
              cmdline: str | None = None) -> None:
    etc = root / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    # video exists on every Debian; spi, gpio and input are left to the script.
    (etc / "group").write_text("root:x:0:\nvideo:x:44:\nnogroup:x:65534:\n" + groups)
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n")
    (etc / "gshadow").write_text("root:*::\nvideo:*::\nnogroup:*::\n")
    for name in ("shadow", "gshadow"):
        (etc / name).chmod(0o640)
    if model is not None:
        (root / "proc/device-tree").mkdir(parents=True)
        (root / "proc/device-tree/model").write_bytes(model.encode() + b"\0")
    if boot_config is not None:
        (root / "boot/firmware").mkdir(parents=True)
        (root / "boot/firmware/config.txt").write_text(boot_config)
    if cmdline is not None:
        (root / "boot/firmware/cmdline.txt").write_text(cmdline)


def snapshot_source(dest: Path) -> Path:
    """A copy of the checkout, so that edits made meanwhile do not count."""
    ignore = shutil.ignore_patterns("__pycache__", "*.db", "*.db-*")
    for name in ("pyproject.toml", "README.md", "VERSION"):
        shutil.copy2(REPO / name, dest / name)
    for name in ("kiosk", "hardware", "sync", "systemd", "requirements"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    return dest / "systemd" / "install.sh"


def clean_env() -> dict[str, str]:
    """This environment without the test run's venv and Python settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}


def run_install(script: Path, root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(script), "--root", str(root), "--no-packages", *args],
        capture_output=True, text=True, env=clean_env(), timeout=300,
    )


def install_into(factory, name, args, model=None, boot_config=None, groups="", cmdline=None):
    base = factory.mktemp(name)
    root, src = base / "root", base / "src"
    root.mkdir()
    src.mkdir()
    seed_root(root, model, boot_config, groups, cmdline)
    script = snapshot_source(src)
    result = run_install(script, root, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return root, script, result.stdout


BOOT_CONFIG = "# Raspberry Pi OS\ndtparam=audio=on\n#dtparam=i2c_arm=on\n#dtparam=spi=on\n\n[cm4]\notg_mode=1\n\n[all]\n"


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """A Pi 5 that is a kiosk and the central store at once."""
    return install_into(
        tmp_path_factory, "both", ["--kiosk", "--central"],
        model="Raspberry Pi 5 Model B Rev 1.0", boot_config=BOOT_CONFIG, cmdline=CMDLINE,
    )


@pytest.fixture(scope="module")
def kiosk_only(tmp_path_factory):
    """A Pi 4 kiosk whose image has no boot config the script can find, and a
    group `kiosk` left from an earlier install."""
    return install_into(tmp_path_factory, "kiosk", [], model="Raspberry Pi 4 Model B Rev 1.5",
                        groups="kiosk:x:990:\n")


@pytest.fixture(scope="module")
def central_only(tmp_path_factory):
    """A school PC running only the central store."""
    return install_into(tmp_path_factory, "central", ["--central"])


# --- reading units and the root's account files ----------------------------


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values in order]}}."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def environment(service: dict[str, list[str]], root: Path) -> dict[str, str]:
    env = {}
    for line in service.get("Environment", []):
        key, _, value = line.partition("=")
        env[key] = value
    for name in service.get("EnvironmentFile", []):
        path = root / name.lstrip("-").lstrip("/")
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, value = line.partition("=")
                env[key.strip()] = value.strip()
    return env


def expand(command: str, env: dict[str, str]) -> list[str]:
    command = command.removeprefix("-")  # systemd: a failure of this command does not stop the unit
    command = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], command)
    words = []
    for word in command.split():
        if word.startswith("$"):
            words.extend(env[word[1:]].split())
        else:
            words.append(word)
    return words


def accounts(root: Path, name: str) -> dict[str, list[str]]:
    return {line.split(":")[0]: line.split(":") for line in (root / "etc" / name).read_text().splitlines()}


def verify(root: Path, unit: str) -> str:
    """Everything `systemd-analyze verify` says; empty means no warning at all."""
    if not (root / "usr/lib/systemd/system/sysinit.target").exists():
        shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True,
                        dirs_exist_ok=True)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={root}", unit],
        capture_output=True, text=True, timeout=60, cwd=root,
    )
    out = (result.stdout + result.stderr).strip()
    if result.returncode != 0 and not out:
        out = f"exit status {result.returncode}"
    return out


# --- the units ------------------------------------------------------------


@pytest.mark.parametrize("unit", UNITS + APPLIANCE_UNITS + CENTRAL_TIMER_UNITS)
def test_unit_verifies_without_any_warning(both, unit):
    root, _, _ = both
    assert verify(root, unit) == ""


def test_verify_check_reports_warnings_and_missing_programs(both):
    root, _, _ = both
    unit_dir = root / "etc/systemd/system"
    text = (unit_dir / "kiosk.service").read_text()
    try:
        (unit_dir / "typo-kiosk.service").write_text(text.replace("WatchdogSec=", "WatchdogSecs="))
        (unit_dir / "moved-kiosk.service").write_text(text.replace("/current/bin/kiosk run", "/current/bin/kiosk-gone run"))
        assert "Unknown key 'WatchdogSecs'" in verify(root, "typo-kiosk.service")
        assert "kiosk-gone is not executable" in verify(root, "moved-kiosk.service")
    finally:
        for name in ("typo-kiosk.service", "moved-kiosk.service"):
            (unit_dir / name).unlink(missing_ok=True)


def test_kiosk_unit_is_watched_and_restarted():
    service = parse_unit(REPO / "systemd/kiosk.service")["Service"]
    assert service["Type"] == ["notify"]
    assert float(service["WatchdogSec"][0]) > 0
    assert service["Restart"] == ["always"]
    assert "SDL_VIDEODRIVER=kmsdrm" in service["Environment"]
    assert "KIOSK_CONFIG=/etc/library-kiosk/kiosk.toml" in service["Environment"]
    assert service["DevicePolicy"] == ["closed"]
    allowed = {line.split()[0] for line in service["DeviceAllow"]}
    assert {"char-spi", "char-gpiochip", "char-drm", "char-fb", "char-input"} <= allowed


def test_sync_unit_waits_for_network_and_clock():
    unit = parse_unit(REPO / "systemd/kiosk-sync.service")["Unit"]
    after = " ".join(unit["After"]).split()
    assert {"network-online.target", "time-sync.target"} <= set(after)
    assert "network-online.target" in " ".join(unit["Wants"]).split()


@pytest.mark.parametrize("unit", UNITS)
def test_files_land_where_the_unit_expects_them(both, unit):
    root, _, _ = both
    service = parse_unit(root / "etc/systemd/system" / unit)["Service"]
    env = environment(service, root)
    passwd = accounts(root, "passwd")
    user = service["User"][0]
    uid = int(passwd[user][2])
    state_dirs = ["/var/lib/" + d for line in service["StateDirectory"] for d in line.split()]
    runtime_dirs = ["/run/" + d for line in service.get("RuntimeDirectory", []) for d in line.split()]
    writable = state_dirs + runtime_dirs + [p for line in service.get("ReadWritePaths", []) for p in line.split()]
    if "LG_WD" in env:
        # ProtectSystem=strict and WorkingDirectory=/: lgpio's named pipe needs a folder of the unit's own.
        assert env["LG_WD"] in runtime_dirs, env["LG_WD"]
        assert env["GPIOZERO_PIN_FACTORY"] == "lgpio"
    for key in ("ExecStartPre", "ExecStart"):
        for command in service.get(key, []):
            words = expand(command, env)
            program = root / words[0].lstrip("/")
            assert program.is_file() and os.access(program, os.X_OK), words[0]
            options = dict(zip(words[1:], words[2:]))
            if "--db" in options:
                db = options["--db"]
                folder = root / os.path.dirname(db).lstrip("/")
                assert folder.is_dir(), db
                assert folder.stat().st_uid == uid, f"{db}: not owned by {user}"
                # ProtectSystem=strict: the database must be on a writable path.
                assert any(db.startswith(w + "/") for w in writable), db
            if "--config" in options:
                cfg = root / options["--config"].lstrip("/")
                assert load_config(cfg).hardware.driver == "real"


def test_config_is_readable_by_the_kiosk_only(both):
    root, _, _ = both
    cfg = (root / "etc/library-kiosk/kiosk.toml").stat()
    assert stat.S_IMODE(cfg.st_mode) == 0o640
    assert cfg.st_uid == 0
    assert cfg.st_gid == int(accounts(root, "group")["kiosk"][2])


def test_kiosk_user_is_in_the_hardware_groups(both):
    root, _, _ = both
    group = accounts(root, "group")
    for name in ("spi", "gpio", "video", "input"):
        assert "kiosk" in group[name][3].split(","), name
        assert "kiosk-central" not in group[name][3].split(","), name
    assert accounts(root, "passwd")["kiosk"][6] == "/usr/sbin/nologin"


def test_units_are_enabled(both):
    root, _, _ = both
    wants = root / "etc/systemd/system/multi-user.target.wants"
    for unit in UNITS:
        assert os.readlink(wants / unit) == f"/etc/systemd/system/{unit}"
    timers = root / "etc/systemd/system/timers.target.wants"
    for timer in CENTRAL_TIMERS:
        assert os.readlink(timers / timer) == f"/etc/systemd/system/{timer}"


def test_spi_is_switched_on_in_the_boot_config(both):
    root, _, out = both
    text = (root / "boot/firmware/config.txt").read_text()
    assert text == BOOT_CONFIG.replace("#dtparam=spi=on", "dtparam=spi=on")
    assert "reboot" in out


def gpio_stack_line(out: str) -> str:
    return next(line for line in out.splitlines() if "rpi-lgpio" in line)


def test_every_model_gets_the_same_lgpio_stack(both, kiosk_only):
    # A Pi 5 and a Pi 4: lgpio, rpi-lgpio as RPi.GPIO, spidev; never RPi.GPIO itself.
    pi5, pi4 = gpio_stack_line(both[2]), gpio_stack_line(kiosk_only[2])
    assert pi5 == pi4
    assert pi5.startswith("install: skipped (--no-packages): lgpio, rpi-lgpio, spidev")
    assert "mfrc522 without RPi.GPIO" in pi5


def test_project_is_importable_from_the_venv(both):
    root, _, _ = both
    python = root / "opt/library-kiosk/current/bin/python"
    where = subprocess.run(
        [str(python), "-c", "import kiosk.sdnotify, hardware, sync; print(kiosk.sdnotify.__file__)"],
        capture_output=True, text=True, timeout=60, check=True, cwd=root, env=clean_env(),
    ).stdout.strip()
    version = (REPO / "VERSION").read_text().strip()
    [installed] = (root / "opt/library-kiosk/versions").iterdir()
    assert installed.name.startswith(f"{version}-")
    assert os.readlink(root / "opt/library-kiosk/current") == f"versions/{installed.name}"
    assert Path(where).resolve().is_relative_to(installed.resolve() / "lib")
    assert os.readlink(root / "usr/local/bin/kiosk") == "/opt/library-kiosk/current/bin/kiosk"


def tree_digest(root: Path) -> str:
    """Every path's type, owner, mode, modification time and content."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in [""] + sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            h.update(f"{path}\0{st.st_mode}\0{st.st_uid}\0{st.st_gid}\0{st.st_mtime_ns}\0".encode())
            if stat.S_ISLNK(st.st_mode):
                h.update(os.readlink(path).encode())
            elif stat.S_ISREG(st.st_mode):
                h.update(Path(path).read_bytes())
    return h.hexdigest()


def test_second_run_changes_nothing_and_keeps_an_edited_config(both):
    root, script, _ = both
    cfg = root / "etc/library-kiosk/kiosk.toml"
    edited = cfg.read_text().replace('id = "door-1"', 'id = "cabinet-3a"')
    cfg.write_text(edited)
    before = tree_digest(root)
    result = run_install(script, root, "--kiosk", "--central")
    assert result.returncode == 0, result.stderr
    assert "nothing to change" in result.stdout
    assert "kept the existing /etc/library-kiosk/kiosk.toml" in result.stdout
    assert tree_digest(root) == before
    assert cfg.read_text() == edited


def test_changed_source_is_installed_again(both):
    root, script, _ = both
    marker = script.parent.parent / "kiosk" / "sdnotify.py"
    marker.write_text(marker.read_text() + "\nINSTALLED_AGAIN = True\n")
    result = run_install(script, root, "--kiosk", "--central")
    assert result.returncode == 0, result.stderr
    assert "installed library-kiosk " in result.stdout
    python = root / "opt/library-kiosk/current/bin/python"
    check = subprocess.run([str(python), "-c", "import kiosk.sdnotify as s; print(s.INSTALLED_AGAIN)"],
                           capture_output=True, text=True, timeout=60, cwd=root, env=clean_env())
    assert check.stdout.strip() == "True", check.stderr


# --- other machines ---------------------------------------------------------


def test_pi4_kiosk_is_told_how_to_enable_spi_and_keeps_its_group(kiosk_only):
    root, _, out = kiosk_only
    assert "raspi-config nonint do_spi 0" in out
    assert not (root / "etc/systemd/system/kiosk-central.service").exists()
    assert not any((root / "etc/systemd/system" / unit).exists() for unit in CENTRAL_TIMER_UNITS)
    assert "kiosk-central" not in accounts(root, "passwd")
    assert accounts(root, "passwd")["kiosk"][3] == "990"
    assert verify(root, "kiosk.service") == ""


def test_central_only_machine_gets_no_kiosk(central_only):
    root, _, out = central_only
    system = root / "etc/systemd/system"
    assert sorted(p.name for p in system.glob("*.service")) == ["kiosk-central-backup.service",
                                                                 "kiosk-central-forget.service",
                                                                 "kiosk-central.service"]
    # The nightly backup and the end of term's forgetting are on: their timers are enabled.
    assert sorted(p.name for p in (system / "timers.target.wants").iterdir()) == sorted(CENTRAL_TIMERS)
    assert "enabled kiosk-central-backup.timer" in out and "enabled kiosk-central-forget.timer" in out
    assert "kiosk" not in accounts(root, "passwd")
    assert "spi" not in accounts(root, "group")
    assert not (root / "etc/library-kiosk/kiosk.toml").exists()
    env = environment(parse_unit(system / "kiosk-central.service")["Service"], root)
    assert env["KIOSK_CENTRAL_HOST"] == "0.0.0.0"
    assert "SPI" not in out
    for unit in ("kiosk-central.service",) + CENTRAL_TIMER_UNITS:
        assert verify(root, unit) == "", unit


def test_bad_options_are_refused_and_change_nothing(tmp_path):
    script = REPO / "systemd/install.sh"
    for args, message in (
        (["--root", str(tmp_path)], "needs --no-packages"),
        (["--root", str(tmp_path / "missing"), "--no-packages"], "no such directory"),
        (["--root", str(tmp_path), "--no-packages", "--kiosks"], "unknown option: --kiosks"),
    ):
        result = subprocess.run(["bash", str(script), *args], capture_output=True, text=True, timeout=30)
        assert result.returncode != 0
        assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_install_script_passes_shellcheck():
    result = subprocess.run(["shellcheck", str(REPO / "systemd/install.sh")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout
