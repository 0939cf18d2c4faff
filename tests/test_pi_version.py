"""One release number, from the VERSION file, wherever a person looks for it."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import pygame  # noqa: E402

from kiosk.i18n import translator  # noqa: E402
from kiosk.screen import Screen, find_cjk_font  # noqa: E402
from kiosk.demo.gallery import scene_views  # noqa: E402
from sync.client import version as reported_to_the_central_store  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
VERSION = (REPO / "VERSION").read_text().strip()


def test_the_version_file_holds_one_release_number():
    assert VERSION.count(".") == 2 and all(part.isdigit() for part in VERSION.split("."))


def test_both_commands_say_the_version():
    for module, name in (("kiosk.cli", "kiosk"), ("sync.server.cli", "kiosk-central")):
        result = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True,
                                timeout=60, cwd=REPO)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"{name}, version {VERSION}"


def test_the_staff_screen_and_the_kiosks_page_show_the_version(tmp_path):
    # The kiosks page shows what each kiosk's sync reports.
    assert reported_to_the_central_store() == VERSION
    staff = next(view for scene, view, _ in scene_views(tmp_path, "en") if scene.name == "staff")
    pygame.display.init()
    pygame.font.init()
    try:
        screen = Screen(pygame.Surface((800, 480)), translator, font_path=find_cjk_font())
        screen.show(staff)
        screen.draw(staff.now)
        assert f"Version {VERSION}" in [box.text for box in screen.boxes]
    finally:
        pygame.display.quit()


def test_the_constraints_pin_every_package_a_kiosk_or_the_central_store_asks_for():
    """install.sh installs with -c requirements/constraints.txt: a dependency added without `make constraints`
    would come unpinned from PyPI (and pi-check's copy of PyPI's files would not have it)."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(text) for text in
              project["dependencies"] + project["optional-dependencies"]["kiosk"]
              + project["optional-dependencies"]["central"]]
    pins = dict(line.split("==") for line in (REPO / "requirements/constraints.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    pins = {canonicalize_name(name): version for name, version in pins.items()}
    unpinned = [str(r) for r in wanted if canonicalize_name(r.name) not in pins]
    assert unpinned == [], "not in requirements/constraints.txt (run make constraints): " + ", ".join(unpinned)
    outside = [f"{r} (pinned {pins[canonicalize_name(r.name)]})" for r in wanted
               if not r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)]
    assert outside == [], outside
    for name in ("lgpio", "rpi-lgpio", "spidev", "mfrc522"):  # the GPIO stack install.sh adds
        assert name in pins, name
