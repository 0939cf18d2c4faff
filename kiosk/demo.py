"""`make demo`: the kiosk on demo data.

Creates a fresh demo database under `demo-data/` from `kiosk/demo_data`,
then runs the demo script through the scripted kiosk and prints what a
student would see at each step.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kiosk import imports, store
from kiosk.app import Kiosk, run_script
from kiosk.clock import ScriptClock
from kiosk.config import Config

DATA = Path(__file__).resolve().parent / "demo_data"


def prepare_demo_db(path: Path, kiosk_id: str = "demo-door") -> None:
    """A fresh kiosk database holding the demo patrons and items."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = store.init_db(path, kiosk_id)
    patrons = imports.parse_patrons((DATA / "patrons.csv").read_text(encoding="utf-8"), "patrons.csv")
    store.save_patrons(db, patrons)
    items = imports.parse_items((DATA / "items.csv").read_text(encoding="utf-8"), "items.csv",
                                patron_uids=store.uids_in_use(db, "patrons"))
    store.save_items(db, items)
    db.conn.close()


def transcript(db_path: Path, out=sys.stdout) -> None:
    """Run the demo script and print each outcome as a person would read it."""
    db = store.open_db(db_path)
    clock = ScriptClock(db)
    kiosk = Kiosk(db, Config(), clock)

    def emit(outcome: dict) -> None:
        what = outcome["input"].split("#", 1)[-1].strip() if "#" in outcome["input"] else outcome["input"]
        mark = {"ok": "[green]", "error": "[red]  ", "fault": "[blink]"}.get(outcome["led"] or "", "       ")
        record = f"  (record {outcome['record']})" if outcome["record"] else ""
        print(f"{mark} {outcome['screen']:8} {outcome['message']}{record}   <- {what}", file=out)

    with open(DATA / "demo.script", encoding="utf-8") as lines:
        run_script(kiosk, clock, lines, emit, source="demo.script")
    print("\nThe kiosk's status:", json.dumps(store.status(db), ensure_ascii=False), file=out)


def main() -> None:
    folder = Path("demo-data")
    folder.mkdir(exist_ok=True)
    db_path = folder / "kiosk.db"
    prepare_demo_db(db_path)
    print("No kiosk window yet: running the demo script in the terminal.\n")
    transcript(db_path)


if __name__ == "__main__":
    main()
