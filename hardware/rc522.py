"""The RC522 (MFRC522) reader on SPI, on the `mfrc522` package.

Only `hardware.rc522_chip` imports `mfrc522` (and through it `spidev` and
`RPi.GPIO`), and only when a reader is opened, so importing this anywhere is
safe. What it adds to the package:

- cascade level 2: `mfrc522` stops at level 1, where a 7-byte UID reads as
  0x88 plus 3 bytes; here anticollision and SELECT run per level (0x93, then
  0x95 while the SAK says the UID is not complete), each level's BCC and
  each SAK's CRC checked; anything inconsistent is dropped, never guessed;
- presence: a tag is reported once when it enters the field, and again
  only after it was missing for `absent_polls` polls in a row (each poll
  wakes halted tags with WUPA, reads the UID and halts the tag again);
- time bounds: `MFRC522_ToCard` is the package's own, with its wait loop
  fixed (the original's `~` on ints is always true, so it ignores the timer
  interrupt and spins 2000 SPI reads when no tag answers) to end at the
  chip's timer interrupt or a deadline, pausing between register reads;
  every SPI transfer checks the deadline of the poll it belongs to, and a
  watchdog thread reports a poll stuck in a transfer;
- health: every poll reads back a register set at initialisation; a chip
  that stops answering (or lost its set-up in a power glitch) is
  re-initialised at once, and if that fails the reader reports a fault,
  retries every `retry_seconds`, and reports ok when the chip answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Optional

from hardware.base import Reader, ReaderError
from hardware.rc522_chip import _BadRead, crc_a, load_chip_class

log = logging.getLogger("hardware.rc522")

TMODE = 0x8D  # what mfrc522's init writes to TModeReg: reading it back proves the chip kept its set-up
WUPA, HALT, READ, WRITE = 0x52, 0x50, 0x30, 0xA0
SEL_CL1, SEL_CL2, CASCADE_TAG = 0x93, 0x95, 0x88
AUTH_KEY_A = 0x60
DEFAULT_KEY = b"\xff" * 6
COLL_ERR = 0x08


class RC522Reader(Reader):
    """An RC522 on SPI `bus`.`device`, its RST on BCM `reset_pin`.

    Runs its own thread after `start()`; calls `when_tag`, `when_fault`
    and `when_ok` from it (or, for a stuck poll, from the watchdog thread).
    """

    def __init__(self, bus: int = 0, device: int = 0, reset_pin: Optional[int] = 25, *,
                 poll_interval: float = 0.1, absent_polls: int = 2, retry_seconds: float = 1.0,
                 poll_limit: float = 1.0, stall_seconds: float = 2.0, speed_hz: int = 1_000_000):
        self.bus, self.device, self.reset_pin, self.speed_hz = bus, device, reset_pin, speed_hz
        self.poll_interval, self.absent_polls = poll_interval, absent_polls
        self.retry_seconds, self.poll_limit, self.stall_seconds = retry_seconds, poll_limit, stall_seconds
        self.healthy = True
        self.present: Optional[str] = None
        self._misses = 0
        self._chip = None
        self._up = False
        self._io = threading.Lock()
        self._health = threading.Lock()
        self._stop = threading.Event()
        self._busy_since: Optional[float] = None
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Start polling (and the watchdog). Safe to call twice."""
        if self._threads:
            return
        self._threads = [threading.Thread(target=self._run, name="rc522", daemon=True),
                         threading.Thread(target=self._watch, name="rc522-watchdog", daemon=True)]
        for thread in self._threads:
            thread.start()

    def close(self) -> None:
        """Stop polling and release SPI and the reset pin. Safe to call twice."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.poll_limit + 1)
        if self._chip is not None:
            self._chip.spi.close()
            if self.reset_pin is not None:
                import RPi.GPIO as GPIO

                GPIO.cleanup(self.reset_pin)
            self._chip = None
        super().close()

    # ------------------------------------------------------------ health

    def _set_fault(self, detail: str) -> None:
        with self._health:
            if not self.healthy:
                return
            self.healthy = False
        log.warning("reader fault: %s", detail)
        if self.when_fault:
            self.when_fault(detail)

    def _set_ok(self) -> None:
        with self._health:
            if self.healthy:
                return
            self.healthy = True
        log.info("reader answers again")
        if self.when_ok:
            self.when_ok()

    def _watch(self) -> None:
        while not self._stop.wait(self.stall_seconds / 4):
            since = self._busy_since
            if since is not None and time.monotonic() - since > self.stall_seconds:
                self._set_fault("reader not answering (stuck in a transfer)")

    def _bring_up(self) -> None:
        """Open (first time) or hard-reset and re-initialise the chip, then check it."""
        if self._chip is not None:
            self._arm()
        if self._chip is None:
            try:
                self._chip = load_chip_class()(self.bus, self.device, self.speed_hz, self.reset_pin)
            except (ImportError, RuntimeError, OSError) as exc:
                raise ReaderError(f"cannot open the reader on SPI {self.bus}.{self.device}: {exc}") from exc
        else:
            if self.reset_pin is not None:
                import RPi.GPIO as GPIO

                GPIO.output(self.reset_pin, 0)
                time.sleep(0.001)
                GPIO.output(self.reset_pin, 1)
                time.sleep(0.05)  # the oscillator starts up
            self._chip.MFRC522_Init()
        version = self._chip.Read_MFRC522(self._chip.VersionReg)
        if version in (0x00, 0xFF):
            raise ReaderError(f"reader not answering (version register reads 0x{version:02X})")
        self._check_alive()
        self._arm()

    def _check_alive(self) -> None:
        value = self._chip.Read_MFRC522(self._chip.TModeReg)
        if value != TMODE:
            raise ReaderError(f"reader not answering (timer register reads 0x{value:02X})")

    # ------------------------------------------------------------ the loop

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = self.poll_interval
            self._busy_since = time.monotonic()
            try:
                with self._io:
                    self._cycle()
            except ReaderError as exc:
                self._up = False
                self._set_fault(str(exc))
                wait = self.retry_seconds
            except Exception as exc:  # a driver bug must not end the thread: report, retry
                log.exception("reader poll failed")
                self._up = False
                self._set_fault(f"reader error: {exc}")
                wait = self.retry_seconds
            finally:
                self._busy_since = None
            self._stop.wait(wait)

    def _cycle(self) -> None:
        if not self._up:
            self._bring_up()
            self._up = True
            self._set_ok()
        else:
            self._arm()
        try:
            self._check_alive()
        except ReaderError as exc:
            # A power glitch resets the chip: one re-initialisation on the
            # spot keeps a glitch from showing as a fault.
            log.warning("%s; initialising the reader again", exc)
            self._bring_up()
        self._poll()
        # A whole poll went through: the reader answers, whatever said otherwise meanwhile (the
        # watchdog reports a transfer that hangs; when it comes back, no re-opening may follow).
        self._set_ok()

    def _arm(self) -> None:
        self._chip.spi.deadline = time.monotonic() + self.poll_limit

    def _poll(self) -> None:
        try:
            found = self._select()
        except _BadRead as exc:
            log.debug("read dropped: %s", exc)
            return
        if found is None:
            self._misses += 1
            if self._misses >= self.absent_polls:
                self.present = None
            return
        self._misses = 0
        uid = found[0].hex().upper()
        self._halt()
        if uid != self.present:
            self.present = uid
            self._tag(uid)

    # ------------------------------------------------------------ ISO 14443A

    def _transceive(self, frame, tx_last_bits: int = 0):
        chip = self._chip
        chip.Write_MFRC522(chip.BitFramingReg, tx_last_bits)
        return chip.MFRC522_ToCard(chip.PCD_TRANSCEIVE, list(frame))

    def _select(self):
        """Wake, anticollide and select one tag: (uid bytes, SAK), None, or `_BadRead`."""
        chip = self._chip
        status, data, bits = self._transceive([WUPA], tx_last_bits=7)
        if status != chip.MI_OK:
            if chip.last_error & COLL_ERR:
                raise _BadRead("several tags answered at once")
            return None
        if bits != 16:
            raise _BadRead(f"wake-up answer of {bits} bits")
        uid = b""
        for level, sel in enumerate((SEL_CL1, SEL_CL2), start=1):
            status, data, bits = self._transceive([sel, 0x20])
            if status != chip.MI_OK:
                reason = "several tags answered" if chip.last_error & COLL_ERR else "no answer"
                raise _BadRead(f"anticollision at cascade level {level}: {reason}")
            if bits != 40 or len(data) != 5:
                raise _BadRead(f"anticollision at cascade level {level}: {bits} bits")
            if data[0] ^ data[1] ^ data[2] ^ data[3] != data[4]:
                raise _BadRead(f"BCC wrong at cascade level {level}")
            frame = [sel, 0x70, *data]
            status, sak, bits = self._transceive(frame + chip.CalulateCRC(frame))
            if status != chip.MI_OK or bits != 24 or len(sak) != 3 or crc_a(sak[:1]) != sak[1:3]:
                raise _BadRead(f"select at cascade level {level}: no valid SAK")
            if sak[0] & 0x04:
                if data[0] != CASCADE_TAG or sel == SEL_CL2:
                    raise _BadRead("UIDs longer than 7 bytes are not supported")
                uid += bytes(data[1:4])
                continue
            if data[0] == CASCADE_TAG:
                raise _BadRead("cascade tag without the cascade bit")
            return uid + bytes(data[:4]), sak[0]
        raise _BadRead("UID not complete after cascade level 2")

    def _halt(self) -> None:
        """Put the selected tag to sleep until the next WUPA (no answer is expected)."""
        frame = [HALT, 0x00]
        self._transceive(frame + self._chip.CalulateCRC(frame))

    # ------------------------------------------------------------ data blocks

    def _with_classic(self, block: int, key: bytes, action):
        """Select the tag in the field, authenticate for `block` with key A, act."""
        if self._chip is None or not self.healthy:
            raise ReaderError("reader not working")
        if not 1 <= block < 64 or block % 4 == 3:
            raise ReaderError(f"block {block} is not a data block (1-62, not a sector trailer)")
        with self._io:
            self._arm()
            chip = self._chip
            try:
                found = self._select()
            except _BadRead as exc:
                raise ReaderError(f"tag read failed: {exc}") from None
            if found is None:
                raise ReaderError("no tag on the reader")
            uid = found[0]
            if len(uid) != 4:
                raise ReaderError("data blocks are only read from MIFARE Classic cards (4-byte UIDs)")
            try:
                if chip.MFRC522_Auth(AUTH_KEY_A, block, list(key), list(uid)) != chip.MI_OK:
                    raise ReaderError(f"tag {uid.hex().upper()} refused the key for block {block}")
                return action(chip)
            finally:
                self._halt()
                chip.MFRC522_StopCrypto1()

    def read_block(self, block: int, key: bytes = DEFAULT_KEY) -> bytes:
        """The 16 bytes of `block` of the MIFARE Classic card on the reader, CRC checked."""
        def read(chip):
            frame = [READ, block]
            status, data, bits = self._transceive(frame + chip.CalulateCRC(frame))
            if status != chip.MI_OK or bits != 144 or len(data) != 18 or crc_a(data[:16]) != data[16:]:
                raise ReaderError(f"read of block {block} failed or was cut off")
            return bytes(data[:16])
        return self._with_classic(block, key, read)

    def write_block(self, block: int, data: bytes, key: bytes = DEFAULT_KEY) -> None:
        """Write 16 bytes to `block` of the MIFARE Classic card on the reader."""
        if len(data) != 16:
            raise ValueError("a block holds 16 bytes")

        def write(chip):
            for step in ([WRITE, block], list(data)):
                status, answer, bits = self._transceive(step + chip.CalulateCRC(step))
                if status != chip.MI_OK or bits != 4 or answer[0] & 0x0F != 0x0A:
                    raise ReaderError(f"write of block {block} not acknowledged")
        self._with_classic(block, key, write)

    def write_item_id(self, item_id: str, block: int = 4, key: bytes = DEFAULT_KEY) -> None:
        """Store an item id (up to 16 UTF-8 bytes) in `block`, then read it back to check."""
        raw = item_id.encode("utf-8")
        if not raw or len(raw) > 16 or b"\0" in raw:
            raise ValueError(f"item id {item_id!r} must be 1-16 bytes of UTF-8 without NUL")
        self.write_block(block, raw.ljust(16, b"\0"), key)
        if self.read_item_id(block, key) != item_id:
            raise ReaderError(f"block {block} does not read back as {item_id!r}")

    def read_item_id(self, block: int = 4, key: bytes = DEFAULT_KEY) -> str:
        """The item id stored in `block` by `write_item_id`."""
        raw = self.read_block(block, key).rstrip(b"\0")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ReaderError(f"block {block} holds no item id") from None
        if not text or "\0" in text:
            raise ReaderError(f"block {block} holds no item id")
        return text
