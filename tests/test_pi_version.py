"""One release number, from the VERSION file, wherever a person looks for it."""

import os
import subprocess
import sys
from pathlib import Path

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
