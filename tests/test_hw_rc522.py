"""The RC522 reader driver, and the real `mfrc522` package, on the emulated chip.

The emulator (hardware/emulator) stands in for `spidev` and `RPi.GPIO`; the
`mfrc522` code above it is the installed package, unmodified.
"""

import queue
import random
import time

import pytest

from hardware import ReaderError
from hardware.emulator import MifareClassic1K, Ntag213, install, random_uid

CARD = bytes.fromhex("DEADBEEF")
STICKER = bytes.fromhex("04A1B2C3D4E5F6")
TWIN = bytes.fromhex("04A1B2C3D4E580")  # same first three bytes as STICKER: same cascade level 1


@pytest.fixture
def chip(emulated_chip):
    return emulated_chip


class Events:
    """What the reader reported, in order, from its thread."""

    def __init__(self, reader):
        self.q = queue.Queue()
        reader.when_tag = lambda uid: self.q.put(("tag", uid))
        reader.when_fault = lambda detail: self.q.put(("fault", detail))
        reader.when_ok = lambda: self.q.put(("ok", None))

    def next(self, timeout=10.0):  # a bound for a loaded machine; an event that comes returns at once
        try:
            return self.q.get(timeout=timeout)
        except queue.Empty:
            return None

    def none_within(self, seconds):
        return self.next(seconds) is None


@pytest.fixture
def reader(chip):
    from hardware.rc522 import RC522Reader

    r = RC522Reader(0, 0, 25, poll_interval=0.02, retry_seconds=0.1, poll_limit=0.3, stall_seconds=0.4)
    events = Events(r)
    r.start()
    yield r, events
    r.close()
    r.close()


# ---------------------------------------------------------------- the package itself


def test_the_mfrc522_package_runs_unmodified_on_the_emulator(chip):
    from mfrc522 import MFRC522

    lib = MFRC522(pin_mode=11, pin_rst=25, debugLevel="CRITICAL")
    assert lib.MFRC522_Request(lib.PICC_REQIDL)[0] == lib.MI_ERR  # no card
    card = MifareClassic1K(CARD)
    chip.put(card)
    assert lib.MFRC522_Request(lib.PICC_REQIDL) == (lib.MI_OK, 16)
    status, uid = lib.MFRC522_Anticoll()
    assert status == lib.MI_OK and bytes(uid[:4]) == CARD
    assert lib.MFRC522_SelectTag(uid) == 0x08
    assert lib.MFRC522_Auth(lib.PICC_AUTHENT1A, 8, [0xFF] * 6, uid) == lib.MI_OK
    lib.MFRC522_Write(8, list(b"B-0042".ljust(16, b"\0")))
    assert bytes(lib.MFRC522_Read(8)) == b"B-0042".ljust(16, b"\0")
    lib.MFRC522_StopCrypto1()
    # Why the driver adds cascade level 2: the package stops at level 1, where
    # a 7-byte sticker reads as 0x88 and three bytes, the same for both twins.
    level1 = []
    for uid7 in (STICKER, TWIN):
        chip.remove(card)
        sticker = Ntag213(uid7)
        chip.put(sticker)
        assert lib.MFRC522_Request(lib.PICC_REQIDL)[0] == lib.MI_OK
        level1.append(lib.MFRC522_Anticoll()[1])
        chip.remove(sticker)
    assert level1[0] == level1[1] and level1[0][0] == 0x88


# ---------------------------------------------------------------- the driver


def test_no_card_no_report(reader):
    r, events = reader
    assert events.none_within(0.3)
    assert r.healthy and r.present is None


def test_four_byte_card(reader, chip):
    r, events = reader
    chip.put(MifareClassic1K(CARD))
    assert events.next() == ("tag", "DEADBEEF")


def test_seven_byte_stickers_are_read_whole_and_not_confused(reader, chip):
    r, events = reader
    for uid in (STICKER, TWIN):
        sticker = Ntag213(uid)
        chip.put(sticker)
        assert events.next() == ("tag", uid.hex().upper())
        chip.remove(sticker)
        time.sleep(0.15)


def test_a_uid_with_the_cascade_tag_where_it_ends_is_never_read_and_never_drawn(reader, chip):
    # No tag has 0x88 (the cascade tag) as the first byte of its last cascade
    # level, and the driver drops such a UID; bench/reader_idle.py drew UIDs
    # from all the bytes and so, now and then, waited for a card never read.
    r, events = reader
    for impossible in (MifareClassic1K(bytes.fromhex("88A1B2C3")), Ntag213(bytes.fromhex("04A1B288C3D4E5"))):
        chip.put(impossible)
        assert events.none_within(0.2)
        chip.remove(impossible)
    rng = random.Random(0)
    drawn = [random_uid(rng, size) for size in (4, 7) for _ in range(2000)]
    assert all(uid[len(uid) - 4] != 0x88 for uid in drawn)
    assert all(uid[0] == 0x04 for uid in drawn if len(uid) == 7) and len(set(drawn)) == len(drawn)
    sticker = Ntag213(drawn[-1])
    chip.put(sticker)
    assert events.next() == ("tag", drawn[-1].hex().upper())


def test_a_tag_is_reported_once_while_it_stays_and_again_after_it_left(reader, chip):
    r, events = reader
    card = MifareClassic1K(CARD)
    chip.put(card)
    assert events.next() == ("tag", "DEADBEEF")
    assert events.none_within(0.4), "a card left on the reader was reported again"
    chip.remove(card)
    time.sleep(0.15)
    assert r.present is None
    chip.put(card)
    assert events.next() == ("tag", "DEADBEEF")


def test_two_cards_at_once_never_give_a_made_up_uid(reader, chip):
    r, events = reader
    first, second = MifareClassic1K(CARD), MifareClassic1K(bytes.fromhex("12345678"))
    chip.put(first)
    chip.put(second)
    seen = events.next(0.4)
    assert seen is None or seen[1] in ("DEADBEEF", "12345678")
    chip.remove(first)
    if seen is None or seen[1] == "DEADBEEF":
        assert events.next() == ("tag", "12345678")
    sticker = Ntag213(STICKER)
    chip.put(sticker)  # a card and a sticker together
    seen = events.next(0.4)
    assert seen is None or seen[1] in ("12345678", STICKER.hex().upper())


def test_a_read_cut_off_half_way_is_never_guessed(reader, chip):
    r, events = reader
    sticker = Ntag213(STICKER)
    # Answers: ATQA, level 1 anticollision, level 1 SAK, level 2 anticollision.
    chip.cut_next(keep_bytes=2, after_answers=3)
    chip.put(sticker)
    assert events.none_within(0.4), "a half-read UID was reported"
    chip.put(sticker)
    assert events.next() == ("tag", STICKER.hex().upper())


def test_a_wrong_bit_fails_the_bcc_and_the_read_is_repeated(reader, chip):
    r, events = reader
    chip.flip_next(byte=1, bit=0, after_answers=1)
    chip.put(MifareClassic1K(CARD))
    assert events.next() == ("tag", "DEADBEEF")
    assert events.none_within(0.3)


@pytest.mark.parametrize("mode", ["zeros", "ones", "hang"])
def test_a_chip_that_stops_answering_is_a_fault_until_it_comes_back(reader, chip, mode):
    r, events = reader
    time.sleep(0.05)
    chip.stop_answering(mode)
    event = events.next()
    assert event is not None and event[0] == "fault" and "not answering" in event[1]
    assert not r.healthy
    assert events.none_within(0.3), "the fault was reported more than once"
    chip.resume(power_cycled=True)
    assert events.next() == ("ok", None)
    chip.put(MifareClassic1K(CARD))
    assert events.next() == ("tag", "DEADBEEF")


def test_a_power_glitch_is_healed_without_a_fault(reader, chip):
    r, events = reader
    time.sleep(0.05)
    chip.resume(power_cycled=True)  # registers back at reset values, antenna off
    chip.put(MifareClassic1K(CARD))
    assert events.next() == ("tag", "DEADBEEF")


def test_no_chip_on_the_bus_is_a_fault():
    install()
    from hardware.rc522 import RC522Reader

    r = RC522Reader(1, 1, None, retry_seconds=0.1)
    events = Events(r)
    r.start()
    event = events.next()
    r.close()
    assert event[0] == "fault" and "SPI 1.1" in event[1]


def test_write_then_read_an_item_id_in_a_data_block(reader, chip):
    r, events = reader
    card = MifareClassic1K(CARD)
    chip.put(card)
    assert events.next() == ("tag", "DEADBEEF")
    r.write_item_id("B-000123")
    assert bytes(card.blocks[4]) == b"B-000123".ljust(16, b"\0")
    assert r.read_item_id() == "B-000123"
    assert events.none_within(0.2), "reading the block made the card count as a new tap"
    with pytest.raises(ReaderError, match="sector trailer"):
        r.read_block(7)
    with pytest.raises(ReaderError, match="refused the key"):
        r.read_block(4, key=b"\x01" * 6)
    chip.cut_next(keep_bytes=9, to_command=0x30)  # the answer to the READ, whatever the poll thread asks meanwhile
    with pytest.raises(ReaderError, match="cut off"):
        r.read_block(4)


def test_blocks_of_a_sticker_or_an_empty_field_are_refused(reader, chip):
    r, events = reader
    with pytest.raises(ReaderError, match="no tag"):
        r.read_item_id()
    chip.put(Ntag213(STICKER))
    assert events.next()[0] == "tag"
    with pytest.raises(ReaderError, match="4-byte"):
        r.write_item_id("B-1")
    with pytest.raises(ValueError):
        r.write_item_id("an item id far too long")
