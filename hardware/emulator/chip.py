"""The MFRC522 as seen over SPI: registers, FIFO, commands, timer and IRQ bits.

Emulated from the NXP MFRC522 data sheet, as far as a reader driver can
notice: Idle, CalcCRC, Transceive, MFAuthent and SoftReset; the FIFO with
its level and flush bit; CommIrqReg/DivIrqReg with their Set1/Set2 write
rule; ErrorReg (collision), ControlReg's RxLastBits, BitFramingReg's
StartSend and TxLastBits; the timer started automatically at the end of a
transmission (TAuto) that raises TimerIRq in real time when no card answers;
and the cards in the field, answering what the antenna sends.

Faults a test can cause: `stop_answering(mode)` (MISO stuck at 0x00 or 0xFF,
or every SPI transfer hanging) and `resume(power_cycled)`; `cut_next(n)`
(the next answer breaks off after n bytes, the card having left the field);
`flip_next(byte, bit)` (one bit of the next answer wrong, unseen by parity).
"""

from __future__ import annotations

import threading
import time

from hardware.emulator.crc import PRESETS, crc_a

# Registers (addresses from the data sheet).
CommandReg, CommIEnReg, DivIEnReg, CommIrqReg, DivIrqReg = 0x01, 0x02, 0x03, 0x04, 0x05
ErrorReg, Status1Reg, Status2Reg, FIFODataReg, FIFOLevelReg = 0x06, 0x07, 0x08, 0x09, 0x0A
ControlReg, BitFramingReg, CollReg, ModeReg, TxControlReg = 0x0C, 0x0D, 0x0E, 0x11, 0x14
CRCResultRegM, CRCResultRegL = 0x21, 0x22
TModeReg, TPrescalerReg, TReloadRegH, TReloadRegL = 0x2A, 0x2B, 0x2C, 0x2D
TCounterValueRegH, TCounterValueRegL, VersionReg = 0x2E, 0x2F, 0x37

IDLE, MEM, CALCCRC, TRANSMIT, NOCMDCHANGE, RECEIVE, TRANSCEIVE, MFAUTHENT, SOFTRESET = (
    0x00, 0x01, 0x03, 0x04, 0x07, 0x08, 0x0C, 0x0E, 0x0F)

TX_IRQ, RX_IRQ, IDLE_IRQ, ERR_IRQ, TIMER_IRQ = 0x40, 0x20, 0x10, 0x02, 0x01
CRC_IRQ = 0x04
COLL_ERR, CRYPTO1_ON = 0x08, 0x08

RESET_VALUES = {
    CommandReg: 0x20, CommIEnReg: 0x80, CommIrqReg: 0x14, Status1Reg: 0x21, ControlReg: 0x10,
    0x0B: 0x08, CollReg: 0xA0, ModeReg: 0x3F, TxControlReg: 0x80, 0x16: 0x10, 0x17: 0x84,
    0x18: 0x84, 0x19: 0x4D, 0x1C: 0x62, 0x1F: 0xEB, CRCResultRegM: 0xFF, CRCResultRegL: 0xFF,
    0x24: 0x26, 0x26: 0x48, 0x27: 0x88, 0x28: 0x20, 0x29: 0x20, VersionReg: 0x92,
}
FIFO_SIZE = 64
CLOCK_HZ = 13.56e6


class MFRC522Chip:
    """One emulated chip. `field` holds the cards near its antenna."""

    def __init__(self, version: int = 0x92):
        self.version = version
        self.field: list = []
        self.lock = threading.RLock()
        self.transfers = 0  # SPI transfers served, for tests and benchmarks
        self._mode = "ok"
        self._unhang = threading.Event()
        self._unhang.set()
        self._cut: tuple | None = None
        self._cut_command: int | None = None
        self._flip: tuple | None = None
        self.in_reset = False
        self.reset()

    # ------------------------------------------------------------ test hooks

    def put(self, card) -> None:
        """A card enters the field."""
        with self.lock:
            card.power_off()
            self.field.append(card)

    def remove(self, card) -> None:
        """A card leaves the field."""
        with self.lock:
            if card in self.field:
                self.field.remove(card)
            card.power_off()

    def stop_answering(self, mode: str = "zeros") -> None:
        """The chip stops answering: MISO reads 'zeros' or 'ones', or transfers 'hang'."""
        if mode not in ("zeros", "ones", "hang"):
            raise ValueError(mode)
        self._mode = mode
        if mode == "hang":
            self._unhang.clear()

    def resume(self, power_cycled: bool = True) -> None:
        """The chip answers again; after a power cycle its registers are back at reset values."""
        with self.lock:
            if power_cycled:
                self.reset()
            self._mode = "ok"
        self._unhang.set()

    def cut_next(self, keep_bytes: int, after_answers: int = 0, to_command: int | None = None) -> None:
        """A coming answer breaks off after `keep_bytes` bytes and the cards leave the field.

        `after_answers` answers pass intact first (0: the very next one). With
        `to_command` only answers to frames starting with that command byte
        count (0x30: a READ), so a reader polling meanwhile cannot take the cut.
        """
        self._cut = (after_answers, keep_bytes)
        self._cut_command = to_command

    def flip_next(self, byte: int, bit: int, after_answers: int = 0) -> None:
        """One bit of a coming answer arrives wrong (a double error that parity does not catch)."""
        self._flip = (after_answers, byte, bit)

    # ------------------------------------------------------------ SPI

    def transfer(self, data: list[int]) -> list[int]:
        """One SPI transaction (chip select low, bytes, chip select high)."""
        if self._mode == "hang":
            self._unhang.wait()
        with self.lock:
            self.transfers += 1
            if self._mode == "zeros" or self.in_reset:
                return [0] * len(data)
            if self._mode == "ones":
                return [0xFF] * len(data)
            out = [0]
            if not data:
                return []
            address = (data[0] >> 1) & 0x3F
            if data[0] & 0x80:
                # Reads: each byte after the first returns the register the
                # previous byte addressed.
                for byte in data[1:]:
                    out.append(self.read(address))
                    address = (byte >> 1) & 0x3F
            else:
                for value in data[1:]:
                    self.write(address, value)
                    out.append(0)
            return out

    def hard_reset(self, low: bool) -> None:
        """The NRSTPD pin: low powers the chip down, the rising edge resets it."""
        with self.lock:
            if low:
                self.in_reset = True
            elif self.in_reset:
                self.in_reset = False
                self.reset()

    # ------------------------------------------------------------ registers

    def reset(self) -> None:
        self.regs = [0] * 64
        for address, value in RESET_VALUES.items():
            self.regs[address] = value
        self.regs[VersionReg] = self.version
        self.fifo: list[int] = []
        self.command = IDLE
        self.timer_deadline: float | None = None
        self.crc = 0
        for card in self.field:
            card.power_off()

    def read(self, address: int) -> int:
        if address == FIFODataReg:
            return self.fifo.pop(0) if self.fifo else 0
        if address == FIFOLevelReg:
            return len(self.fifo)
        if address == CommIrqReg:
            self._run_timer()
            return self.regs[CommIrqReg] & 0x7F
        if address == DivIrqReg:
            return self.regs[DivIrqReg] & 0x7F
        if address == CommandReg:
            return (self.regs[CommandReg] & 0xF0) | self.command
        if address == Status1Reg:
            self._run_timer()
            running = 0x08 if self.timer_deadline is not None else 0
            return (self.regs[Status1Reg] & ~0x08 & 0xFF) | running
        if address == VersionReg:
            return self.version
        return self.regs[address]

    def write(self, address: int, value: int) -> None:
        value &= 0xFF
        if address == FIFODataReg:
            if len(self.fifo) < FIFO_SIZE:
                self.fifo.append(value)
            if self.command == CALCCRC:
                self._crc_from_fifo()
            return
        if address == FIFOLevelReg:
            if value & 0x80:
                self.fifo.clear()
            return
        if address in (CommIrqReg, DivIrqReg):
            # Set1/Set2: bit 7 says whether the marked bits are set or cleared.
            if value & 0x80:
                self.regs[address] |= value & 0x7F
            else:
                self.regs[address] &= ~value & 0x7F
            return
        if address in (VersionReg, ErrorReg):
            return
        if address == ControlReg:
            self.regs[ControlReg] = (self.regs[ControlReg] & 0x07) | (value & 0xF8)
            return
        if address == CommandReg:
            self.regs[CommandReg] = value & 0x30
            self._start(value & 0x0F)
            return
        self.regs[address] = value
        if address == BitFramingReg and value & 0x80 and self.command == TRANSCEIVE:
            self._transceive()
        if address == TxControlReg and not value & 0x03:
            for card in self.field:
                card.power_off()

    # ------------------------------------------------------------ commands

    def _start(self, command: int) -> None:
        if command == SOFTRESET:
            self.reset()
            return
        self.command = command
        if command == IDLE:
            self.timer_deadline = None
        elif command == CALCCRC:
            self.crc = PRESETS[self.regs[ModeReg] & 0x03]
            self._crc_from_fifo()
        elif command == MFAUTHENT:
            self._authenticate()
        elif command == TRANSCEIVE and self.regs[BitFramingReg] & 0x80:
            self._transceive()

    def _crc_from_fifo(self) -> None:
        data, self.fifo = bytes(self.fifo), []
        value = crc_a(data, self.crc)
        self.crc = value[0] | value[1] << 8
        self.regs[CRCResultRegL], self.regs[CRCResultRegM] = value[0], value[1]
        self.regs[DivIrqReg] |= CRC_IRQ

    def _timer_seconds(self) -> float:
        prescaler = (self.regs[TModeReg] & 0x0F) << 8 | self.regs[TPrescalerReg]
        reload = self.regs[TReloadRegH] << 8 | self.regs[TReloadRegL]
        return (2 * prescaler + 1) * (reload + 1) / CLOCK_HZ

    def _start_timer(self) -> None:
        if self.regs[TModeReg] & 0x80:  # TAuto: starts when the transmission ends
            self.timer_deadline = time.monotonic() + self._timer_seconds()

    def _run_timer(self) -> None:
        if self.timer_deadline is not None and time.monotonic() >= self.timer_deadline:
            self.timer_deadline = None
            self.regs[CommIrqReg] |= TIMER_IRQ

    def _antenna_on(self) -> bool:
        return self.regs[TxControlReg] & 0x03 == 0x03

    def _authenticate(self) -> None:
        data, self.fifo = bytes(self.fifo), []
        self._start_timer()
        if len(data) < 12 or not self._antenna_on():
            return
        command, block, key, uid4 = data[0], data[1], data[2:8], data[8:12]
        for card in list(self.field):
            if hasattr(card, "authenticate") and card.authenticate(command, block, key, uid4):
                self.regs[Status2Reg] |= CRYPTO1_ON
                self.timer_deadline = None
                self.command = IDLE
                self.regs[CommIrqReg] |= IDLE_IRQ
                return
        # No card authenticated: the command does not end; only the timer will.

    def _transceive(self) -> None:
        framing = self.regs[BitFramingReg]
        self.regs[BitFramingReg] = framing & 0x7F
        frame, self.fifo = bytes(self.fifo), []
        last_bits = framing & 0x07
        self.regs[ErrorReg] = 0
        self.regs[CollReg] = 0xA0
        self.regs[CommIrqReg] |= TX_IRQ
        answers = []
        if self._antenna_on():
            crypto = bool(self.regs[Status2Reg] & CRYPTO1_ON)
            for card in list(self.field):
                answer = card.receive(frame, last_bits, crypto)
                if answer is not None:
                    answers.append(answer)
        if not answers:
            self._start_timer()
            return
        data, bits = self._air(answers)
        flip, self._flip = self._due(self._flip)
        if flip is not None:
            index, bit = flip
            data = bytearray(data)
            data[min(index, len(data) - 1)] ^= 1 << bit
            data = bytes(data)
        cut = None
        if self._cut_command is None or frame[:1] == bytes([self._cut_command]):
            cut, self._cut = self._due(self._cut)
        if cut is not None:
            data, bits = data[: cut[0]], 0
            for card in list(self.field):
                self.remove(card)
            if not data:
                self._start_timer()
                return
        self.fifo = list(data[:FIFO_SIZE])
        self.regs[ControlReg] = (self.regs[ControlReg] & 0xF8) | bits
        self.regs[CommIrqReg] |= RX_IRQ
        self.timer_deadline = None

    @staticmethod
    def _due(fault):
        """(what to do now or None, what stays pending) for a fault armed for a later answer."""
        if fault is None:
            return None, None
        if fault[0] > 0:
            return None, (fault[0] - 1, *fault[1:])
        return fault[1:], None

    def _air(self, answers):
        """What the receiver hears when several cards answer at once."""
        data, bits = answers[0]
        for other, other_bits in answers[1:]:
            if (other, other_bits) == (data, bits):
                continue
            length = max(len(data), len(other))
            a, b = data.ljust(length, b"\0"), other.ljust(length, b"\0")
            for position in range(length * 8):
                mask = 1 << (position % 8)
                if a[position // 8] & mask != b[position // 8] & mask:
                    break
            self.regs[ErrorReg] |= COLL_ERR
            self.regs[CollReg] = ((position + 1) & 0x1F) if position < 32 else 0x20
            self.regs[CommIrqReg] |= ERR_IRQ
            data = bytes(x | y for x, y in zip(a, b))
            bits = max(bits, other_bits)
        return data, bits
