"""Throwaway arm64 Debian roots that look like a Raspberry Pi, for the `pi` tests.

A root is made by `debootstrap --arch=arm64 --variant=minbase` and run under
qemu-user-static through binfmt_misc. The base root (Debian, systemd and
python3, as on Raspberry Pi OS Lite) is built once per machine and kept
under CACHE, keyed by a hash of everything that went into it; each test run
copies it afresh, into a folder of that run's own (two runs on one machine
must not meet), and gives the copy a Pi's identity: /proc/device-tree/model,
the board revision, /proc/cpuinfo, and /boot/firmware/config.txt and
cmdline.txt as Raspberry Pi OS writes them.

/proc is deliberately not mounted in the root: the files above stand in for
it, as they would on the Pi. Commands run in their own mount namespace
(`unshare --mount`), so the bind mounts of the download caches (pip's) vanish
with the command, whatever happens to the test. apt's .debs are copied in
before and back after, as two runs' apt would not share one archive folder.

The network trust of the machine running the tests (its CA bundle, which may
include a proxy's authority) is handed to pip in the root as PIP_CERT; on a
Pi nothing of the kind is needed.

Command line, for building and looking at the roots by hand:

    python -m tests.pi_roots build bookworm     # the cached base root
    python -m tests.pi_roots shell trixie       # a shell in a fresh copy
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shlex
import shutil
import ssl
import subprocess
import sys
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("KIOSK_ROOTS_CACHE", "/var/cache/library-kiosk-roots"))
WORK = Path(os.environ.get("KIOSK_ROOTS_WORK", "/var/tmp/library-kiosk-roots"))
MIRROR = os.environ.get("KIOSK_ROOTS_MIRROR", "http://deb.debian.org/debian")
ARCH = "arm64"
# What Raspberry Pi OS Lite has and install.sh relies on; the rest is install.sh's job.
BASE_PACKAGES = ("systemd", "systemd-sysv", "udev", "python3", "ca-certificates")
# Bump when the way a base root is made changes, so the cached ones are rebuilt.
RECIPE = "3"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOST_CA = "/etc/ssl/library-kiosk-test-host-ca.crt"
TOOLS = ("debootstrap", "qemu-aarch64-static", "update-binfmts", "unshare", "chroot")


@dataclass(frozen=True)
class Board:
    """The Raspberry Pi a root pretends to be."""

    model: str
    revision: int  # the board revision code, as in /proc/cpuinfo


# Each Debian release pretends to be another board, so both of gpiozero's
# and rpi-lgpio's chip choices (gpiochip0; gpiochip4 on a Pi 5) are taken.
BOARDS = {
    "bookworm": Board("Raspberry Pi 4 Model B Rev 1.5", 0xC03115),
    "trixie": Board("Raspberry Pi 5 Model B Rev 1.0", 0xD04170),
}

BOOT_CONFIG = """\
# For more options and information see
# http://rptl.io/configtxt
# Some settings may impact device functionality. See link above for details

# Uncomment some or all of these to enable the optional hardware interfaces
#dtparam=i2c_arm=on
#dtparam=i2s=on
#dtparam=spi=on

# Enable audio (loads snd_bcm2835)
dtparam=audio=on

# Automatically load overlays for detected cameras
camera_auto_detect=1

# Automatically load overlays for detected DSI displays
display_auto_detect=1

# Automatically load initramfs files, if found
auto_initramfs=1

# Enable DRM VC4 V3D driver
dtoverlay=vc4-kms-v3d
max_framebuffers=2

# Don't have the firmware create an initial video= setting in cmdline.txt.
# Use the kernel's default instead.
disable_fw_kms_setup=1

# Run in 64-bit mode
arm_64bit=1

# Disable compensation for displays with overscan
disable_overscan=1

# Run as fast as firmware / board allows
arm_boost=1

[cm4]
# Enable host mode on the 2711 built-in XHCI USB controller.
# This line should be removed if the legacy DWC2 controller is required
# (e.g. for USB device mode) or if USB support is not required.
otg_mode=1

[all]
"""

CMDLINE = ("console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes "
           "rootwait quiet splash plymouth.ignore-serial-consoles cfg80211.ieee80211_regdom=GB\n")


class RootError(Exception):
    """A root could not be made or a command in it could not be started."""


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def enable_binfmt() -> None:
    """Let this machine run arm64 programs through qemu-user-static (as root)."""
    misc = Path("/proc/sys/fs/binfmt_misc")
    if not (misc / "register").exists():
        subprocess.run(["mount", "binfmt_misc", "-t", "binfmt_misc", str(misc)], check=True,
                       capture_output=True, text=True)
    entry = misc / "qemu-aarch64"
    if not entry.exists() or not entry.read_text().startswith("enabled"):
        subprocess.run(["update-binfmts", "--enable", "qemu-aarch64"], check=True, capture_output=True, text=True)
    text = entry.read_text() if entry.exists() else ""
    if not text.startswith("enabled"):
        raise RootError(f"{entry}: qemu-aarch64 is not enabled after update-binfmts --enable qemu-aarch64")
    # F (fix binary): the interpreter is opened now, so it works inside a chroot without a copy.
    flags = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("flags:")), "")
    if "F" not in flags:
        raise RootError(f"{entry}: qemu-aarch64 is registered without the F flag (flags: {flags or 'none'}), "
                        "so it cannot run inside a chroot; install qemu-user-static from Debian")


def debootstrap_version() -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "debootstrap"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def base_key(suite: str) -> str:
    """What a cached base root depends on: change any of it and the root is built again."""
    parts = [RECIPE, suite, ARCH, "minbase", MIRROR, ",".join(BASE_PACKAGES), debootstrap_version()]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def host_ca_bundle() -> str:
    """The CA bundle this machine's pip trusts (it may include a proxy's authority)."""
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("REQUESTS_CA_BUNDLE"),
                      ssl.get_default_verify_paths().cafile, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return candidate
    raise RootError("no CA bundle found on this machine for pip in the root (set PIP_CERT)")


def log(message: str) -> None:
    print(f"[pi-roots] {message}", file=sys.stderr, flush=True)


def _chroot_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb", "DEBIAN_FRONTEND": "noninteractive",
           "PIP_CERT": HOST_CA, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_DEFAULT_TIMEOUT": "60",
           # The test machine's network drops connections now and then; a Pi's install retries by hand.
           "PIP_RETRIES": "10"}
    env.update(extra or {})
    return env


def debs(root: Path, back: bool = False) -> None:
    """apt's downloads for this release: from this machine's cache into `root`, or `back` from it."""
    cache = CACHE / "apt" / f"{ARCH}-{codename(root)}"
    inside = root / "var/cache/apt/archives"
    cache.mkdir(parents=True, exist_ok=True)
    inside.mkdir(parents=True, exist_ok=True)
    source, dest = (inside, cache) if back else (cache, inside)
    files = [str(p) for p in source.glob("*.deb")]
    if files:
        subprocess.run(["cp", "-n", "--reflink=auto", *files, str(dest)], check=True)


def _argv(root: Path, command: list[str], env: dict[str, str] | None, user: str | None, cwd: str,
          caches: bool) -> list[str]:
    mounts = []
    if caches:
        pip = CACHE / "pip"
        wheels = CACHE / "wheels"
        env = {"PIP_FIND_LINKS": WHEELHOUSE, "PIP_NO_INDEX": "1", **(env or {})}
        for host, inside in ((pip, "root/.cache/pip"), (wheels, WHEELHOUSE.lstrip("/"))):
            host.mkdir(parents=True, exist_ok=True)
            (root / inside).mkdir(parents=True, exist_ok=True)
            mounts.append(f"mount --bind {shlex.quote(str(host))} {shlex.quote(str(root / inside))}")
    inner = ["env", "-i", *[f"{k}={v}" for k, v in _chroot_env(env).items()], *command]
    if user is not None:
        inner = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *inner]
    inner = ["sh", "-c", 'cd "$0" && exec "$@"', cwd, *inner]
    script = "; ".join(["set -e", *mounts, f"exec chroot {shlex.quote(str(root))} " + shlex.join(inner)])
    # Without --fork, unshare and every exec after it stay one process: a signal to it reaches `command`.
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]


def run_in(root: Path, command: list[str], *, env: dict[str, str] | None = None, user: str | None = None,
           cwd: str = "/", timeout: float = 1800, caches: bool = False, input: str | None = None,
           check: bool = False) -> subprocess.CompletedProcess:
    """Run `command` in `root` (as `user`, from `cwd`) with exactly `env` added to a minimal environment.

    `caches` bind-mounts this machine's apt and pip download caches into the
    root for this command only.
    """
    try:
        return subprocess.run(_argv(root, command, env, user, cwd, caches), capture_output=True, text=True,
                              timeout=timeout, input=input, check=check)
    except subprocess.CalledProcessError as exc:
        raise RootError(f"in {root}: {shlex.join(command)} exited {exc.returncode}:\n{exc.stdout}{exc.stderr}") from None


WHEELHOUSE = "/var/cache/library-kiosk-wheels"  # inside a root
AARCH64_TAGS = ("manylinux_2_17_aarch64", "manylinux2014_aarch64", "manylinux_2_28_aarch64",
                "manylinux_2_34_aarch64")


def wheelhouse(constraints: Path, pythons: tuple[str, ...]) -> Path:
    """This machine's copy of PyPI's files of every pinned package: aarch64 wheels for `pythons`, else the source.

    Fetched once, by this machine's pip, and given to pip in the root as its
    only index (--no-index --find-links): pip's own cache keeps nothing here
    (this network's proxy sends no caching headers), and the proxy drops
    connections often enough that an emulated pip, retrying each, spent half
    an hour on it. The files are PyPI's; install.sh's choices among them (a
    wheel, else lgpio built from source) are made as against PyPI.
    """
    dest = CACHE / "wheels"
    dest.mkdir(parents=True, exist_ok=True)
    # One at a time (both releases' threads, or two runs): two pips writing one file would leave it broken.
    with open(CACHE / ".wheels.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _fill_wheelhouse(dest, constraints, pythons)


def _download(dest: Path, *args: str) -> bool:
    """`pip download` into `dest` from PyPI itself; False when PyPI has no such file, an error for anything else.

    A download that failed for another reason (the network) stops the run
    here, naming the package, rather than in the root's install later.
    """
    got = subprocess.run([sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check", "download", "-q",
                          "--no-deps", "--cert", host_ca_bundle(), "--retries", "10", "-d", str(dest), *args],
                         capture_output=True, text=True, timeout=600)
    if got.returncode == 0:
        return True
    if "No matching distribution" in got.stderr:
        return False
    last = [line for line in got.stderr.splitlines() if line.strip()][-1:] or [f"exit status {got.returncode}"]
    raise RootError(f"pip download {' '.join(args)}: {last[0]}")


def _fill_wheelhouse(dest: Path, constraints: Path, pythons: tuple[str, ...]) -> Path:
    missing = dest / ".no-wheel"  # pins PyPI has no such wheel of: asked once, not at every run
    known_missing = set(missing.read_text().split()) if missing.exists() else set()
    have = {p.name.lower() for p in dest.iterdir()}
    pins = [line.strip() for line in constraints.read_text().splitlines() if "==" in line and not line.startswith("#")]
    # And what pip builds the project with (pyproject's build-system), once.
    build = tomllib.loads((constraints.parent.parent / "pyproject.toml").read_text())["build-system"]["requires"]
    if not any(n.startswith("setuptools-") for n in have):
        _download(dest, "--only-binary", ":all:", *build)
    platforms = [arg for tag in AARCH64_TAGS for arg in ("--platform", tag)]
    for python in pythons:
        tag = "cp" + python.replace(".", "")
        for pin in pins:
            name, version = pin.split("==")
            prefix = f"{name.replace('-', '_').lower()}-{version}-"
            if any(n.startswith(prefix) and (f"-{tag}-" in n or "-none-any" in n or "-abi3-" in n) for n in have):
                continue
            if f"{tag}:{pin}" in known_missing:
                continue
            if not _download(dest, "--only-binary", ":all:", "--python-version", python, *platforms, pin):
                known_missing.add(f"{tag}:{pin}")
                missing.write_text("\n".join(sorted(known_missing)) + "\n")
            have = {p.name.lower() for p in dest.iterdir()}
    # The source of what has no wheel (lgpio for Python 3.13, spidev), and the
    # wheel package a build from source needs beside setuptools.
    wanted = {entry.split(":", 1)[1] for entry in known_missing} | {"wheel"}
    for pin in sorted(wanted):
        name = pin.split("==")[0].replace("-", "_").lower()
        if any(n.startswith(f"{name}-") and (n.endswith(".tar.gz") or pin == "wheel") for n in have):
            continue
        binary = ["--only-binary", ":all:"] if pin == "wheel" else ["--no-binary", ":all:"]
        if not _download(dest, *binary, pin):
            raise RootError(f"PyPI has neither a wheel nor the source of {pin}")
        have = {p.name.lower() for p in dest.iterdir()}
    return dest


def codename(root: Path) -> str:
    """The Debian release of `root` (bookworm, trixie)."""
    for line in (root / "etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"')
    raise RootError(f"{root}/etc/os-release: no VERSION_CODENAME")


def run_logged(root: Path, command: list[str], log_path: Path, *, env: dict[str, str] | None = None,
               timeout: float = 3600, caches: bool = False) -> subprocess.CompletedProcess:
    """`run_in` with stderr in stdout, each line written to `log_path` as it comes, with the seconds since start.

    For the long installs: `tail -f` the log to watch one, and the stamps say
    where the time went.
    """
    started = time.monotonic()
    lines = []
    with open(log_path, "w", encoding="utf-8") as log_file:
        proc = subprocess.Popen(_argv(root, command, env, None, "/", caches), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace")
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            for line in proc.stdout:
                lines.append(line)
                log_file.write(f"[{time.monotonic() - started:6.0f}s] {line}")
                log_file.flush()
            proc.wait()
        finally:
            timer.cancel()
    return subprocess.CompletedProcess(command, proc.returncode, "".join(lines), "")


def phases(log_path: Path) -> list[tuple[float, str]]:
    """The `install:` lines of a log from `run_logged`, with their seconds since the start."""
    found = []
    for line in log_path.read_text(encoding="utf-8").splitlines():
        stamp, _, text = line.partition("] ")
        if text.startswith("install: "):
            found.append((float(stamp.strip("[ s")), text))
    return found


def popen_in(root: Path, command: list[str], *, env: dict[str, str] | None = None, user: str | None = None,
             cwd: str = "/") -> subprocess.Popen:
    """`command` started in `root` as `run_in` would run it; its pid is the command's own."""
    return subprocess.Popen(_argv(root, command, env, user, cwd, False), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def harness_settings(root: Path) -> None:
    """What the test machine needs of a root, changing nothing install.sh does.

    dpkg without fsync (emulated, each one is slow), no translated package
    lists, retries over this machine's network, which drops connections now
    and then, and its name servers.
    """
    (root / "etc/dpkg/dpkg.cfg.d/library-kiosk-test").write_text("force-unsafe-io\n")
    (root / "etc/apt/apt.conf.d/99library-kiosk-test").write_text('Acquire::Languages "none";\n'
                                                                  'Acquire::Retries "5";\n')
    shutil.copy2("/etc/resolv.conf", root / "etc/resolv.conf")


def base_root(suite: str) -> Path:
    """The cached base root for `suite`, built when missing (a few minutes)."""
    key = base_key(suite)
    path = CACHE / f"{suite}-{ARCH}-{key}"
    if (path / ".library-kiosk-base").exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    # One build per release at a time, whichever process asks (two test runs on one machine).
    with open(CACHE / f".{suite}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (path / ".library-kiosk-base").exists():
            return path
        return _build_base(suite, key, path)


def _build_base(suite: str, key: str, path: Path) -> Path:
    enable_binfmt()
    building = CACHE / f".{path.name}.building"
    shutil.rmtree(building, ignore_errors=True)
    started = time.monotonic()
    debs = CACHE / "apt" / f"{ARCH}-debootstrap-{suite}"
    debs.mkdir(parents=True, exist_ok=True)
    log(f"{suite}: debootstrap --arch={ARCH} --variant=minbase into {building}")
    result = subprocess.run(
        ["debootstrap", f"--arch={ARCH}", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
         f"--cache-dir={debs}", suite, str(building), MIRROR],
        capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise RootError(f"debootstrap {suite} failed (exit {result.returncode}):\n{tail}")
    harness_settings(building)
    run_in(building, ["apt-get", "update", "-q"], check=True, timeout=1800)
    (building / ".library-kiosk-base").write_text(f"{suite} {key}\n")
    for old in CACHE.glob(f"{suite}-{ARCH}-*"):
        shutil.rmtree(old, ignore_errors=True)
    building.rename(path)
    log(f"{suite}: base root built in {time.monotonic() - started:.0f} s: {path}")
    return path


def pi_identity(root: Path, board: Board) -> None:
    """What a Raspberry Pi shows of itself under /proc and /boot/firmware."""
    tree = root / "proc/device-tree"
    (tree / "system").mkdir(parents=True, exist_ok=True)
    (tree / "model").write_bytes(board.model.encode() + b"\0")
    (tree / "system/linux,revision").write_bytes(board.revision.to_bytes(4, "big"))
    cores = "".join(f"processor\t: {n}\nBogoMIPS\t: 108.00\nCPU implementer\t: 0x41\n\n" for n in range(4))
    (root / "proc/cpuinfo").write_text(f"{cores}Revision\t: {board.revision:06x}\nSerial\t\t: 10000000c0ffee00\n"
                                       f"Model\t\t: {board.model}\n")
    firmware = root / "boot/firmware"
    firmware.mkdir(parents=True, exist_ok=True)
    (firmware / "config.txt").write_text(BOOT_CONFIG)
    (firmware / "cmdline.txt").write_text(CMDLINE)


def run_dir() -> Path:
    """This run's folder under WORK; the folders of runs that ended without tidying up are removed."""
    for old in WORK.glob("run-*"):
        pid = old.name.removeprefix("run-")
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(old, ignore_errors=True)
    path = WORK / f"run-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fresh_root(suite: str) -> Path:
    """A new copy of the base root for `suite`, looking like a Raspberry Pi."""
    base = base_root(suite)
    enable_binfmt()
    path = run_dir() / suite
    if path.exists():
        shutil.rmtree(path)
    subprocess.run(["cp", "-a", "--reflink=auto", str(base), str(path)], check=True)
    (path / ".library-kiosk-base").unlink()
    shutil.copy2(host_ca_bundle(), path / HOST_CA.lstrip("/"))
    harness_settings(path)
    pi_identity(path, BOARDS[suite])
    debs(path)
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("build", "shell") or argv[1] not in BOARDS:
        print(f"usage: python -m tests.pi_roots build|shell {'|'.join(BOARDS)}", file=sys.stderr)
        return 2
    action, suite = argv
    if action == "build":
        print(base_root(suite))
        return 0
    root = fresh_root(suite)
    return subprocess.call(["unshare", "--mount", "chroot", str(root), "env", "-i",
                            *[f"{k}={v}" for k, v in _chroot_env().items()], "bash", "-l"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
