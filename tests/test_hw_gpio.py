"""LEDs, buzzer, lock relay, buttons and door switch on gpiozero's MockFactory.

Each test reads the mock pins' recorded states over time: what a person
would see on the LEDs, hear from the buzzer, or what the lock relay does.
"""

import time

import pytest

import hardware
from hardware.gpio import GpioButtons, GpioDoor, GpioLights, GpioLock, GpioSounder

GREEN, RED, BUZZER, LOCK, DOOR, DONE, HELP, LANG = 17, 27, 22, 23, 24, 5, 6, 13


@pytest.fixture
def pins(mock_pins):
    return mock_pins


def levels(pin):
    return [s.state for s in pin.states]


def wait_until(condition, timeout=2.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def test_lights_show_each_pattern(pins):
    lights = GpioLights(GREEN, RED, blink_seconds=0.1)
    green, red = pins.pin(GREEN), pins.pin(RED)
    assert (green.state, red.state) == (False, False)
    lights.show("ok")
    assert (green.state, red.state) == (True, False)
    lights.show("error")
    assert (green.state, red.state) == (False, True)
    lights.show("off")
    assert (green.state, red.state) == (False, False)
    red.clear_states()
    lights.show("fault")
    time.sleep(0.55)
    lights.show("off")
    changes = red.states[1:]
    # Blinking: on and off by turns, a tenth of a second each.
    assert levels(red)[1:6] == [True, False, True, False, True]
    assert all(0.07 < s.timestamp < 0.16 for s in changes[1:5])
    assert red.state is False
    count = len(red.states)
    time.sleep(0.25)
    assert len(red.states) == count, "the red LED kept blinking after 'off'"
    with pytest.raises(ValueError):
        lights.show("party")
    lights.close()
    lights.close()


def test_buzzer_ok_is_one_short_beep_and_error_two(pins):
    sounder = GpioSounder(BUZZER, beep_seconds=0.05)
    buzzer = pins.pin(BUZZER)
    started = time.monotonic()
    sounder.play("ok")
    assert time.monotonic() - started < 0.03, "play() must not block"
    time.sleep(0.2)
    assert levels(buzzer) == [False, True, False]
    assert 0.03 < buzzer.states[2].timestamp < 0.09
    buzzer.clear_states()
    sounder.play("error")
    time.sleep(0.3)
    assert levels(buzzer) == [False, True, False, True, False]
    sounder.close()


def test_lock_is_closed_at_start_even_if_left_open(pins):
    relay = pins.pin(LOCK)
    relay.function = "output"
    relay.state = True  # a crash left the relay energised
    lock = GpioLock(LOCK)
    assert relay.state is False and not lock.is_open
    lock.close()


def test_lock_opens_for_its_time_and_always_closes(pins):
    lock = GpioLock(LOCK)
    relay = pins.pin(LOCK)
    relay.clear_states()
    lock.open_for(1.0)
    assert relay.state is True and lock.is_open
    time.sleep(0.5)
    lock.open_for(1.0)  # a second valid card while open: the time starts again
    assert wait_until(lambda: not relay.state, 10)
    assert levels(relay) == [False, True, False]
    # Closed a second after the second card (at 0.5 s or later), not after the first: only lower bounds,
    # which no busy machine can break (a late thread closes later, never earlier).
    assert relay.states[2].timestamp >= 1.5
    lock.open_for(5)
    lock.close()  # shutting down while open locks the cabinet
    assert relay.state is False


def test_active_low_relay_board(pins):
    lock = GpioLock(LOCK, active_high=False)
    relay = pins.pin(LOCK)
    assert relay.state is True and not lock.is_open
    lock.open_for(0.05)
    assert relay.state is False and lock.is_open
    assert wait_until(lambda: relay.state is True, 0.5)
    lock.close()


def test_buttons_are_debounced(pins):
    buttons = GpioButtons({"done": DONE, "help": HELP}, debounce=0.03)
    pressed = []
    buttons.when_pressed = pressed.append
    done = pins.pin(DONE)
    for _ in range(5):  # contact bounce, then held down
        done.drive_low()
        time.sleep(0.002)
        done.drive_high()
        time.sleep(0.002)
    done.drive_low()
    time.sleep(0.1)
    done.drive_high()
    time.sleep(0.1)
    assert pressed == ["done"]
    help_pin = pins.pin(HELP)
    help_pin.drive_low()  # a glitch shorter than the debounce time
    time.sleep(0.005)
    help_pin.drive_high()
    time.sleep(0.1)
    assert pressed == ["done"]
    help_pin.drive_low()
    assert wait_until(lambda: pressed == ["done", "help"], 0.5)
    buttons.close()


def test_door_switch_reports_open_and_closed(pins):
    door = GpioDoor(DOOR, debounce=0.02)
    seen = []
    door.when_changed = seen.append
    switch = pins.pin(DOOR)
    switch.drive_low()  # the magnet closes the reed switch: door shut
    assert wait_until(lambda: seen == [False])
    assert not door.is_open
    switch.drive_high()
    switch.drive_low()
    switch.drive_high()
    assert wait_until(lambda: seen == [False, True])
    time.sleep(0.05)
    assert seen == [False, True] and door.is_open
    door.close()


def test_build_real_devices_from_pins(pins):
    config_pins = {"green_led": GREEN, "red_led": RED, "buzzer": BUZZER, "lock": LOCK, "door": DOOR,
                   "button_done": DONE, "button_help": HELP, "button_lang": None, "reader_rst": 25}
    devices = hardware.build("real", config_pins, has_lock=True)
    assert sorted(devices.buttons.inputs) == ["done", "help"]
    assert pins.pin(LOCK).state is False
    events = []

    class Queue:
        put = events.append

    devices.post_to(Queue())
    devices.lights.show("ok")
    assert pins.pin(GREEN).state is True
    pins.pin(HELP).drive_low()
    assert wait_until(lambda: ("button", "help") in events)
    devices.close()
    devices.close()
    without_lock = hardware.build("real", config_pins)
    assert without_lock.lock is None and without_lock.door is None
    without_lock.close()


def test_build_rejects_unknown_driver_and_missing_pin(pins):
    with pytest.raises(hardware.HardwareError, match="unknown hardware driver 'gpio'"):
        hardware.build("gpio", {})
    with pytest.raises(hardware.HardwareError, match="'buzzer' is not set"):
        hardware.build("real", {"green_led": GREEN, "red_led": RED})
    # The LEDs opened before the failure were released again (else: pin in use).
    GpioLights(GREEN, RED).close()


def test_importing_hardware_loads_no_pi_library():
    import subprocess
    import sys

    code = ("import sys, hardware, hardware.base, hardware.fake, hardware.gpio, hardware.rc522;"
            "print(','.join(m for m in ('mfrc522', 'spidev', 'RPi', 'RPi.GPIO') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
