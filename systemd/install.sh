#!/bin/bash
# Install the library kiosk, or the central store, on Raspberry Pi OS
# (Bookworm or newer) or Debian. Run from a checkout of the project:
#
#     sudo systemd/install.sh             # a kiosk (door or cabinet)
#     sudo systemd/install.sh --central   # the central store
#     sudo systemd/install.sh --kiosk --central   # both on one machine
#
# Safe to run again: a second run changes nothing, and a run after updating
# the checkout installs the new code and restarts the running services.
# An existing config file is never overwritten.
set -euo pipefail
umask 022

usage() {
    cat <<'EOF'
usage: install.sh [--kiosk] [--central] [--root DIR] [--no-packages] [--no-systemctl]

  --kiosk          install a kiosk: screen, reader and sync (the default)
  --central        install the central store (with --kiosk: both)
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
while [ $# -gt 0 ]; do
    case "$1" in
        --kiosk) KIOSK=1 ;;
        --central) CENTRAL=1 ;;
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift ;;
        --root=*) ROOT=${1#--root=} ;;
        --no-packages) PACKAGES=0 ;;
        --no-systemctl) SYSTEMCTL=0 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
    shift
done
[ "$KIOSK" = 1 ] || [ "$CENTRAL" = 1 ] || KIOSK=1
[ -d "$ROOT" ] || die "--root $ROOT: no such directory"
ROOT=$(cd "$ROOT" && pwd -P)
if [ "$ROOT" != / ] && [ "$PACKAGES" = 1 ]; then
    die "--root $ROOT needs --no-packages (apt-get and pip would install into this system)"
fi
[ "$(id -u)" = 0 ] || die "run as root (sudo $0 $*): it creates users and system files"

SRC=$(cd "$(dirname "$0")/.." && pwd -P)
PYTHON=${PYTHON:-python3}
# Where things live; the unit files in systemd/ name the same paths.
VENV=/opt/library-kiosk/venv
ETC=/etc/library-kiosk
UNITS=/etc/systemd/system
KIOSK_STATE=/var/lib/library-kiosk
CENTRAL_STATE=/var/lib/library-kiosk-central

CHANGES=0
changed() { CHANGES=$((CHANGES + 1)); say "$*"; }

# A path inside the target root.
at() { if [ "$ROOT" = / ]; then printf '%s' "$1"; else printf '%s%s' "$ROOT" "$1"; fi; }

PREFIX=()
[ "$ROOT" = / ] || PREFIX=(--prefix "$ROOT")

# --- Debian packages ---------------------------------------------------------

install_debian_packages() {
    local pkgs=(python3-venv python3-dev build-essential)
    # The screen's Chinese font and spidev tools for checking the reader.
    if [ "$KIOSK" = 1 ]; then pkgs+=(fonts-wqy-microhei spi-tools); fi
    if [ "$PACKAGES" = 0 ]; then
        say "skipped (--no-packages): apt-get install ${pkgs[*]}"
        return
    fi
    local missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} = 0 ]; then return; fi
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    changed "installed Debian packages: ${missing[*]}"
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

# --- SPI ---------------------------------------------------------------------

enable_spi() {
    if [ "$ROOT" = / ] && command -v raspi-config >/dev/null; then
        if [ "$(raspi-config nonint get_spi)" != 0 ]; then
            raspi-config nonint do_spi 0
            changed "enabled SPI with raspi-config: reboot before the first start"
        fi
        return
    fi
    local cfg=""
    for c in /boot/firmware/config.txt /boot/config.txt; do
        if [ -f "$(at "$c")" ]; then cfg=$c; break; fi
    done
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

# --- the venv and the project ------------------------------------------------

# The GPIO library that mfrc522 imports: on a Pi 5 RPi.GPIO does not work and
# rpi-lgpio stands in for it under the same name.
gpio_package() {
    if grep -qa 'Raspberry Pi \(5\|500\|Compute Module 5\)' "$(at /proc/device-tree/model)" 2>/dev/null; then
        echo rpi-lgpio
    else
        echo RPi.GPIO
    fi
}

source_files() {
    (cd "$SRC" && find . \( -name .git -o -name .venv -o -name build -o -name '*.egg-info' \
        -o -name __pycache__ -o -name .pytest_cache -o -name tests -o -name bench \
        -o -name demo-data -o -name '*.db' -o -name '*.db-*' \) -prune -o -type f -print0 | sort -z)
}

install_venv() {
    local venv
    venv=$(at "$VENV")
    if [ ! -x "$venv/bin/python" ]; then
        mkdir -p "$(dirname "$venv")"
        "$PYTHON" -m venv "$venv"
        changed "created the venv $VENV"
    fi
    local extras=()
    if [ "$KIOSK" = 1 ]; then extras=(spidev "$(gpio_package)"); fi
    # What is installed: the source, the roles and whether dependencies came
    # too. The same again means nothing to do.
    local stamp want
    stamp="$venv/.library-kiosk-installed"
    want="$(cd "$SRC" && source_files | xargs -0 sha256sum | sha256sum | cut -d' ' -f1) kiosk=$KIOSK central=$CENTRAL packages=$PACKAGES"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return
    fi
    TMP=$(mktemp -d)
    trap 'rm -rf "$TMP"' EXIT
    local tmp=$TMP
    # Built from a copy, so the checkout gets no build/ folder.
    mkdir "$tmp/src"
    (cd "$SRC" && source_files | xargs -0 cp --parents -t "$tmp/src")
    export PIP_DISABLE_PIP_VERSION_CHECK=1
    "$venv/bin/python" -m pip wheel -q --no-deps -w "$tmp/wheel" "$tmp/src"
    "$venv/bin/python" -m pip install -q --no-deps --force-reinstall "$tmp"/wheel/*.whl
    if [ "$PACKAGES" = 1 ]; then
        "$venv/bin/python" -m pip install -q "$tmp"/wheel/*.whl
        if [ "$KIOSK" = 1 ]; then
            # mfrc522 declares RPi.GPIO, which must not come in on a Pi 5.
            "$venv/bin/python" -m pip install -q --no-deps mfrc522
            "$venv/bin/python" -m pip install -q "${extras[@]}"
        fi
    else
        say "skipped (--no-packages): pip install the project's dependencies"
        if [ "$KIOSK" = 1 ]; then
            say "skipped (--no-packages): pip install --no-deps mfrc522; pip install ${extras[*]}"
        fi
    fi
    printf '%s\n' "$want" >"$stamp"
    rm -rf "$tmp"
    trap - EXIT
    changed "installed the project into $VENV"
    PROJECT_CHANGED=1
}

link_commands() {
    local name
    for name in "$@"; do
        local link
        link=$(at "/usr/local/bin/$name")
        if [ -L "$link" ] && [ "$(readlink "$link")" = "$VENV/bin/$name" ]; then
            continue
        fi
        if [ -e "$link" ] && [ ! -L "$link" ]; then
            say "left $link alone (not a link); run $VENV/bin/$name"
            continue
        fi
        mkdir -p "$(dirname "$link")"
        ln -sfn "$VENV/bin/$name" "$link"
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

UNITS_CHANGED=0
install_unit() {
    local unit=$1
    local file
    file=$(at "$UNITS/$unit")
    if ! cmp -s "$SRC/systemd/$unit" "$file"; then
        mkdir -p "$(dirname "$file")"
        install -m 0644 "$SRC/systemd/$unit" "$file"
        changed "installed $UNITS/$unit"
        UNITS_CHANGED=1
    fi
}

enable_units() {
    if [ "$SYSTEMCTL" = 0 ]; then
        say "skipped (--no-systemctl): systemctl enable $*"
        return
    fi
    local unit
    if [ "$ROOT" != / ]; then
        for unit in "$@"; do
            if [ "$(systemctl --root="$ROOT" is-enabled "$unit" 2>/dev/null)" != enabled ]; then
                systemctl --root="$ROOT" enable -q "$unit"
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

# --- the run -----------------------------------------------------------------

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

install_venv
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
enable_units "${units[@]}"

if [ "$CHANGES" = 0 ]; then
    say "nothing to change"
else
    say "done ($CHANGES changes)."
    if [ "$KIOSK" = 1 ]; then
        say "next: edit $ETC/kiosk.toml ([kiosk] id, [central] url and token), then reboot"
    fi
    if [ "$CENTRAL" = 1 ]; then
        say "next: edit $ETC/central.env, then: sudo systemctl restart kiosk-central"
    fi
fi
