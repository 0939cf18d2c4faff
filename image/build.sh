#!/bin/bash
# Build a flashable SD card image of a library kiosk with pi-gen, Raspberry
# Pi's own image builder: Raspberry Pi OS Lite 64-bit with the kiosk
# installed exactly as systemd/install.sh --kiosk installs it on a Pi.
#
#     image/build.sh [-c school.conf] [--no-docker]
#
# Needs git and Docker (or, with --no-docker, a Debian machine with pi-gen's
# dependencies, as root). The image lands in build/pi-gen/deploy/. Builds
# what is committed (git archive HEAD), so an image matches a version.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd -P)
SRC=$(cd "$HERE/.." && pwd -P)
PI_GEN_REPO=${PI_GEN_REPO:-https://github.com/RPi-Distro/pi-gen.git}
# pi-gen's branch for 64-bit Raspberry Pi OS images.
PI_GEN_REF=${PI_GEN_REF:-arm64}
WORK=$SRC/build/pi-gen

die() { echo "image: error: $*" >&2; exit 1; }

EXTRA=()
DOCKER=1
while [ $# -gt 0 ]; do
    case "$1" in
        -c) [ $# -ge 2 ] || die "-c needs a file"; EXTRA=("$(cd "$(dirname "$2")" && pwd -P)/$(basename "$2")"); shift ;;
        --no-docker) DOCKER=0 ;;
        *) die "unknown option: $1 (usage: image/build.sh [-c school.conf] [--no-docker])" ;;
    esac
    shift
done

if [ ! -d "$WORK/.git" ]; then
    git clone --depth 1 --branch "$PI_GEN_REF" "$PI_GEN_REPO" "$WORK"
fi
# Our stage after pi-gen's Lite stages; only its image is exported.
rm -rf "$WORK/stage-library-kiosk"
cp -r "$HERE/stage-library-kiosk" "$WORK/stage-library-kiosk"
mkdir -p "$WORK/stage-library-kiosk/00-install/files"
git -C "$SRC" archive --format=tar HEAD >"$WORK/stage-library-kiosk/00-install/files/library-kiosk.tar"
touch "$WORK/stage2/SKIP_IMAGES"
cat "$HERE/config" "${EXTRA[@]}" >"$WORK/config"

cd "$WORK"
if [ "$DOCKER" = 1 ]; then
    ./build-docker.sh -c config
else
    ./build.sh -c config
fi
echo "image: done: see $WORK/deploy"
