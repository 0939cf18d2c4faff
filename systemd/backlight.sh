#!/bin/bash
# Installed by install.sh --kiosk as /usr/local/lib/library-kiosk/backlight
# and run by kiosk-backlight@on.service and kiosk-backlight@off.service
# (started by kiosk-backlight-on.timer and kiosk-backlight-off.timer).
#
#     backlight on|off
#
# Switches the backlight of the Pi's own displays (the DSI touch displays,
# under /sys/class/backlight). An HDMI screen has no backlight here: use its
# own power-saving timer.
set -euo pipefail
BACKLIGHTS=${BACKLIGHTS:-/sys/class/backlight}
case "${1:-}" in
    on) power=0 ;;   # FB_BLANK_UNBLANK
    off) power=4 ;;  # FB_BLANK_POWERDOWN
    *) echo "usage: backlight on|off" >&2; exit 2 ;;
esac
found=0
for light in "$BACKLIGHTS"/*; do
    [ -e "$light/bl_power" ] || continue
    echo "$power" >"$light/bl_power"
    echo "backlight: $(basename "$light") $1"
    found=1
done
if [ "$found" = 0 ]; then
    echo "backlight: no backlight under $BACKLIGHTS (an HDMI screen: use its own power-saving timer)" >&2
fi
