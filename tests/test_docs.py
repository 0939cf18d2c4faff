"""Every command of the `kiosk` command line is documented in the README."""

from pathlib import Path

import click

from kiosk.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}"


def test_every_kiosk_command_is_in_the_readme():
    found = list(commands(main, "kiosk"))
    assert "kiosk simulate" in found
    missing = [c for c in found if f"`{c}" not in README]
    assert not missing, f"not documented in README.md: {missing}"


def test_every_kiosk_central_command_is_in_the_readme():
    from sync.server.cli import main as central

    found = list(commands(central, "kiosk-central"))
    assert "kiosk-central serve" in found and "kiosk-central import patrons" in found
    missing = [c for c in found if f"`{c}" not in README]
    assert not missing, f"not documented in README.md: {missing}"
