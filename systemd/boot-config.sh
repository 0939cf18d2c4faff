#!/bin/bash
# Installed by install.sh --kiosk as /usr/local/lib/library-kiosk/boot-config
# and run at boot by library-kiosk-boot-config.service, before the kiosk.
#
#     boot-config [BOOT_FILE] [CONFIG]
#
# A kiosk.toml written to the SD card's boot partition (which any computer
# can write to) as library-kiosk.toml becomes the kiosk's config: checked
# first, then installed as /etc/library-kiosk/kiosk.toml (the one before is
# kept as kiosk.toml.before-boot-config) and removed from the boot
# partition, because it holds the kiosk's token. A file with a mistake is
# left where it is and changes nothing; the one line saying why is in
# `journalctl -u library-kiosk-boot-config`.
set -euo pipefail
BOOT_FILE=${1:-/boot/firmware/library-kiosk.toml}
CONFIG=${2:-/etc/library-kiosk/kiosk.toml}
PYTHON=${KIOSK_PYTHON:-/opt/library-kiosk/current/bin/python}

[ -f "$BOOT_FILE" ] || exit 0
check='import sys
from kiosk.config import load_config
from kiosk.domain.errors import ConfigError
try:
    load_config(sys.argv[1])
except ConfigError as exc:
    sys.exit(str(exc))'
if ! error=$("$PYTHON" -c "$check" "$BOOT_FILE" 2>&1); then
    echo "boot-config: not used, the kiosk keeps $CONFIG: ${error//$'\n'/ }" >&2
    exit 1
fi
if [ -f "$CONFIG" ]; then
    cp -p "$CONFIG" "$CONFIG.before-boot-config"
fi
install -m 0640 -o root -g kiosk "$BOOT_FILE" "$CONFIG.new"
mv "$CONFIG.new" "$CONFIG"
if rm -f "$BOOT_FILE"; then
    echo "boot-config: $CONFIG is now $BOOT_FILE (removed from the boot partition: it holds the kiosk's token)"
else
    echo "boot-config: $CONFIG is now $BOOT_FILE; remove that file: it holds the kiosk's token" >&2
fi
