"""ISO 14443A cards for the emulated field: a MIFARE Classic 1K and an NTAG213.

A card sees each frame the reader sends (bytes and the number of valid bits
in the last byte) and answers with a frame or with silence, following the
ISO 14443-3 states IDLE, READY (per cascade level), ACTIVE and HALT.
Crypto1 itself is not emulated: after a successful MFAuthent the card and
the chip agree that the link is encrypted, and a frame sent with the wrong
encryption state is noise to the card, as it would be for a real one.
"""

from __future__ import annotations

from hardware.emulator.crc import crc_a

REQA, WUPA, HALT, READ, WRITE = 0x26, 0x52, 0x50, 0x30, 0xA0
SEL = (0x93, 0x95, 0x97)
CASCADE_TAG = 0x88
ACK, NAK = 0x0A, 0x04

IDLE, READY, ACTIVE, HALTED = "idle", "ready", "active", "halt"


def random_uid(rng, size: int) -> bytes:
    """A UID a real tag could have, drawn from `rng` (a `random.Random`): 4 bytes, or 7 starting with NXP's 0x04.

    ISO 14443-3 keeps 0x88, the cascade tag, out of the first byte of a
    UID's last cascade level (uid0 of a 4-byte UID, uid3 of a 7-byte one):
    no tag has it there, and a reader rightly drops a UID that does.
    """
    if size not in (4, 7):
        raise ValueError("a UID has 4 or 7 bytes")
    while True:
        uid = (b"\x04" if size == 7 else b"") + rng.randbytes(size if size == 4 else 6)
        if uid[size - 4] != CASCADE_TAG:
            return uid


def _with_crc(data: bytes) -> bytes:
    return bytes(data) + crc_a(data)


def _crc_ok(frame: bytes) -> bool:
    return len(frame) >= 3 and crc_a(frame[:-2]) == frame[-2:]


class Card:
    """The parts every ISO 14443A card shares: wake-up, anticollision, select, halt."""

    atqa = b"\x04\x00"
    sak = 0x08

    def __init__(self, uid: bytes):
        if len(uid) not in (4, 7):
            raise ValueError("a UID has 4 or 7 bytes")
        self.uid = bytes(uid)
        self.state = IDLE
        self.level = 0  # cascade levels already selected
        self.halted_before = False
        self.authenticated_sector: int | None = None

    @property
    def levels(self) -> list[bytes]:
        """The UID as sent per cascade level: 4 bytes each, 0x88 first when more follow."""
        if len(self.uid) == 4:
            return [self.uid]
        return [bytes([CASCADE_TAG]) + self.uid[:3], self.uid[3:]]

    def power_off(self) -> None:
        self.state, self.level, self.authenticated_sector = IDLE, 0, None
        self.halted_before = False

    def _drop(self) -> None:
        """An unexpected frame: back to IDLE, or to HALT if woken from there."""
        self.state = HALTED if self.halted_before else IDLE
        self.level = 0
        self.authenticated_sector = None

    def receive(self, frame: bytes, last_bits: int, crypto_on: bool):
        """Answer `frame`; returns (bytes, valid bits of the last byte) or None."""
        if (crypto_on or self.authenticated_sector is not None) and not (
            crypto_on and self.authenticated_sector is not None and self.state == ACTIVE
        ):
            self._drop()
            return None
        if last_bits == 7 and len(frame) == 1:
            return self._wake(frame[0])
        if last_bits != 0 or not frame:
            self._drop()
            return None
        if self.state == READY and frame[0] in SEL:
            return self._select(frame)
        if self.state == ACTIVE:
            if frame[0] == HALT and len(frame) == 4 and _crc_ok(frame) and frame[1] == 0:
                self.state, self.level, self.halted_before = HALTED, 0, True
                self.authenticated_sector = None
                return None
            return self.command(frame)
        if self.state in (READY, ACTIVE):
            self._drop()
        return None

    def _wake(self, command: int):
        if command == REQA and self.state == IDLE or command == WUPA and self.state in (IDLE, HALTED):
            self.halted_before = self.state == HALTED
            self.state, self.level = READY, 0
            return self.atqa, 0
        if self.state in (READY, ACTIVE):
            self._drop()
        return None

    def _select(self, frame: bytes):
        level = SEL.index(frame[0])
        if level != self.level or level >= len(self.levels):
            self._drop()
            return None
        part = self.levels[level]
        bcc = part[0] ^ part[1] ^ part[2] ^ part[3]
        if len(frame) == 2 and frame[1] == 0x20:
            return part + bytes([bcc]), 0
        if len(frame) == 9 and frame[1] == 0x70 and _crc_ok(frame):
            if frame[2:7] != part + bytes([bcc]):
                return None  # another card is being selected
            self.level += 1
            if self.level < len(self.levels):
                return _with_crc(bytes([0x04])), 0  # cascade bit: UID not complete
            self.state = ACTIVE
            return _with_crc(bytes([self.sak])), 0
        self._drop()
        return None

    def command(self, frame: bytes):
        """A frame in the ACTIVE state (after select). Subclasses answer READ and WRITE."""
        self._drop()
        return None


class MifareClassic1K(Card):
    """MIFARE Classic 1K: 16 sectors of 4 blocks; key A and key B in each trailer."""

    atqa = b"\x04\x00"
    sak = 0x08

    def __init__(self, uid: bytes, key: bytes = b"\xff" * 6):
        super().__init__(uid)
        if len(uid) != 4:
            raise ValueError("this MIFARE Classic emulation has a 4-byte UID")
        self.blocks = [bytearray(16) for _ in range(64)]
        self.blocks[0][:5] = self.uid + bytes([uid[0] ^ uid[1] ^ uid[2] ^ uid[3]])
        self.blocks[0][5:8] = bytes([self.sak, 0x04, 0x00])
        for sector in range(16):
            self.blocks[sector * 4 + 3][:] = key + b"\xff\x07\x80\x69" + key
        self._pending_write: int | None = None

    def authenticate(self, command: int, block: int, key: bytes, uid4: bytes) -> bool:
        """What MFAuthent asks of the card: right state, UID and key."""
        if self.state != ACTIVE or uid4 != self.uid[:4] or not 0 <= block < 64:
            return False
        trailer = self.blocks[(block // 4) * 4 + 3]
        expected = trailer[:6] if command == 0x60 else trailer[10:16]
        if bytes(key) != bytes(expected):
            self._drop()
            return False
        self.authenticated_sector = block // 4
        return True

    def command(self, frame: bytes):
        if self._pending_write is not None:
            block, self._pending_write = self._pending_write, None
            if len(frame) == 18 and _crc_ok(frame):
                self.blocks[block][:] = frame[:16]
                return bytes([ACK]), 4
            self._drop()
            return None
        if len(frame) != 4 or not _crc_ok(frame) or frame[0] not in (READ, WRITE):
            self._drop()
            return None
        block = frame[1]
        if block >= 64 or block // 4 != self.authenticated_sector:
            self._drop()
            return bytes([NAK]), 4
        if frame[0] == READ:
            return _with_crc(bytes(self.blocks[block])), 0
        if block == 0:
            return bytes([NAK]), 4
        self._pending_write = block
        return bytes([ACK]), 4


class Ntag213(Card):
    """NTAG213 sticker: 7-byte UID, 45 pages of 4 bytes, READ without authentication."""

    atqa = b"\x44\x00"
    sak = 0x00

    def __init__(self, uid: bytes):
        super().__init__(uid)
        if len(uid) != 7:
            raise ValueError("an NTAG213 has a 7-byte UID")
        self.pages = [bytearray(4) for _ in range(45)]
        bcc0 = CASCADE_TAG ^ uid[0] ^ uid[1] ^ uid[2]
        self.pages[0][:] = uid[:3] + bytes([bcc0])
        self.pages[1][:] = uid[3:7]
        self.pages[2][0] = uid[3] ^ uid[4] ^ uid[5] ^ uid[6]

    def command(self, frame: bytes):
        if len(frame) == 4 and frame[0] == READ and _crc_ok(frame) and frame[1] < 45:
            start = frame[1]
            data = b"".join(bytes(self.pages[(start + i) % 45]) for i in range(4))
            return _with_crc(data), 0
        self._drop()
        return bytes([NAK]), 4
