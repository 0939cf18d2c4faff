"""The SD card image recipe (image/): pi-gen's config and our stage are complete, and the one thing the stage
does to the image is the install a Pi gets: systemd/install.sh --kiosk. Building an image itself needs pi-gen
and an hour; the install it runs is checked whole in arm64 roots by tests/test_pi_roots.py."""

import os
import shlex
import subprocess
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IMAGE = REPO / "image"
STAGE = IMAGE / "stage-library-kiosk"


def config() -> dict[str, str]:
    """image/config as pi-gen's build.sh sees it (it sources the file)."""
    names = [line.split("=", 1)[0] for line in (IMAGE / "config").read_text().splitlines()
             if line and not line.startswith("#")]
    script = f"set -eu; . {shlex.quote(str(IMAGE / 'config'))}; " + "; ".join(
        f"printf '%s=%s\\0' {n} \"${n}\"" for n in names)
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True, timeout=30).stdout
    return dict(item.split("=", 1) for item in out.split("\0") if item)


def test_the_config_builds_64_bit_raspberry_pi_os_lite_and_then_the_kiosk():
    c = config()
    assert c["IMG_NAME"] == "library-kiosk"
    assert c["RELEASE"] in ("bookworm", "trixie")
    assert c["STAGE_LIST"].split() == ["stage0", "stage1", "stage2", STAGE.name]
    # No interactive first-boot wizard on the kiosk's screen; no password logins over SSH.
    assert c["DISABLE_FIRST_BOOT_USER_RENAME"] == "1"
    assert c["PUBKEY_ONLY_SSH"] == "1" and "FIRST_USER_PASS" not in c
    build = (IMAGE / "build.sh").read_text()
    assert 'PI_GEN_REF=${PI_GEN_REF:-arm64}' in build  # pi-gen's branch for 64-bit images


def test_the_stage_has_what_pi_gen_runs():
    for path in ("prerun.sh", "00-install/00-run.sh"):
        assert os.access(STAGE / path, os.X_OK), path
    assert (STAGE / "EXPORT_IMAGE").is_file()
    assert "copy_previous" in (STAGE / "prerun.sh").read_text()


def test_the_stage_unpacks_the_project_and_runs_install_sh_kiosk_in_the_image(tmp_path):
    # pi-gen's 00-run.sh runs in the stage's folder with ROOTFS_DIR set and on_chroot defined;
    # here on_chroot only records what it would run in the image's chroot.
    work = tmp_path / "stage"
    (work / "files").mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "--cached", "--others", "--exclude-standard"], capture_output=True, check=True).stdout
    with tarfile.open(work / "files/library-kiosk.tar", "w") as tar:
        for name in archive.decode().split("\0"):
            if name and (REPO / name).is_file():
                tar.add(REPO / name, arcname=name)
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir()
    chroot_input = tmp_path / "chroot-input"
    script = (f"on_chroot() {{ cat >{shlex.quote(str(chroot_input))}; }}; export -f on_chroot; "
              f"export ROOTFS_DIR={shlex.quote(str(rootfs))}; "
              f"bash -e {shlex.quote(str(STAGE / '00-install/00-run.sh'))}")
    result = subprocess.run(["bash", "-c", script], cwd=work, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert os.access(rootfs / "usr/src/library-kiosk/systemd/install.sh", os.X_OK)
    assert (rootfs / "usr/src/library-kiosk/requirements/constraints.txt").is_file()
    steps = [line for line in chroot_input.read_text().splitlines() if line.strip()]
    assert steps == ["bash /usr/src/library-kiosk/systemd/install.sh --kiosk"]


def test_the_build_script_names_files_that_exist_and_the_scripts_pass_shellcheck():
    build = (IMAGE / "build.sh").read_text()
    for name in ("stage-library-kiosk", "config"):
        assert f'"$HERE/{name}"' in build and (IMAGE / name).exists(), name
    scripts = [IMAGE / "build.sh", STAGE / "prerun.sh", STAGE / "00-install/00-run.sh"]
    result = subprocess.run(["shellcheck", "-s", "bash", *map(str, scripts)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout
