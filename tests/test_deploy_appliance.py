"""install.sh's appliance settings, versions and rollback, in throwaway root directories (no packages).

What a kiosk gets besides the program: the hardware watchdog, a journal in
memory, no console blanking, no login prompt on the kiosk's screen, the
config from the boot partition, an optional backlight schedule; each
version in its own venv behind `current`, and `--rollback`. The same
settings are checked again after a whole install in arm64 roots
(tests/test_pi_roots.py), where the scripts run for real.
"""

import os
import subprocess
from pathlib import Path

import pytest

from tests.test_deploy_install import (
    BOOT_CONFIG, CMDLINE, REPO, clean_env, install_into, parse_unit, run_install, tree_digest,
)

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 and not os.environ.get("CI"),
    reason="install.sh creates users and sets owners: run the tests as root",
)

PI = "Raspberry Pi 4 Model B Rev 1.5"


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory):
    return install_into(tmp_path_factory, "appliance", ["--kiosk"], model=PI, boot_config=BOOT_CONFIG,
                        cmdline=CMDLINE)


def conf(path: Path) -> dict[str, str]:
    """A systemd .conf file's settings as {key: value}."""
    return {k.strip(): v.strip() for k, _, v in (line.partition("=") for line in path.read_text().splitlines())
            if v and not k.startswith("#")}


def test_the_hardware_watchdog_is_on(kiosk):
    root, _, _ = kiosk
    manager = conf(root / "etc/systemd/system.conf.d/library-kiosk.conf")
    # The Pi's watchdog (bcm2835-wdt) cannot wait longer than 15 s.
    assert manager["RuntimeWatchdogSec"] == "15s"
    assert manager["RebootWatchdogSec"]


def test_the_journal_is_kept_in_memory_and_bounded(kiosk):
    root, _, _ = kiosk
    journal = conf(root / "etc/systemd/journald.conf.d/library-kiosk.conf")
    assert journal["Storage"] == "volatile"
    assert journal["RuntimeMaxUse"].endswith("M") and int(journal["RuntimeMaxUse"][:-1]) <= 64


def test_the_console_never_blanks_and_the_rest_of_the_command_line_stays(kiosk):
    root, _, out = kiosk
    cmdline = (root / "boot/firmware/cmdline.txt").read_text()
    assert cmdline == CMDLINE.rstrip("\n") + " consoleblank=0\n"
    assert "console blanking off" in out


def test_an_earlier_consoleblank_is_replaced_not_doubled(tmp_path_factory):
    root, script, _ = install_into(tmp_path_factory, "blank", ["--kiosk"], model=PI, boot_config=BOOT_CONFIG,
                                   cmdline="console=tty1 consoleblank=600 rootwait\n")
    assert (root / "boot/firmware/cmdline.txt").read_text() == "console=tty1 rootwait consoleblank=0\n"


def test_no_login_prompt_on_the_kiosks_screen(kiosk):
    root, _, _ = kiosk
    assert os.readlink(root / "etc/systemd/system/getty@tty1.service") == "/dev/null"


def test_the_boot_partition_config_is_read_before_the_kiosk_starts(kiosk):
    root, _, _ = kiosk
    unit = parse_unit(root / "etc/systemd/system/library-kiosk-boot-config.service")
    assert unit["Unit"]["ConditionPathExists"] == ["/boot/firmware/library-kiosk.toml"]
    assert {"kiosk.service", "kiosk-sync.service"} <= set(" ".join(unit["Unit"]["Before"]).split())
    wants = root / "etc/systemd/system/multi-user.target.wants/library-kiosk-boot-config.service"
    assert wants.is_symlink()
    program = unit["Service"]["ExecStart"][0].split()[0]
    assert os.access(root / program.lstrip("/"), os.X_OK)


def test_the_backlight_schedule_is_installed_but_off_until_asked_for(kiosk):
    root, _, _ = kiosk
    for timer in ("kiosk-backlight-off.timer", "kiosk-backlight-on.timer"):
        assert (root / "etc/systemd/system" / timer).is_file()
        assert not (root / "etc/systemd/system/timers.target.wants" / timer).exists()


def test_the_backlight_script_switches_every_backlight(tmp_path):
    lights = tmp_path / "backlight"
    for name in ("10-0045", "rpi_backlight"):
        (lights / name).mkdir(parents=True)
        (lights / name / "bl_power").write_text("0\n")
    script = REPO / "systemd/backlight.sh"
    env = {**os.environ, "BACKLIGHTS": str(lights)}
    off = subprocess.run(["bash", str(script), "off"], capture_output=True, text=True, env=env, timeout=30)
    assert off.returncode == 0
    assert [(lights / n / "bl_power").read_text().strip() for n in ("10-0045", "rpi_backlight")] == ["4", "4"]
    subprocess.run(["bash", str(script), "on"], check=True, capture_output=True, env=env, timeout=30)
    assert (lights / "10-0045/bl_power").read_text().strip() == "0"
    none = subprocess.run(["bash", str(script), "off"], capture_output=True, text=True, timeout=30,
                          env={**os.environ, "BACKLIGHTS": str(tmp_path / "none")})
    assert none.returncode == 0 and "no backlight" in none.stderr


def test_a_calendar_of_the_backlight_timers_is_one_systemd_understands():
    for timer in ("kiosk-backlight-off.timer", "kiosk-backlight-on.timer"):
        [when] = parse_unit(REPO / "systemd" / timer)["Timer"]["OnCalendar"]
        result = subprocess.run(["systemd-analyze", "calendar", when], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr


# --- versions and rollback -----------------------------------------------------


def kiosk_marker(root: Path) -> str:
    python = root / "opt/library-kiosk/current/bin/python"
    return subprocess.run([str(python), "-c", "import kiosk.sdnotify as s; print(getattr(s, 'MARK', 'first'))"],
                          capture_output=True, text=True, timeout=60, cwd=root, env=clean_env(),
                          check=True).stdout.strip()


def test_each_version_has_its_venv_and_rollback_goes_back_and_forth(tmp_path_factory):
    root, script, _ = install_into(tmp_path_factory, "versions", ["--kiosk"], model=PI)
    home = root / "opt/library-kiosk"
    first = os.readlink(home / "current")
    assert not (home / "previous").exists()
    refused = subprocess.run(["bash", str(script), "--rollback", "--root", str(root)], capture_output=True,
                             text=True, env=clean_env(), timeout=60)
    assert refused.returncode == 1
    assert "no earlier version to go back to (/opt/library-kiosk/previous is missing)" in refused.stderr
    assert os.readlink(home / "current") == first

    sdnotify = script.parent.parent / "kiosk/sdnotify.py"
    sdnotify.write_text(sdnotify.read_text() + "\nMARK = 'second'\n")
    assert run_install(script, root, "--kiosk").returncode == 0
    second = os.readlink(home / "current")
    assert second != first and os.readlink(home / "previous") == first
    assert kiosk_marker(root) == "second"

    back = subprocess.run(["bash", str(script), "--rollback", "--root", str(root)], capture_output=True, text=True,
                          env=clean_env(), timeout=60)
    assert back.returncode == 0, back.stderr
    assert os.readlink(home / "current") == first and os.readlink(home / "previous") == second
    assert kiosk_marker(root) == "first"
    assert f"rolled back from {Path(second).name} to {Path(first).name}" in back.stdout
    # systemd is not running in a --root: it says what it would restart.
    assert "systemctl restart kiosk.service kiosk-sync.service" in back.stdout

    # A third version: the oldest one not current or previous is removed.
    sdnotify.write_text(sdnotify.read_text() + "\nMARK = 'third'\n")
    assert run_install(script, root, "--kiosk").returncode == 0
    assert sorted(p.name for p in (home / "versions").iterdir()) == sorted(
        [Path(os.readlink(home / "current")).name, Path(first).name])


def test_32_bit_raspberry_pi_os_is_refused_before_anything_changes(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "uname").write_text("#!/bin/sh\necho armv7l\n")
    (fake / "dpkg").write_text("#!/bin/sh\necho armhf\n")
    for tool in fake.iterdir():
        tool.chmod(0o755)
    target = tmp_path / "root"
    target.mkdir()
    before = tree_digest(target)
    result = subprocess.run(["bash", str(REPO / "systemd/install.sh"), "--root", str(target), "--no-packages"],
                            capture_output=True, text=True, timeout=60,
                            env={**clean_env(), "PATH": f"{fake}:{os.environ['PATH']}"})
    assert result.returncode == 1
    assert result.stderr.startswith("install: error: library-kiosk needs 64-bit Raspberry Pi OS "
                                    "(Pi 3, 4, 5, Zero 2 W all run it)")
    assert result.stdout == ""
    assert tree_digest(target) == before


def test_a_64_bit_kernel_under_a_32_bit_system_is_refused_too(tmp_path):
    # Raspberry Pi OS 32-bit on a Pi 4 runs a 64-bit kernel: uname says aarch64, dpkg says armhf.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "uname").write_text("#!/bin/sh\necho aarch64\n")
    (fake / "dpkg").write_text("#!/bin/sh\necho armhf\n")
    for tool in fake.iterdir():
        tool.chmod(0o755)
    result = subprocess.run(["bash", str(REPO / "systemd/install.sh"), "--root", str(tmp_path), "--no-packages"],
                            capture_output=True, text=True, timeout=60,
                            env={**clean_env(), "PATH": f"{fake}:{os.environ['PATH']}"})
    assert result.returncode == 1
    assert "needs 64-bit Raspberry Pi OS" in result.stderr and "(aarch64, armhf)" in result.stderr
