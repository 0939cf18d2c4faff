#!/bin/bash -e
# pi-gen: start from the Lite system of stage2.
if [ ! -d "${ROOTFS_DIR}" ]; then
    copy_previous
fi
