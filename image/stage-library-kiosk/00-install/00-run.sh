#!/bin/bash -e
# pi-gen: the project, as committed (image/build.sh put it in files/), into
# the image at /usr/src/library-kiosk, then the same install as on a Pi:
# systemd/install.sh --kiosk, run in the image's chroot. systemd is not
# running there, so the units are enabled for the first boot; apt-get takes
# python3-lgpio, python3-rpi-lgpio and python3-spidev from Raspberry Pi OS.
SRC=/usr/src/library-kiosk
rm -rf "${ROOTFS_DIR:?}${SRC}"
install -d "${ROOTFS_DIR}${SRC}"
tar -x -f files/library-kiosk.tar -C "${ROOTFS_DIR}${SRC}"
on_chroot <<CHROOT
bash ${SRC}/systemd/install.sh --kiosk
CHROOT
