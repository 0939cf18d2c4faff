"""An MFRC522 chip on an emulated SPI bus, with ISO 14443A cards in its field.

`install()` puts fake `spidev` and `RPi.GPIO` modules into `sys.modules`, so
the real `mfrc522` package runs on the emulated chip unmodified. Chips are
attached to a bus with `attach(chip, bus, device)`.
"""

from hardware.emulator.bus import attach, detach, install
from hardware.emulator.cards import MifareClassic1K, Ntag213, random_uid
from hardware.emulator.chip import MFRC522Chip, crc_a

__all__ = ["MFRC522Chip", "MifareClassic1K", "Ntag213", "attach", "crc_a", "detach", "install", "random_uid"]
