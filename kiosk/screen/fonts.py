"""Finding a font that has Chinese characters."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Optional

from kiosk.domain.errors import ConfigError

KNOWN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
# fc-match always answers with some font; only one of these families has the characters.
CJK_FAMILIES = ("wqy", "cjk", "han", "droidsansfallback")

INSTALL_HINT = ("install one (on Debian and Raspberry Pi OS: sudo apt install fonts-wqy-microhei) "
                "or name a font file in [screen] font")


def find_cjk_font(configured: Optional[str] = None) -> str:
    """A font file with Chinese characters: `configured`, else one fontconfig or a known path finds.

    Raises `ConfigError` naming the package to install when there is none,
    so the kiosk stops at start with a sentence, not later with empty boxes.
    """
    if configured:
        if not Path(configured).is_file():
            raise ConfigError(f"[screen] font: no such font file: {configured}; {INSTALL_HINT}")
        return configured
    if shutil.which("fc-match"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True,
                                   timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found and os.path.isfile(found) and any(name in found.lower() for name in CJK_FAMILIES):
            return found
    for path in KNOWN_FONTS:
        if os.path.isfile(path):
            return path
    raise ConfigError(f"no font with Chinese characters found: {INSTALL_HINT}")
