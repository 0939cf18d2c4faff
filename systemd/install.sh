#!/bin/bash
# Install the library kiosk, or the central store, on 64-bit Raspberry Pi OS
# (Bookworm or newer) or Debian. Run from a checkout of the project:
#
#     sudo systemd/install.sh             # a kiosk (door or cabinet)
#     sudo systemd/install.sh --central   # the central store
#     sudo systemd/install.sh --kiosk --central   # both on one machine
#     sudo systemd/install.sh --rollback  # back to the version installed before
#
# Each version goes into a venv of its own under /opt/library-kiosk/versions,
# with the exact package versions of requirements/constraints.txt;
# /opt/library-kiosk/current points at the one that runs and
# /opt/library-kiosk/previous at the one before, for --rollback.
#
# Safe to run again: a second run changes nothing, and a run after updating
# the checkout installs the new version and restarts the running services.
# An existing config file is never overwritten.
set -euo pipefail
umask 022

usage() {
    cat <<'EOF'
usage: install.sh [--kiosk] [--central] [--rollback] [--root DIR] [--no-packages] [--no-systemctl]

  --kiosk          install a kiosk: screen, reader and sync (the default)
  --central        install the central store (with --kiosk: both)
  --rollback       switch back to the version installed before this one
                   and restart the services
  --root DIR       install into DIR instead of / (a disk image, or a test);
                   needs --no-packages
  --no-packages    no apt-get and no Python dependencies from PyPI: only the
                   project itself is built and put into the venv
  --no-systemctl   install the units but do not enable or restart them
EOF
}

die() { echo "install: error: $*" >&2; exit 1; }
say() { echo "install: $*"; }

ROOT=/
KIOSK=0
CENTRAL=0
PACKAGES=1
SYSTEMCTL=1
ROLLBACK=0
while [ $# -gt 0 ]; do
    case "$1" in
        --kiosk) KIOSK=1 ;;
        --central) CENTRAL=1 ;;
        --rollback) ROLLBACK=1 ;;
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift ;;
        --root=*) ROOT=${1#--root=} ;;
        --no-packages) PACKAGES=0 ;;
        --no-systemctl) SYSTEMCTL=0 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
    shift
done

# Before anything else: pygame-ce has no 32-bit ARM wheel (it would be
# compiled from source), and nothing here is tested on 32-bit.
case "$(uname -m) $(dpkg --print-architecture 2>/dev/null || true)" in
    armv6l*|armv7l*|armv8l*|*\ armhf|*\ armel)
        die "library-kiosk needs 64-bit Raspberry Pi OS (Pi 3, 4, 5, Zero 2 W all run it);" \
            "this system is 32-bit ($(uname -m), $(dpkg --print-architecture 2>/dev/null || echo '?'))" ;;
esac

[ "$KIOSK" = 1 ] || [ "$CENTRAL" = 1 ] || [ "$ROLLBACK" = 1 ] || KIOSK=1
[ -d "$ROOT" ] || die "--root $ROOT: no such directory"
ROOT=$(cd "$ROOT" && pwd -P)
# One venv serves every role of this machine: a role installed before stays.
if [ "$ROLLBACK" = 0 ] && [ "$KIOSK" = 0 ] && [ -f "$ROOT/etc/systemd/system/kiosk.service" ]; then
    KIOSK=1; echo "install: keeping the kiosk installed here"
fi
if [ "$ROLLBACK" = 0 ] && [ "$CENTRAL" = 0 ] && [ -f "$ROOT/etc/systemd/system/kiosk-central.service" ]; then
    CENTRAL=1; echo "install: keeping the central store installed here"
fi
if [ "$ROOT" != / ] && [ "$PACKAGES" = 1 ] && [ "$ROLLBACK" = 0 ]; then
    die "--root $ROOT needs --no-packages (apt-get and pip would install into this system)"
fi
[ "$(id -u)" = 0 ] || die "run as root (sudo $0 $*): it creates users and system files"

SRC=$(cd "$(dirname "$0")/.." && pwd -P)
PYTHON=${PYTHON:-python3}
# Where things live; the unit files in systemd/ name the same paths.
HOME_DIR=/opt/library-kiosk
VERSIONS=$HOME_DIR/versions
CURRENT=$HOME_DIR/current
PREVIOUS=$HOME_DIR/previous
CONSTRAINTS=requirements/constraints.txt
ETC=/etc/library-kiosk
UNITS=/etc/systemd/system
LIBEXEC=/usr/local/lib/library-kiosk
KIOSK_STATE=/var/lib/library-kiosk
CENTRAL_STATE=/var/lib/library-kiosk-central
BOOT=/boot/firmware

CHANGES=0
changed() { CHANGES=$((CHANGES + 1)); say "$*"; }

# A path inside the target root.
at() { if [ "$ROOT" = / ]; then printf '%s' "$1"; else printf '%s%s' "$ROOT" "$1"; fi; }

PREFIX=()
[ "$ROOT" = / ] || PREFIX=(--prefix "$ROOT")

# systemd running here (a Pi): reload, enable and restart. Otherwise (--root,
# or a chroot building an SD card image): units are enabled for the next boot.
if [ "$ROOT" = / ] && [ -d /run/systemd/system ]; then LIVE=1; else LIVE=0; fi
offline_systemctl() {
    if [ "$ROOT" = / ]; then SYSTEMD_OFFLINE=1 systemctl "$@"; else systemctl --root="$ROOT" "$@"; fi
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# --- Debian packages ---------------------------------------------------------

# No `| grep -q` here: under pipefail, grep leaving early makes the pipe fail.
is_installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]; }
has_candidate() {
    local policy
    policy=$(apt-cache policy "$1" 2>/dev/null || true)
    [[ $policy == *"Candidate: "* && $policy != *"Candidate: (none)"* ]]
}

APT_UPDATED=0
apt_install() {
    local missing=() p
    for p in "$@"; do is_installed "$p" || missing+=("$p"); done
    if [ ${#missing[@]} = 0 ]; then return; fi
    if [ "$APT_UPDATED" = 0 ]; then apt-get update -q; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    changed "installed Debian packages: ${missing[*]}"
}

install_debian_packages() {
    local pkgs=(python3-venv)
    if [ "$KIOSK" = 1 ]; then
        # The screen's Chinese font, and spidev tools for checking the reader.
        pkgs+=(fonts-wqy-microhei spi-tools)
        # What SDL's kmsdrm video driver (bundled in pygame-ce's wheel) loads
        # at run time to draw without a desktop: DRM, GBM, EGL and GLES, and
        # Mesa's drivers for the Pi's GPU (vc4, v3d).
        pkgs+=(libdrm2 libgbm1 libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)
    fi
    if [ "$PACKAGES" = 0 ]; then
        say "skipped (--no-packages): apt-get install ${pkgs[*]}"
        return
    fi
    apt_install "${pkgs[@]}"
    if [ "$KIOSK" = 1 ]; then
        # The GPIO and SPI libraries as Debian packages where the archive has
        # them (Raspberry Pi OS: all three; Debian: python3-spidev): built for
        # this Python, nothing to compile. The venv sees them through
        # --system-site-packages; what is missing comes from PyPI below.
        [ "$APT_UPDATED" = 1 ] || has_candidate python3-spidev || { apt-get update -q; APT_UPDATED=1; }
        local gpio=() p
        for p in python3-lgpio python3-rpi-lgpio python3-spidev; do
            if has_candidate "$p"; then gpio+=("$p"); fi
        done
        if [ ${#gpio[@]} -gt 0 ]; then apt_install "${gpio[@]}"; fi
    fi
}

# --- users and groups --------------------------------------------------------

has_group() { grep -q "^$1:" "$(at /etc/group)"; }
has_user() { grep -q "^$1:" "$(at /etc/passwd)"; }
in_group() { grep -q "^$2:[^:]*:[^:]*:\(.*,\)\?$1\(,.*\)\?$" "$(at /etc/group)"; }
uid_of() { awk -F: -v u="$1" '$1 == u { print $3 }' "$(at /etc/passwd)"; }
gid_of() { awk -F: -v g="$1" '$1 == g { print $3 }' "$(at /etc/group)"; }

ensure_user() {
    local user=$1 home=$2 comment=$3; shift 3
    if ! has_user "$user"; then
        # Its own group, or the one of its name left from an earlier install.
        local group_option=(--user-group)
        if has_group "$user"; then group_option=(--gid "$user"); fi
        useradd "${PREFIX[@]}" --system "${group_option[@]}" --home-dir "$home" --no-create-home \
            --shell /usr/sbin/nologin --comment "$comment" "$user"
        changed "created user $user"
    fi
    local group
    for group in "$@"; do
        if ! has_group "$group"; then
            # Raspberry Pi OS has these; elsewhere (a test machine) they are new.
            groupadd "${PREFIX[@]}" --system "$group"
            changed "created group $group"
        fi
        if ! in_group "$user" "$group"; then
            usermod "${PREFIX[@]}" --append --groups "$group" "$user"
            changed "added $user to group $group"
        fi
    done
}

# --- the boot partition ------------------------------------------------------

boot_file() {
    local name=$1 c
    for c in "$BOOT/$name" "/boot/$name"; do
        if [ -f "$(at "$c")" ]; then printf '%s' "$c"; return; fi
    done
}

enable_spi() {
    if [ "$LIVE" = 1 ] && command -v raspi-config >/dev/null; then
        if [ "$(raspi-config nonint get_spi)" != 0 ]; then
            raspi-config nonint do_spi 0
            changed "enabled SPI with raspi-config: reboot before the first start"
        fi
        return
    fi
    local cfg
    cfg=$(boot_file config.txt)
    if [ -z "$cfg" ]; then
        say "SPI: no /boot/firmware/config.txt here; on the Pi run" \
            "'sudo raspi-config nonint do_spi 0' (or add the line dtparam=spi=on to" \
            "/boot/firmware/config.txt) and reboot, or the reader is not found"
        return
    fi
    local file
    file=$(at "$cfg")
    if grep -q '^[[:space:]]*dtparam=spi=on[[:space:]]*$' "$file"; then
        return
    elif grep -q '^[[:space:]]*\(#[[:space:]]*\)\?dtparam=spi=\(on\|off\)' "$file"; then
        sed -i '0,/^[[:space:]]*\(#[[:space:]]*\)\?dtparam=spi=\(on\|off\).*$/s//dtparam=spi=on/' "$file"
    else
        # In an [all] section: the file may end inside a [pi4]-only section.
        printf '\n[all]\ndtparam=spi=on\n' >>"$file"
    fi
    changed "enabled SPI in $cfg: reboot before the first start"
}

# The text console never blanks the kiosk's screen (the kernel's default
# blanks it after 10 minutes without a key press).
console_blanking_off() {
    local cmdline
    cmdline=$(boot_file cmdline.txt)
    if [ -z "$cmdline" ]; then
        say "console blanking: no /boot/firmware/cmdline.txt here; add consoleblank=0 to the kernel's command line"
        return
    fi
    local file
    file=$(at "$cmdline")
    if grep -q '\(^\|[[:space:]]\)consoleblank=0\([[:space:]]\|$\)' "$file"; then
        return
    fi
    # One line: drop any other consoleblank= and add ours at its end.
    sed -i -e '1s/[[:space:]]*consoleblank=[^[:space:]]*//g' -e '1s/[[:space:]]*$/ consoleblank=0/' "$file"
    changed "switched console blanking off in $cmdline: reboot to apply"
}

# --- the venv of this version ------------------------------------------------

source_files() {
    (cd "$SRC" && find . \( -name .git -o -name .venv -o -name build -o -name '*.egg-info' \
        -o -name __pycache__ -o -name .pytest_cache -o -name tests -o -name bench \
        -o -name demo-data -o -name '*.db' -o -name '*.db-*' \) -prune -o -type f -print0 | sort -z)
}

VERSION=$(tr -d '[:space:]' <"$SRC/VERSION")
# The same source, roles and packages make the same name: nothing to do.
BUILD_ID=$( (cd "$SRC" && source_files | xargs -0 sha256sum; echo "kiosk=$KIOSK central=$CENTRAL packages=$PACKAGES") \
    | sha256sum | cut -c1-10)
VERSION_NAME=$VERSION-$BUILD_ID

# Runs the venv's Python where importing lgpio may make its named pipe.
venv_python() { (cd "$TMP" && LG_WD=$TMP "$VENV_DIR/bin/python" "$@"); }

pip_install() { PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV_DIR/bin/python" -m pip install -q "$@"; }

# lgpio: Raspberry Pi OS's python3-lgpio through the system site, else a
# wheel from PyPI, else (a Python without one, like Debian 13's 3.13) built
# from PyPI's source with the C library inside. Never an lgpio older than
# 0.2: requirements/constraints.txt names the version, hardware.stack checks.
install_lgpio() {
    if venv_python -c 'import lgpio, sys; sys.exit(lgpio.LGPIO_PY_VERSION < 0x00020000)' 2>/dev/null; then
        say "lgpio: the system's (python3-lgpio)"
        return
    fi
    local _
    for _ in 1 2; do
        if pip_install -c "$SRC/$CONSTRAINTS" --only-binary lgpio lgpio 2>"$TMP/lgpio-wheel.err"; then
            say "lgpio: a wheel from PyPI"
            return
        fi
        # A dropped connection is worth one more try before anything is compiled.
        grep -qiE "connection|timed out" "$TMP/lgpio-wheel.err" || break
    done
    # Only "no wheel for this Python" is a reason to compile (pip says it one of
    # two ways, as the constraint allows no other version); a network error is not.
    if ! grep -qE "No matching distribution found for lgpio|Cannot install lgpio" "$TMP/lgpio-wheel.err"; then
        cat "$TMP/lgpio-wheel.err" >&2
        die "lgpio: pip install failed: $(grep -v '^[[:space:]]*$' "$TMP/lgpio-wheel.err" | tail -n 1)"
    fi
    say "lgpio: no wheel for $("$VENV_DIR/bin/python" -c 'import sys; print("Python %d.%d" % sys.version_info[:2])')" \
        "on PyPI: building it from source"
    # A C compiler, Python's headers and swig: not build-essential (no C++, no dpkg-dev).
    apt_install gcc libc6-dev python3-dev swig
    # PYPI=1: lgpio's setup.py compiles the lg C library into the module
    # instead of linking a liblgpio that Debian does not have.
    PYPI=1 pip_install -c "$SRC/$CONSTRAINTS" --no-binary lgpio lgpio
}

install_gpio_stack() {
    install_lgpio
    if ! venv_python -c 'import spidev' 2>/dev/null; then
        # No python3-spidev in this archive: spidev has no wheel on PyPI.
        apt_install gcc libc6-dev python3-dev
        pip_install -c "$SRC/$CONSTRAINTS" spidev
    fi
    # mfrc522 without the RPi.GPIO package it declares, and rpi-lgpio as the
    # RPi.GPIO it imports, on every model (unless Raspberry Pi OS's is there).
    local no_deps=(mfrc522)
    if ! venv_python -c 'import lgpio, RPi.GPIO as g, sys; sys.exit(getattr(g, "lgpio", None) is not lgpio)' \
            2>/dev/null; then
        no_deps+=(rpi-lgpio)
    fi
    pip_install -c "$SRC/$CONSTRAINTS" --no-deps "${no_deps[@]}"
    if ! venv_python -m hardware.stack >"$TMP/stack.out" 2>&1; then
        die "the new venv $VENV_PATH cannot drive the hardware: $(tail -n 1 "$TMP/stack.out")"
    fi
    local line
    while IFS= read -r line; do say "  $line"; done <"$TMP/stack.out"
}

# This version's venv: its path on the target, and where this script finds it.
VENV_PATH=$VERSIONS/$VERSION_NAME
VENV_DIR=$(at "$VENV_PATH")

install_version() {
    if [ -f "$VENV_DIR/.library-kiosk-complete" ]; then
        return
    fi
    rm -rf "$VENV_DIR"
    mkdir -p "$(dirname "$VENV_DIR")"
    local site=(--system-site-packages)
    # Without packages (tests, --root) the venv must not see this machine's modules.
    [ "$PACKAGES" = 1 ] || site=()
    say "making a venv for library-kiosk $VERSION in $VENV_PATH (a few minutes on a Pi)"
    "$PYTHON" -m venv "${site[@]}" "$VENV_DIR"
    # Built from a copy, so the checkout gets no build/ folder.
    mkdir "$TMP/src"
    (cd "$SRC" && source_files | xargs -0 cp --parents -t "$TMP/src")
    PIP_DISABLE_PIP_VERSION_CHECK=1 "$VENV_DIR/bin/python" -m pip wheel -q --no-deps -w "$TMP/wheel" "$TMP/src"
    local wheel extras=()
    wheel=$(echo "$TMP"/wheel/*.whl)
    [ "$KIOSK" = 1 ] && extras+=(kiosk)
    [ "$CENTRAL" = 1 ] && extras+=(central)
    if [ "$PACKAGES" = 1 ]; then
        # Wheels only: a package that would compile on the Pi is a mistake in
        # the constraints, not something to wait half an hour for.
        pip_install -c "$SRC/$CONSTRAINTS" --only-binary :all: "${wheel}[$(IFS=,; echo "${extras[*]}")]"
        say "installed the packages of $CONSTRAINTS"
        if [ "$KIOSK" = 1 ]; then install_gpio_stack; fi
    else
        pip_install --no-deps "$wheel"
        say "skipped (--no-packages): pip install -c $CONSTRAINTS '.[$(IFS=,; echo "${extras[*]}")]'"
        if [ "$KIOSK" = 1 ]; then
            say "skipped (--no-packages): lgpio, rpi-lgpio, spidev (Debian's python3-lgpio, python3-rpi-lgpio," \
                "python3-spidev where there are), mfrc522 without RPi.GPIO"
        fi
    fi
    # The units of this version, for a later --rollback to it.
    mkdir -p "$VENV_DIR/units"
    cp "$SRC"/systemd/*.service "$SRC"/systemd/*.timer "$VENV_DIR/units/"
    printf '%s\n' "$VERSION_NAME" >"$VENV_DIR/.library-kiosk-complete"
    changed "installed library-kiosk $VERSION into $VENV_PATH"
}

# A link in /opt/library-kiosk to versions/NAME (relative: right inside an
# image's root too), replaced in one rename.
point() { ln -sfn "versions/$2" "$(at "$1").new" && mv -T "$(at "$1").new" "$(at "$1")"; }
pointed() { basename "$(readlink "$(at "$1")" 2>/dev/null || true)"; }

# `current` to version `name`, `previous` to what `current` was; older
# versions are removed.
switch_to() {
    local name=$1 old
    old=$(pointed "$CURRENT")
    if [ "$old" = "$name" ]; then return 1; fi
    point "$CURRENT" "$name"
    if [ -n "$old" ] && [ "$old" != . ]; then point "$PREVIOUS" "$old"; fi
    local dir
    for dir in "$(at "$VERSIONS")"/*; do
        [ -d "$dir" ] || continue
        case " $name $old " in *" $(basename "$dir") "*) ;; *) rm -rf "$dir" ;; esac
    done
    return 0
}

link_commands() {
    local name
    for name in "$@"; do
        local link
        link=$(at "/usr/local/bin/$name")
        if [ -L "$link" ] && [ "$(readlink "$link")" = "$CURRENT/bin/$name" ]; then
            continue
        fi
        if [ -e "$link" ] && [ ! -L "$link" ]; then
            say "left $link alone (not a link); run $CURRENT/bin/$name"
            continue
        fi
        mkdir -p "$(dirname "$link")"
        ln -sfn "$CURRENT/bin/$name" "$link"
        changed "linked /usr/local/bin/$name"
    done
}

# --- files, folders and units ------------------------------------------------

# A folder with this owner and mode, changed only where it differs.
ensure_dir() {
    local path=$1 mode=$2 owner=$3
    local dir
    dir=$(at "$path")
    if [ ! -d "$dir" ]; then
        mkdir -p "$dir"
        changed "created $path"
    fi
    if [ "$(stat -c '%u:%g %a' "$dir")" != "$owner $mode" ]; then
        chown "$owner" "$dir"
        chmod "$mode" "$dir"
        changed "set $path to owner $owner, mode $mode"
    fi
}

# A config file from its commented example, only when there is none.
install_config() {
    local example=$1 path=$2 mode=$3 owner=$4
    local file
    file=$(at "$path")
    if [ -e "$file" ]; then
        say "kept the existing $path"
        return
    fi
    install -m "$mode" "$SRC/systemd/$example" "$file"
    chown "$owner" "$file"
    changed "wrote $path from systemd/$example: edit it"
}

# A file of ours (from `from`) at `path`, replaced only when it differs.
UNITS_CHANGED=0
install_file() {
    local from=$1 path=$2 mode=$3
    local file
    file=$(at "$path")
    if cmp -s "$from" "$file" && [ "$(stat -c '%a' "$file")" = "${mode#0}" ]; then
        return 1
    fi
    mkdir -p "$(dirname "$file")"
    install -m "$mode" "$from" "$file"
    changed "installed $path"
    return 0
}

install_unit() {
    local unit=$1 from=${2:-$SRC/systemd}
    if install_file "$from/$unit" "$UNITS/$unit" 0644; then UNITS_CHANGED=1; fi
}

# --- appliance settings (a kiosk) --------------------------------------------

CENTRAL_TIMER_UNITS=(kiosk-central-backup.service kiosk-central-backup.timer kiosk-central-forget.service
                     kiosk-central-forget.timer)

APPLIANCE_UNITS=(library-kiosk-boot-config.service kiosk-backlight@.service kiosk-backlight-off.timer
                 kiosk-backlight-on.timer)

install_appliance() {
    # The Pi's hardware watchdog resets a machine whose systemd hangs; the
    # journal lives in memory, bounded, so a read-only root and the SD card
    # are spared.
    if install_file "$SRC/systemd/system.conf.d/library-kiosk.conf" /etc/systemd/system.conf.d/library-kiosk.conf 0644
    then UNITS_CHANGED=1; fi
    install_file "$SRC/systemd/journald.conf.d/library-kiosk.conf" /etc/systemd/journald.conf.d/library-kiosk.conf \
        0644 || true
    install_file "$SRC/systemd/boot-config.sh" "$LIBEXEC/boot-config" 0755 || true
    install_file "$SRC/systemd/backlight.sh" "$LIBEXEC/backlight" 0755 || true
    local unit
    for unit in "${APPLIANCE_UNITS[@]}"; do install_unit "$unit"; done
    console_blanking_off
}

# No login prompt over the kiosk's screen on tty1 (the others stay, for a
# keyboard plugged in for repairs).
getty_off() {
    if [ "$SYSTEMCTL" = 0 ]; then
        say "skipped (--no-systemctl): systemctl mask getty@tty1.service"
        return
    fi
    if [ "$(readlink "$(at "$UNITS/getty@tty1.service")" 2>/dev/null)" = /dev/null ]; then
        return
    fi
    offline_systemctl mask -q getty@tty1.service
    changed "masked getty@tty1.service: no login prompt over the kiosk's screen after the next boot"
}

enable_units() {
    if [ "$SYSTEMCTL" = 0 ]; then
        say "skipped (--no-systemctl): systemctl enable $*"
        return
    fi
    local unit
    if [ "$LIVE" = 0 ]; then
        for unit in "$@"; do
            if [ "$(offline_systemctl is-enabled "$unit" 2>/dev/null)" != enabled ]; then
                offline_systemctl enable -q "$unit"
                changed "enabled $unit"
            fi
        done
        return
    fi
    if [ "$UNITS_CHANGED" = 1 ]; then systemctl daemon-reload; fi
    for unit in "$@"; do
        if [ "$(systemctl is-enabled "$unit" 2>/dev/null)" != enabled ]; then
            systemctl enable -q "$unit"
            changed "enabled $unit"
        fi
    done
    if [ "$UNITS_CHANGED" = 1 ] || [ "$PROJECT_CHANGED" = 1 ]; then
        # Only services already running: a first install starts at reboot.
        systemctl try-restart "$@"
    fi
}

# Timers run from now on, not from the next boot: a school's server may run
# for months without one. Starting a timer runs nothing until it fires.
start_timers() {
    if [ "$SYSTEMCTL" = 0 ] || [ "$LIVE" = 0 ]; then return; fi
    local unit
    for unit in "$@"; do
        if ! systemctl is-active -q "$unit"; then
            systemctl start "$unit"
            changed "started $unit"
        fi
    done
}

# --- rollback ----------------------------------------------------------------

rollback() {
    local from to
    from=$(pointed "$CURRENT")
    to=$(pointed "$PREVIOUS")
    if [ -z "$to" ] || [ ! -f "$(at "$VERSIONS/$to")/.library-kiosk-complete" ]; then
        die "no earlier version to go back to ($PREVIOUS is missing)"
    fi
    point "$CURRENT" "$to"
    point "$PREVIOUS" "$from"
    changed "rolled back from $from to $to"
    # That version's units, for the units this machine has.
    local units=() unit
    for unit in kiosk.service kiosk-sync.service kiosk-central.service; do
        if [ -f "$(at "$UNITS/$unit")" ]; then
            install_unit "$unit" "$(at "$VERSIONS/$to")/units"
            units+=("$unit")
        fi
    done
    # The central store's timers and their services: nothing of theirs runs
    # until they fire, so they are put back without a restart.
    for unit in "${CENTRAL_TIMER_UNITS[@]}"; do
        if [ -f "$(at "$UNITS/$unit")" ] && [ -f "$(at "$VERSIONS/$to")/units/$unit" ]; then
            install_unit "$unit" "$(at "$VERSIONS/$to")/units"
        fi
    done
    if [ "$SYSTEMCTL" = 0 ] || [ "$LIVE" = 0 ]; then
        say "skipped (systemd is not running here): systemctl restart ${units[*]}"
        return
    fi
    systemctl daemon-reload
    systemctl restart "${units[@]}"
    say "restarted ${units[*]}"
}

# --- the run -----------------------------------------------------------------

if [ "$ROLLBACK" = 1 ]; then
    rollback
    exit 0
fi

PROJECT_CHANGED=0
install_debian_packages

units=()
commands=()
if [ "$KIOSK" = 1 ]; then
    ensure_user kiosk "$KIOSK_STATE" "Library kiosk" spi gpio video input
    enable_spi
    units+=(kiosk.service kiosk-sync.service)
    commands+=(kiosk)
fi
if [ "$CENTRAL" = 1 ]; then
    ensure_user kiosk-central "$CENTRAL_STATE" "Library kiosk central store"
    units+=(kiosk-central.service)
    commands+=(kiosk-central)
fi

install_version
if switch_to "$VERSION_NAME"; then
    changed "switched $CURRENT to $VERSION_NAME"
    PROJECT_CHANGED=1
fi
link_commands "${commands[@]}"

ensure_dir "$ETC" 755 "0:0"
if [ "$KIOSK" = 1 ]; then
    # The config holds the kiosk's token: root and the kiosk user only.
    install_config kiosk.example.toml "$ETC/kiosk.toml" 0640 "0:$(gid_of kiosk)"
    ensure_dir "$KIOSK_STATE" 750 "$(uid_of kiosk):$(gid_of kiosk)"
fi
if [ "$CENTRAL" = 1 ]; then
    install_config central.example.env "$ETC/central.env" 0644 "0:0"
    ensure_dir "$CENTRAL_STATE" 750 "$(uid_of kiosk-central):$(gid_of kiosk-central)"
fi

for unit in "${units[@]}"; do
    install_unit "$unit"
done
if [ "$KIOSK" = 1 ]; then
    install_appliance
    units+=(library-kiosk-boot-config.service)
fi
if [ "$CENTRAL" = 1 ]; then
    # The nightly backup and the end of term's forgetting: the services are
    # started by their timers, which are what is enabled.
    for unit in "${CENTRAL_TIMER_UNITS[@]}"; do install_unit "$unit"; done
    units+=(kiosk-central-backup.timer kiosk-central-forget.timer)
fi
enable_units "${units[@]}"
if [ "$CENTRAL" = 1 ]; then start_timers kiosk-central-backup.timer kiosk-central-forget.timer; fi
if [ "$KIOSK" = 1 ]; then getty_off; fi

if [ "$CHANGES" = 0 ]; then
    say "nothing to change"
else
    say "done ($CHANGES changes): library-kiosk $VERSION"
    if [ "$KIOSK" = 1 ]; then
        say "next: edit $ETC/kiosk.toml ([kiosk] id, [central] url and token), then reboot"
    fi
    if [ "$CENTRAL" = 1 ]; then
        say "next: edit $ETC/central.env, then: sudo systemctl restart kiosk-central"
    fi
fi
