"""The example config that install.sh puts under /etc: valid, and honest."""

import dataclasses
import re
from pathlib import Path

from kiosk import config
from kiosk.config import load_config

EXAMPLE = Path(__file__).resolve().parent.parent / "systemd" / "kiosk.example.toml"


def test_example_config_loads_for_a_real_kiosk():
    cfg = load_config(EXAMPLE)
    assert cfg.hardware.driver == "real"
    assert cfg.kiosk.id == "door-1"
    assert cfg.central.url == ""


def test_commented_keys_show_the_defaults(tmp_path):
    # "A commented key shows its default": uncommenting every one of them
    # must change nothing, so they are spelt right and their values are true.
    text = EXAMPLE.read_text(encoding="utf-8")
    uncommented = re.sub(r"(?m)^# (\[[a-z.]+\]|[a-z_]+ = .*)$", r"\1", text)
    assert uncommented != text
    path = tmp_path / "kiosk.toml"
    path.write_text(uncommented, encoding="utf-8")
    got, want = load_config(path), load_config(EXAMPLE)
    assert dataclasses.replace(got, path="") == dataclasses.replace(want, path="")


def test_every_setting_is_in_the_example():
    text = EXAMPLE.read_text(encoding="utf-8")
    sections = {
        "kiosk": config.KioskSection,
        "hardware": config.HardwareSection,
        "screen": config.ScreenSection,
        "central": config.CentralSection,
    }
    missing = []
    for section, cls in sections.items():
        assert re.search(rf"(?m)^\[{section}\]$", text), section
        for f in dataclasses.fields(cls):
            if f.name != "pins" and not re.search(rf"(?m)^(# )?{f.name} = ", text):
                missing.append(f"[{section}] {f.name}")
    for pin in config.DEFAULT_PINS:
        if not re.search(rf"(?m)^(# )?{pin} = ", text):
            missing.append(f"[hardware.pins] {pin}")
    for key in ("block_overdue_days", "closed_weekdays", "holidays", "loan_days", "max_loans", "renewals"):
        if not re.search(rf"(?m)^(# )?{key} = ", text):
            missing.append(f"[policy] {key}")
    assert missing == []
