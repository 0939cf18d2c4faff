"""Screenshots of every screen, in both languages and all three sizes.

The views come from the real kiosk (state machine and store) on the demo
data, driven by a script, so the pictures show what a student would see.
`python -m kiosk.demo.gallery docs/screens` writes the PNGs and an index.
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Iterator

from kiosk import store
from kiosk.app import Kiosk, run_script
from kiosk.clock import ScriptClock
from kiosk.config import parse_config
from kiosk.i18n import translator
from kiosk.domain.view import View

# (name, what it shows, script lines run before the picture)
SCENES = [
    ("idle", "Waiting for a card or a book", []),
    ("session", "Mia's session: a late book in red, how many more she may borrow",
     ["at 2026-11-02T09:00:00+08:00", "tap 04A1B2C3", "tap 04112233445566", "press done", "wait 10",
      "at 2026-11-23T09:00:00+08:00", "tap 04A1B2C3"]),
    ("checkout", "A book borrowed, with a title too long for one line",
     ["tap 04A1B2C3", "tap 04AABBCCDDEEFF"]),
    ("refused", "A book in repair cannot be borrowed", ["tap 04A1B2C3", "tap 04BBCCDDEEFF00"]),
    ("limit", "Three books already: return one first",
     ["tap 04A1B2C3", "tap 04223344556677", "wait 3", "tap 04334455667788", "wait 3", "tap 04445566778899"]),
    ("summary", "Goodbye: what was borrowed today", ["tap 04A1B2C3", "tap 04223344556677", "press done"]),
    ("return", "A book returned at idle", ["tap 04223344556677"]),
    ("other_cabinet", "A cabinet's book shown at the door: where it belongs", ["tap 0499AABBCCDDEE"]),
    ("unknown_tag", "A tag nobody knows", ["tap 04DEADBEEF0001"]),
    ("blocked", "A stopped card: told why, may still return", ["tap 2C3D4E5F"]),
    ("help", "Help", ["press help"]),
    ("staff", "A volunteer's staff screen: inventory, receive books, sync, status, unknown tags",
     ["tap 04DEADBEEF0001", "wait 5", "tap 5F607182"]),
    ("librarian", "A librarian's staff screen: exit for maintenance", ["tap 60718293"]),
    ("inventory", "A stocktake: the running count, and where a book of another shelf belongs",
     ["tap 5F607182", "press inventory", "tap 04334455667788", "tap 04445566778899", "tap 0499AABBCCDDEE"]),
    ("inventory_returned", "A stocktake finds a book on loan on the shelf: returned, and where it goes",
     ["tap 04A1B2C3", "tap 0499AABBCCDDEE", "press done", "wait 5", "tap 5F607182", "press inventory",
      "tap 04334455667788", "tap 0499AABBCCDDEE"]),
    ("receive", "Receiving a class corner's books: each one now belongs here",
     ["tap 5F607182", "press receive", "tap 0499AABBCCDDEE", "tap 048899AABBCCDD"]),
    ("fault", "The reader is not working", ["reader fail"]),
]


class Recorder:
    """A screen that keeps the last view it was shown."""

    view: View | None = None

    def show(self, view: View) -> None:
        self.view = view


def scene_views(folder: Path, language: str) -> Iterator[tuple[str, str, View, datetime]]:
    """Each scene's view and the kiosk's time then, from a fresh demo kiosk per scene."""
    from kiosk.demo import prepare_demo_db

    config = parse_config({"kiosk": {"name": "Library door", "language": language}})
    for name, caption, lines in SCENES:
        path = folder / f"{name}-{language}.db"
        prepare_demo_db(path)
        db = store.open_db(path)
        clock = ScriptClock()
        screen = Recorder()
        kiosk = Kiosk(db, config, clock, screen=screen, translate=translator)
        script = ["at 2026-11-23T09:00:00+08:00"] + lines if not (lines and lines[0].startswith("at ")) else lines
        run_script(kiosk, clock, script, lambda outcome: None, source=name)
        yield name, caption, screen.view, clock.now()
        db.conn.close()


def render_all(out: Path, sizes=None, languages=("en", "zh_CN")) -> list[dict]:
    """Write every scene x language x size to `out`; returns what was written and any overflow."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import pygame

    from kiosk.screen import SIZES, Screen, find_cjk_font, overflowing

    pygame.display.init()
    pygame.font.init()
    font = find_cjk_font()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for language in languages:
            for name, caption, view, now in scene_views(Path(tmp), language):
                for width, height in sizes or SIZES:
                    surface = pygame.Surface((width, height))
                    screen = Screen(surface, translator, font_path=font)
                    screen.show(view)
                    screen.draw(now)
                    path = out / f"{name}-{language}-{width}x{height}.png"
                    pygame.image.save(surface, str(path))
                    written.append({"scene": name, "caption": caption, "language": language, "size": (width, height),
                                    "path": path, "view": view, "screen": screen,
                                    "overflow": overflowing(screen.boxes, surface.get_rect())})
    return written


def write_index(out: Path, written: list[dict]) -> None:
    lines = ["# The kiosk's screens", "",
             "Every screen in English and Chinese at 800x480 (pictures at 480x320 and 320x240 beside them",
             "in this folder). Made by `python -m kiosk.demo.gallery docs/screens` from the real kiosk",
             "on the demo data; `tests/test_screen.py` checks the same screens for overflowing text.", ""]
    for item in written:
        if item["size"] != (800, 480):
            continue
        lines += [f"## {item['scene']} ({item['language']}): {item['caption']}", "",
                  f"![{item['scene']} {item['language']}]({item['path'].name})", ""]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/screens")
    written = render_all(out)
    write_index(out, written)
    bad = [f"{w['path'].name}: {o}" for w in written for o in w["overflow"]]
    print(f"{len(written)} screenshots in {out}" + (f"; {len(bad)} overflowing texts:" if bad else ""))
    for line in bad:
        print("  " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
