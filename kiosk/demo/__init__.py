"""Demo data and tools: `make demo` (`python -m kiosk.demo`), the demo keys, the screenshot gallery.

`files/` holds the demo patrons, books and script; `prepare_demo_db` makes a
kiosk database of them. Nothing in the kiosk itself depends on this package
except `kiosk run --demo`, which takes its keys from `kiosk.demo.keys`.
"""

from __future__ import annotations

from pathlib import Path

from kiosk import store
from kiosk.domain import catalog

DATA = Path(__file__).resolve().parent / "files"


def prepare_demo_db(path: Path, kiosk_id: str = "demo-door") -> None:
    """A fresh kiosk database holding the demo patrons and items."""
    store.remove_db(path)
    db = store.init_db(path, kiosk_id)
    patrons = catalog.parse_patrons((DATA / "patrons.csv").read_text(encoding="utf-8"), "patrons.csv")
    store.save_patrons(db, patrons)
    items = catalog.parse_items((DATA / "items.csv").read_text(encoding="utf-8"), "items.csv",
                                patron_uids=store.uids_in_use(db, "patrons"))
    store.save_items(db, items)
    db.conn.close()
