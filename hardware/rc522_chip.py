"""The `mfrc522` package's chip class with a transceive that ends, and the SPI deadline under it.

The only module that imports `mfrc522` (and through it `spidev` and
`RPi.GPIO`), and only inside `load_chip_class`, so that importing the reader
driver costs nothing where there is no reader. `hardware.rc522` builds the
reader on top.
"""

from __future__ import annotations

import time
from typing import Optional

from hardware.base import ReaderError

BCM = 11  # RPi.GPIO.BCM; mfrc522 takes the numbering mode as a number


def crc_a(data) -> list[int]:
    """ISO 14443-3 CRC_A, low byte first (to check what the tag sent)."""
    crc = 0x6363
    for byte in data:
        byte ^= crc & 0xFF
        byte = (byte ^ (byte << 4)) & 0xFF
        crc = (crc >> 8) ^ (byte << 8) ^ (byte << 3) ^ (byte >> 4)
    return [crc & 0xFF, crc >> 8]


class _BadRead(Exception):
    """A tag answered, but not with something we can trust: read again."""


class _BoundedSpi:
    """The chip's SPI device, refusing transfers past the running poll's deadline."""

    def __init__(self, spi):
        self.spi = spi
        self.deadline: Optional[float] = None

    def xfer2(self, data, *args):
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ReaderError("reader took too long to answer")
        return self.spi.xfer2(data, *args)

    def close(self):
        self.spi.close()

    def __getattr__(self, name):
        return getattr(self.spi, name)


_chip_class = None


def load_chip_class():
    """The `mfrc522.MFRC522` subclass, built at first use so that importing is free."""
    global _chip_class
    if _chip_class is not None:
        return _chip_class
    from mfrc522 import MFRC522

    class Chip(MFRC522):
        # A READ answer is 16 data bytes and 2 CRC bytes; we check the CRC,
        # so take the whole FIFO rather than the package's first 16 bytes.
        MAX_LEN = 64
        wait_limit = 0.1  # seconds; the chip's own timer (set by the package) ends a wait at ~15 ms
        pause = 0.0005
        last_error = 0

        def __init__(self, bus, device, speed, reset_pin):
            super().__init__(bus=bus, device=device, spd=speed, pin_mode=BCM,
                             pin_rst=-1 if reset_pin is None else reset_pin, debugLevel="CRITICAL")
            self.spi = _BoundedSpi(self.spi)

        def MFRC522_ToCard(self, command, sendData):
            """The package's transceive, with a wait that ends (see the module docstring)."""
            back, back_bits, status = [], 0, self.MI_ERR
            irq_en, wait_irq = {self.PCD_AUTHENT: (0x12, 0x10), self.PCD_TRANSCEIVE: (0x77, 0x30)}.get(
                command, (0x00, 0x00))
            self.Write_MFRC522(self.CommIEnReg, irq_en | 0x80)
            self.ClearBitMask(self.CommIrqReg, 0x80)
            self.SetBitMask(self.FIFOLevelReg, 0x80)
            self.Write_MFRC522(self.CommandReg, self.PCD_IDLE)
            for byte in sendData:
                self.Write_MFRC522(self.FIFODataReg, byte)
            self.Write_MFRC522(self.CommandReg, command)
            if command == self.PCD_TRANSCEIVE:
                self.SetBitMask(self.BitFramingReg, 0x80)
            deadline = time.monotonic() + self.wait_limit
            irq = self.Read_MFRC522(self.CommIrqReg)
            while not irq & (wait_irq | 0x01) and time.monotonic() < deadline:
                time.sleep(self.pause)
                irq = self.Read_MFRC522(self.CommIrqReg)
            self.ClearBitMask(self.BitFramingReg, 0x80)
            self.last_error = 0
            if irq & wait_irq:
                self.last_error = self.Read_MFRC522(self.ErrorReg)
                if self.last_error & 0x1B == 0:
                    status = self.MI_OK
                    if command == self.PCD_TRANSCEIVE:
                        level = self.Read_MFRC522(self.FIFOLevelReg)
                        last_bits = self.Read_MFRC522(self.ControlReg) & 0x07
                        back_bits = (level - 1) * 8 + last_bits if last_bits else level * 8
                        back = [self.Read_MFRC522(self.FIFODataReg) for _ in range(min(level, self.MAX_LEN))]
            elif irq & 0x01:
                status = self.MI_NOTAGERR
            return status, back, back_bits

    _chip_class = Chip
    return Chip
