"""The config file: defaults, and errors that name the file and the key."""

import pytest

from kiosk.config import load_config
from kiosk.domain.policy import parse_policy, policy_to_table
from kiosk.domain.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_file_means_defaults(monkeypatch):
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    config = load_config(None)
    assert config.kiosk.role == "door" and config.hardware.driver == "fake"
    assert config.policy.rule_for("student").max_loans == 3


def test_environment_variable_names_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, '[kiosk]\nid = "cab-3a"\nrole = "cabinet"\nhome = "class-3a"\n')
    monkeypatch.setenv("KIOSK_CONFIG", str(path))
    config = load_config()
    assert (config.kiosk.id, config.kiosk.role, config.kiosk.home) == ("cab-3a", "cabinet", "class-3a")


def test_a_full_file(tmp_path):
    config = load_config(write(tmp_path, """
[kiosk]
id = "door-1"
name = "Library door"
language = "zh_CN"
[hardware]
driver = "real"
has_lock = true
[hardware.pins]
green_led = 5
button_done = 17
button_lang = false
[policy]
block_overdue_days = 7
closed_weekdays = ["sun"]
holidays = ["2026-12-25"]
[policy.teacher]
loan_days = 21
[central]
url = "https://library.school.example/"
token = "abc"
"""))
    assert config.kiosk.language == "zh_CN"
    assert config.hardware.pins["green_led"] == 5 and config.hardware.has_lock
    assert config.hardware.pins["button_lang"] is None  # not fitted
    assert config.policy.rule_for("teacher").loan_days == 21
    assert config.policy.closed_weekdays == (6,)
    assert config.central.url == "https://library.school.example"
    assert parse_policy(policy_to_table(config.policy)) == config.policy


@pytest.mark.parametrize(
    "text, where",
    [
        ('[kiosk]\nrole = "shelf"\n', "[kiosk] role"),
        ('[kiosk]\nid = "door 1"\n', "[kiosk] id"),
        ('[kiosk]\nlanguage = "fr"\n', "[kiosk] language"),
        ('[kiosk]\nsession_timeout = "soon"\n', "[kiosk] session_timeout"),
        ('[kiosk]\nnmae = "x"\n', "[kiosk] nmae"),
        ('[hardware]\ndriver = "pi"\n', "[hardware] driver"),
        ("[hardware.pins]\ngreen_led = 40\n", "[hardware.pins] green_led"),
        ("[hardware.pins]\ngreen_led = 17\nred_led = 17\n", "[hardware.pins]"),
        ("[hardware.pins]\ngreen_led = false\n", "[hardware.pins] green_led"),
        ("[policy.student]\nmax_loans = -1\n", "[policy.student] max_loans"),
        ('[policy]\nholidays = ["Christmas"]\n', "[policy] holidays"),
        ('[policy]\nclosed_weekdays = ["caturday"]\n', "[policy] closed_weekdays"),
        ('[central]\nurl = "ftp://x"\n', "[central] url"),
        ('[central]\nca_file = "/nonexistent/ca.pem"\n', "[central] ca_file"),
        ("[printer]\n", "[printer]"),
        ("[kiosk\n", "not valid TOML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, text, where):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and where in str(err.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")
