"""The central store on loopback for tests: a real uvicorn server in a thread, and the data tests seed it with."""

from __future__ import annotations

import functools
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import uvicorn

from sync.server.app import create_app

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "kiosk" / "demo" / "files"
PASSWORD = "correct horse battery"
DEMO_KIOSKS = ("door", "cabinet-3a", "cabinet-4b")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CentralServer:
    """`kiosk-central serve` in-process: start(), .url, stop()."""

    def __init__(self, db_path, port: int | None = None, settings=None, clock=None, **ssl):
        self.db_path = str(db_path)
        self.port = port or free_port()
        self.app = create_app(self.db_path, settings, **({"clock": clock} if clock else {}))
        # As `kiosk-central serve` runs it: the app itself decides which proxy's headers to believe.
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", proxy_headers=False, **ssl))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        scheme = "https" if ssl else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> "CentralServer":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the central store did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def seed_demo(db) -> dict[str, str]:
    """The demo patrons and books, and the demo kiosks; returns each kiosk's token."""
    from sync.server import db as store

    tokens = {k: store.add_kiosk(db, k) for k in DEMO_KIOSKS}
    store.import_csv(db, "patrons", (DEMO / "patrons.csv").read_text(encoding="utf-8"), "patrons.csv")
    store.import_csv(db, "items", (DEMO / "items.csv").read_text(encoding="utf-8"), "items.csv")
    return tokens


@functools.cache
def password_hash() -> str:
    """Wu's password hashed once: each hash at the store's cost takes most of a second."""
    from sync.server.auth import hash_password

    return hash_password(PASSWORD)


# The pages' late loan: Mia's Charlotte's Web, lent 20 days ago and due 6 days ago, so late but not yet
# late enough to stop her card (14 days), whatever day the tests run on.
LATE_CHECKOUT = (datetime.now(timezone.utc) - timedelta(days=20)).replace(hour=2, minute=0, second=0, microsecond=0)
LATE_DUE = (LATE_CHECKOUT + timedelta(days=14)).date().isoformat()


def seed_pages(path):
    """A central store for the librarian's pages: librarian `wu`, the demo data, an unknown tag, a late loan."""
    from sync.server import db as store

    db = store.init_db(path)
    store.set_librarian(db, "wu", password_hash())
    store.import_csv(db, "patrons", (DEMO / "patrons.csv").read_text(encoding="utf-8"), "patrons.csv")
    store.import_csv(db, "items", (DEMO / "items.csv").read_text(encoding="utf-8"), "items.csv")
    store.add_kiosk(db, "door")
    stamp = {"trusted": True, "boot_id": "b", "monotonic": 1.0}
    records = [
        {"seq": 1, "kind": "unknown_tag", "at": "2026-11-20T01:00:00+00:00", "details": {"uid": "04CAFE0000BEEF"},
         **stamp},
        {"seq": 2, "kind": "return", "at": "2026-11-20T02:00:00+00:00", "item_id": "B0004", **stamp},
        {"seq": 3, "kind": "checkout", "at": LATE_CHECKOUT.isoformat(), "patron_id": "S1001", "item_id": "B0001",
         "details": {"due": LATE_DUE}, **stamp},
    ]
    store.push(db, "door", {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "b", "monotonic": 2.0,
                            "records": records})
    return db
