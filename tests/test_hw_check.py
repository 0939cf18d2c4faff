"""`kiosk hw-test`: scripted on the fake drivers, and on the real drivers over
the chip emulator and gpiozero's MockFactory."""

import threading

import pytest
from click.testing import CliRunner

import hardware
from kiosk.cli import main
from kiosk.hwtest import Check
from hardware.emulator import Ntag213

CABINET = '[kiosk]\nid = "cabinet-3a"\nrole = "cabinet"\n[hardware]\ndriver = "fake"\nhas_lock = true\nlock_seconds = 0.5\n'


def run(tmp_path, stdin, config=CABINET):
    path = tmp_path / "kiosk.toml"
    path.write_text(config)
    return CliRunner().invoke(main, ["hw-test", "--config", str(path), "--pause", "0", "--wait", "1"],
                              input=stdin)


def test_scripted_check_on_fake_drivers_passes(tmp_path):
    result = run(tmp_path, "tap 04a1b2c3d4e5f6\npress done\npress help\npress lang\ndoor open\ndoor close\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "card UID 04A1B2C3D4E5F6 (7 bytes)" in out
    for label in ("Done", "Help", "Language"):
        assert f"{label} button pressed" in out
    assert "lock closed again" in out and "door closed" in out
    assert out.rstrip().endswith("All checks passed.")


def test_missing_card_and_button_fail_the_check(tmp_path):
    result = run(tmp_path, "press done\nwave hands\n", config=CABINET.replace("has_lock = true", "has_lock = false"))
    assert result.exit_code == 1
    assert "FAILED: no card read within 1 s" in result.output
    assert "FAILED: Help button not pressed" in result.output
    assert "stdin line 2 not understood: 'wave hands'" in result.output
    assert "Lock" not in result.output  # a door kiosk has no lock to check


def test_bad_config_is_named(tmp_path):
    result = run(tmp_path, "", config='[hardware]\ndriver = "gpio"\n')
    assert result.exit_code == 1
    assert "[hardware] driver" in result.output


@pytest.fixture
def real_devices(emulated_pi):
    chip, factory = emulated_pi
    pins = {"green_led": 17, "red_led": 27, "buzzer": 22, "lock": 23, "door": 24, "button_done": 5,
            "button_help": 6, "button_lang": None, "reader_rst": 25}
    devices = hardware.build("real", pins, has_lock=True, poll_interval=0.02)
    yield devices, chip, factory
    devices.close()


def test_check_on_real_drivers_over_emulated_chip_and_mock_pins(real_devices):
    devices, chip, factory = real_devices
    lines = []

    def person(line):
        """Does what the check asks, like a person at the kiosk."""
        lines.append(line)
        if line.startswith("Tap a card"):
            chip.put(Ntag213(bytes.fromhex("04A1B2C3D4E5F6")))
        elif line.startswith("Press the Done"):
            act(lambda: press(5))
        elif line.startswith("Press the Help"):
            act(lambda: press(6))
        elif line.startswith("Open the cabinet door"):
            act(lambda: factory.pin(24).drive_high())
        elif line.startswith("Close the cabinet door"):
            act(lambda: factory.pin(24).drive_low())

    def act(fn):
        threading.Timer(0.05, fn).start()

    def press(pin):
        factory.pin(pin).drive_low()
        threading.Timer(0.1, factory.pin(pin).drive_high).start()

    factory.pin(24).drive_low()  # start with the door shut
    check = Check(devices, person, buttons=["done", "help"], lock_seconds=0.2, wait=2, pause=0.6)
    for pin in (17, 27, 22, 23):
        factory.pin(pin).clear_states()
    assert check.run(), lines
    assert "  card UID 04A1B2C3D4E5F6 (7 bytes)" in lines
    states = {pin: [s.state for s in factory.pin(pin).states] for pin in (17, 27, 22, 23)}
    assert states[17] == [False, True, False]  # green on, then off
    assert states[27] == [False, True, False, True, False, True, False]  # red on; blinking: on, off, on
    assert states[22] == [False, True, False, True, False, True, False]  # one beep, then two
    assert states[23] == [False, True, False]  # the lock opened and closed again
