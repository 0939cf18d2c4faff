"""Screenshots of every screen, in both languages and all three sizes.

The views come from the real kiosk (state machine and store) on the demo
data, driven by a script, so the pictures show what a student would see. The
kiosk first takes what a central store on the same data would send it (a
month of reading by a few students: the showcase, reading counts and
recommendations, worked out by `sync.server.db.showcase`). One patron with a
long name is added, so that long names are pictured as well as long titles.
`python -m kiosk.demo.gallery docs/screens` writes the PNGs and an index.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from kiosk import store
from kiosk.app import Kiosk, run_script
from kiosk.clock import ScriptClock
from kiosk.config import parse_config
from kiosk.demo import DATA, prepare_demo_db
from kiosk.demo.history import push_history
from kiosk.demo.keys import DemoKeys
from kiosk.domain import catalog
from kiosk.domain.view import View
from kiosk.i18n import LANGUAGES, translator

LONG_NAME_CARD = "7A8B9C0D"
LONG_NAME_PATRON = ("id,name,type,class,card_uid,status,expires\n"
                    f"S1099,Maximilian Featherstonehaugh-Worthington,student,5C,{LONG_NAME_CARD},active,\n")
MORNING = "at 2026-11-23T09:00:00+08:00"
CENTRAL_NOW = datetime(2026, 11, 23, 0, 30, tzinfo=timezone.utc)
# A month of reading that the central store has merged: (student, book, day of November).
HISTORY = [("S1002", "B0001", 3), ("S1002", "B0003", 5), ("S1003", "B0001", 6), ("S1003", "B0003", 9),
           ("S1003", "B0014", 10), ("S1005", "B0014", 11), ("S1005", "B0001", 12), ("S1002", "B0008", 13),
           ("S1001", "B0009", 14), ("S1002", "B0009", 16), ("S1001", "B0005", 17), ("S1001", "B0002", 18)]


@dataclass(frozen=True)
class Scene:
    """A picture: its name, what it shows, the script before it, the kiosk's config and the slide on show."""

    name: str
    caption: str
    lines: tuple[str, ...]
    kiosk: dict = field(default_factory=dict)
    slide: int = 0


CABINET = {"id": "cabinet-3a", "name": "Class 3A corner", "role": "cabinet", "home": "class-3a"}
SCENES = [
    Scene("idle", "Waiting: one instruction with a card, a book and an arrow to the reader; new books take turns",
          ()),
    Scene("idle_popular", "The idle screen's next slide: the most borrowed books this month", (), slide=1),
    Scene("idle_cabinet", "A class cabinet at idle: the class's progress toward its monthly goal", (), CABINET, 2),
    Scene("session", "A session: a long name, two late books in red and marked LATE, the term's progress",
          ("at 2026-11-02T09:00:00+08:00", f"tap {LONG_NAME_CARD}", "tap 04112233445566", "wait 3",
           "tap 04AABBCCDDEEFF", "press done", "wait 10", MORNING, f"tap {LONG_NAME_CARD}")),
    Scene("session_help", "Help in a session: the whole text, nothing cut off", ("tap 04A1B2C3", "press help")),
    Scene("checkout", "A book borrowed: the return date, and what its readers also read on this shelf",
          ("tap 0A0B0C0D", "tap 04112233445566")),
    Scene("checkout_long", "A long title is shortened; the return date stays", ("tap 04A1B2C3", "tap 04AABBCCDDEEFF")),
    Scene("already_yours", "The same book tapped again: already yours, no renewal burnt",
          ("tap 04A1B2C3", "tap 04112233445566", "wait 3", "tap 04112233445566")),
    Scene("renewal", "A book renewed on a later day", ("at 2026-11-16T09:00:00+08:00", "tap 04A1B2C3",
                                                        "tap 04334455667788", "press done", "wait 10", MORNING,
                                                        "tap 04A1B2C3", "tap 04334455667788")),
    Scene("refused", "A book in repair: see the librarian", ("tap 04A1B2C3", "tap 04BBCCDDEEFF00")),
    Scene("limit", "Three books already: return one first",
          ("tap 04A1B2C3", "tap 04223344556677", "wait 3", "tap 04334455667788", "wait 3", "tap 04445566778899")),
    Scene("summary", "Goodbye: what was borrowed, the progress bar and a word of praise at a milestone",
          ("tap 04A1B2C3", "tap 04223344556677", "wait 3", "tap 04AABBCCDDEEFF", "press done")),
    Scene("summary_cabinet", "Goodbye at a class cabinet: the class's month beside the student's term",
          ("tap 04A1B2C3", "tap 048899AABBCCDD", "press done"), CABINET),
    Scene("return", "A book returned at idle",
          ("tap 04A1B2C3", "tap 04223344556677", "press done", "wait 10", "tap 04223344556677")),
    Scene("other_cabinet", "A cabinet's book shown at the door: where it belongs, by name", ("tap 0499AABBCCDDEE",)),
    Scene("unknown_tag", "A tag nobody knows", ("tap 04DEADBEEF0001",)),
    Scene("blocked", "A stopped card: the reason once, and what may still be done", ("tap 2C3D4E5F",)),
    Scene("help", "Help", ("press help",)),
    Scene("find", "Find a book: typed pinyin initials find a Chinese title; where it is, or when it is back",
          ("press find", "type X")),
    Scene("find_empty", "Find a book before a letter is typed: the instruction in the field, keys for a child's "
          "finger", ("press find",)),
    Scene("find_results", "Find a book: titles and authors, on the shelf or on loan",
          ("tap 04A1B2C3", "tap 04334455667788", "press done", "wait 10", "press find", "type ho")),
    Scene("staff", "A volunteer's staff screen: inventory, receive, status with the last sync in local time, "
          "unknown tags", ("tap 04DEADBEEF0001", "wait 5", "tap 5F607182")),
    Scene("staff_more", "The staff screen's second page, where a small panel cannot show the whole status at once",
          ("tap 04DEADBEEF0001", "wait 5", "tap 5F607182"), slide=1),
    Scene("librarian", "A librarian's staff screen: exit for maintenance", ("tap 60718293",)),
    Scene("inventory", "A stocktake: the running count, and where a book of another shelf belongs",
          ("tap 5F607182", "press inventory", "tap 04334455667788", "tap 04445566778899", "tap 0499AABBCCDDEE")),
    Scene("inventory_returned", "A stocktake finds a book on loan on the shelf: returned, and where it goes",
          ("tap 04A1B2C3", "tap 0499AABBCCDDEE", "press done", "wait 10", "tap 5F607182", "press inventory",
           "tap 04334455667788", "tap 0499AABBCCDDEE")),
    Scene("receive", "Receiving a class corner's books at its cabinet: each one now belongs here",
          ("tap 5F607182", "press receive", "tap 048899AABBCCDD", "tap 04334455667788", "tap 04445566778899"),
          CABINET),
    Scene("fault", "The reader is not working", ("reader fail",)),
]
DEMO_LEGEND = DemoKeys().legend


class Recorder:
    """A screen that keeps the last view it was shown."""

    view: View | None = None

    def show(self, view: View) -> None:
        self.view = view


def central_page(folder: Path) -> dict:
    """What a central store holding the demo data and `HISTORY` sends a new kiosk: one page of everything."""
    from sync.server import db as central

    folder.mkdir(parents=True, exist_ok=True)
    db = central.init_db(folder / "central.db")
    central.import_csv(db, "patrons", (DATA / "patrons.csv").read_text(encoding="utf-8"), "patrons.csv")
    central.import_csv(db, "items", (DATA / "items.csv").read_text(encoding="utf-8"), "items.csv")
    central.add_kiosk(db, "history")
    push_history(db, "history", [(patron, item, datetime(2026, 11, day, 1, tzinfo=timezone.utc))
                                 for patron, item, day in HISTORY], CENTRAL_NOW)
    central.refresh_showcase(db, CENTRAL_NOW, force=True)
    page = central.changes(db, 0, 100000)
    db.conn.close()
    return page


def prepare_gallery_db(path: Path, page: dict) -> None:
    """The demo database after a sync, with one patron whose name is too long for a small screen."""
    prepare_demo_db(path)
    db = store.open_db(path)
    store.save_patrons(db, catalog.parse_patrons(LONG_NAME_PATRON, "gallery", item_uids=store.uids_in_use(db, "items")))
    store.apply_changes(db, "demo-door", page, page["cursor"])
    db.conn.close()


def scene_views(folder: Path, language: str, page: dict | None = None) -> Iterator[tuple[Scene, View, datetime]]:
    """Each scene's view and the kiosk's time then, from a fresh demo kiosk per scene (`page`: what it pulled)."""
    page = page or central_page(folder / f"central-{language}")
    for scene in SCENES:
        config = parse_config({"kiosk": {"name": "Library door", "language": language, **scene.kiosk}})
        path = folder / f"{scene.name}-{language}.db"
        prepare_gallery_db(path, page)
        db = store.open_db(path)
        clock = ScriptClock(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))
        screen = Recorder()
        kiosk = Kiosk(db, config, clock, screen=screen, translate=translator, address=lambda: "192.168.10.23")
        lines = scene.lines if scene.lines and scene.lines[0].startswith("at ") else (MORNING,) + scene.lines
        run_script(kiosk, clock, lines, lambda outcome: None, source=scene.name)
        kiosk.refresh_status(clock.now())
        yield scene, screen.view, clock.now()
        db.conn.close()


def render_all(out: Path, sizes=None, languages=LANGUAGES, legend=()) -> list[dict]:
    """Write every scene x language x size to `out`; returns what was written, with each screen's problems."""
    import pygame

    from kiosk.screen import SIZES, ROTATE_SECONDS, Screen, find_cjk_font

    pygame.font.init()  # drawing onto plain surfaces: no display needed
    font = find_cjk_font()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        page = central_page(Path(tmp) / "central")
        for language in languages:
            for scene, view, now in scene_views(Path(tmp), language, page):
                for width, height in sizes or SIZES:
                    surface = pygame.Surface((width, height))
                    screen = Screen(surface, translator, font_path=font, legend=legend)
                    screen.show(view)
                    screen.draw(now)
                    if screen.pages:  # the page the scene shows: wait for its turn
                        turns = (scene.slide - screen.slide_index(now)) % len(screen.pages)
                        now = now + timedelta(seconds=ROTATE_SECONDS * turns)
                        screen.draw(now)
                    path = out / f"{scene.name}-{language}-{width}x{height}.png"
                    pygame.image.save(surface, str(path))
                    written.append({"scene": scene.name, "caption": scene.caption, "language": language,
                                    "size": (width, height), "path": path, "view": view, "now": now,
                                    "screen": screen, "problems": screen.problems()})
    return written


def write_index(out: Path, written: list[dict]) -> None:
    """docs/screens/README.md: each scene at 800x480 in both languages, smaller sizes linked."""
    lines = ["# The kiosk's screens", "",
             "Every screen of the kiosk in English and Chinese, drawn by `kiosk.screen` from the views the",
             "real kiosk (state machine and store, on the demo data and what a central store sends) produced.",
             "Made by `python -m kiosk.demo.gallery docs/screens`; `tests/test_screen_gallery.py` draws the same",
             "screens and checks that no text leaves its box, covers another, is cut short or is smaller than",
             "a child reads, that Chinese shows as characters, and that buttons keep their places.", "",
             "Sizes: 800x480 (a 7\" display) below; 480x320 (3.5\") and 320x240 (2.8\") linked under each.", ""]
    for scene in dict.fromkeys(item["scene"] for item in written):
        items = [i for i in written if i["scene"] == scene]
        lines += [f"## {scene}: {items[0]['caption']}", ""]
        for language in dict.fromkeys(i["language"] for i in items):
            big = [i for i in items if i["language"] == language and i["size"] == (800, 480)]
            small = [i for i in items if i["language"] == language and i["size"] != (800, 480)]
            if big:
                lines.append(f"![{scene} {language}]({big[0]['path'].name})")
            links = ", ".join(f"[{w}x{h}]({i['path'].name})" for i in small for w, h in [i["size"]])
            lines += ["", f"{language}: {links}", ""]
    (out / "README.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str]) -> int:
    """Write the gallery to argv[0] (default docs/screens); exit 1 if any text does not fit."""
    out = Path(argv[0] if argv else "docs/screens")
    for old in out.glob("*.png"):
        old.unlink()
    written = render_all(out)
    write_index(out, written)
    bad = [f"{w['path'].name}: {p}" for w in written for p in w["problems"]]
    print(f"{len(written)} screenshots in {out}" + (f"; {len(bad)} problems:" if bad else ""))
    for line in bad:
        print("  " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
