"""Pins with a job of their own on every Pi are refused in the config, naming the key and the job."""

import pytest

from kiosk.config import DEFAULT_PINS, load_config
from kiosk.domain.errors import ConfigError

CASES = [
    # (key, pin, the job the message must name)
    ("green_led", 8, "SPI0"),
    ("buzzer", 10, "SPI0"),
    ("reader_rst", 7, "SPI0"),
    ("red_led", 9, "SPI0"),
    ("lock", 11, "SPI0"),
    ("button_done", 2, "I2C"),
    ("door", 3, "I2C"),
    ("button_help", 14, "UART"),
    ("button_lang", 15, "UART"),
    ("green_led", 0, "ID EEPROM"),
    ("buzzer", 1, "ID EEPROM"),
]


def write(tmp_path, pins: str):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[hardware]\ndriver = "real"\n[hardware.pins]\n{pins}\n')
    return path


@pytest.mark.parametrize("key,pin,job", CASES)
def test_a_pin_with_another_job_is_refused_naming_key_and_job(tmp_path, key, pin, job):
    path = write(tmp_path, f"{key} = {pin}")
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: [hardware.pins] {key}: BCM pin {pin} is ")
    assert job in message
    assert "use a free pin" in message
    assert "\n" not in message


def test_the_free_pins_named_in_the_message_are_accepted(tmp_path):
    owner = {pin: key for key, pin in DEFAULT_PINS.items()}
    for pin in (4, 5, 6, 12, 13, *range(16, 28)):
        # green_led moves to the pin; a part whose default it was takes green_led's 17.
        lines = f"green_led = {pin}"
        if owner.get(pin, "green_led") != "green_led":
            lines += f"\n{owner[pin]} = {DEFAULT_PINS['green_led']}"
        assert load_config(write(tmp_path, lines)).hardware.pins["green_led"] == pin


def test_the_defaults_and_the_example_wiring_are_valid():
    assert load_config().hardware.pins == DEFAULT_PINS
