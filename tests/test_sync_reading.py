"""Reading progress, the idle showcase and recommendations through `kiosk sync` and the scripted kiosk: two
kiosks and the real central store on loopback (its clock fixed, so the term and month are known)."""

from datetime import datetime, timezone

import pytest

from kiosk import store
from kiosk.app import Kiosk, run_script
from kiosk.clock import ScriptClock
from kiosk.config import parse_config
from sync.client import SyncClient
from sync.server import db as central_db
from tests.servers import CentralServer
from tests.test_sync import DEMO, Site

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)
MORNING = "at 2026-11-23T09:00:00+08:00"


@pytest.fixture
def central(tmp_path):
    path = tmp_path / "central.db"
    db = central_db.init_db(path)
    tokens = {k: central_db.add_kiosk(db, k) for k in ("door", "cabinet-3a")}
    central_db.import_csv(db, "patrons", (DEMO / "patrons.csv").read_text(), "patrons.csv")
    central_db.import_csv(db, "items", (DEMO / "items.csv").read_text(), "items.csv")
    with CentralServer(path, clock=lambda: NOW) as server:
        server.tokens, server.db = tokens, db
        yield server


def cabinet_3a(tmp_path, central):
    """Class 3A's cabinet: its home is the home of 3A's books."""
    site = Site(tmp_path, central, "cabinet-3a")
    site.config = parse_config({"kiosk": {"id": "cabinet-3a", "role": "cabinet", "home": "class-3a"},
                                "central": {"url": central.url, "token": central.tokens["cabinet-3a"]}})
    site.sync = SyncClient(site.db, site.config)
    return site


def synced(site):
    assert site.sync.run_once(), store.get_meta(site.db, "last_error")
    return site


def test_progress_adds_other_kiosks_without_counting_a_book_twice(tmp_path, central):
    door, cabinet = synced(Site(tmp_path, central, "door")), synced(cabinet_3a(tmp_path, central))
    lent = cabinet.run(f"{MORNING}\ntap 04A1B2C3\ntap 048899AABBCCDD\nwait 3\ntap 0499AABBCCDDEE\npress done")
    assert lent[-1]["progress"]["term_books"] == 2
    start = door.run(f"{MORNING}\ntap 04A1B2C3")[0]
    assert start["progress"]["term_books"] == 0  # the door has not heard yet: offline, it counts its own
    synced(cabinet), synced(door)
    lines = door.run("at 2026-11-23T10:00:00+08:00\ntap 04A1B2C3\ntap 04112233445566\npress done")
    assert (lines[0]["progress"]["term_books"], lines[-1]["progress"]["term_books"]) == (2, 3)
    synced(door), synced(cabinet)  # the door's checkout is now in the central store's count too
    assert door.run("at 2026-11-23T11:00:00+08:00\ntap 04A1B2C3")[0]["progress"]["term_books"] == 3
    assert cabinet.run("at 2026-11-23T11:00:00+08:00\ntap 04A1B2C3")[0]["progress"] == {
        "term_books": 3, "term_goal": 15, "class_name": "3A", "class_books": 3, "class_goal": 4}


def test_a_checkout_recommends_what_other_readers_read_that_is_on_the_shelf_here(tmp_path, central):
    central_db.add_kiosk(central.db, "other")
    records = [{"seq": n + 1, "kind": "checkout", "at": "2026-11-10T01:00:00+00:00", "patron_id": patron,
                "item_id": item, "details": {"due": "2026-11-24"}, "trusted": True, "boot_id": "b", "monotonic": 1.0}
               for n, (patron, item) in enumerate([("S1002", "B0001"), ("S1002", "B0003"), ("S1003", "B0001"),
                                                   ("S1003", "B0003"), ("S1003", "B0014"), ("S1005", "B0014"),
                                                   ("S1005", "B0001")])]
    central_db.push(central.db, "other", {"sent_at": NOW.isoformat(), "boot_id": "b", "monotonic": 2.0,
                                          "records": records})
    door = synced(Site(tmp_path, central, "door"))
    lines = door.run(f"{MORNING}\ntap 04A1B2C3\ntap 045566778899AA\nwait 3\ntap 04112233445566")
    # The Hobbit and The Secret Garden are on loan to their readers: nothing on the shelf to suggest
    assert lines[-1]["outcome"] == "checkout" and lines[-1]["also"] == []
    returns = [{"seq": 8 + n, "kind": "return", "at": "2026-11-20T01:00:00+00:00", "patron_id": p, "item_id": i,
                "details": {}, "trusted": True, "boot_id": "b", "monotonic": 3.0}
               for n, (p, i) in enumerate([("S1002", "B0003"), ("S1005", "B0014")])]
    central_db.push(central.db, "other", {"sent_at": NOW.isoformat(), "boot_id": "b", "monotonic": 4.0,
                                          "records": returns})
    synced(door)
    lines = door.run("at 2026-11-24T09:00:00+08:00\ntap 0A0B0C0D\ntap 04112233445566")
    assert lines[-1]["outcome"] == "checkout" and lines[-1]["also"] == ["The Hobbit", "The Secret Garden"]


def test_the_idle_screen_shows_the_showcase_the_central_store_sends(tmp_path, central):
    cabinet = synced(cabinet_3a(tmp_path, central))
    cabinet.run(f"{MORNING}\ntap 04A1B2C3\ntap 048899AABBCCDD\npress done")
    synced(cabinet)
    clock = ScriptClock(datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc))
    kiosk = Kiosk(cabinet.db, cabinet.config, clock)
    slides = {s.kind: s for s in kiosk.view.slides}
    assert {b.title for b in slides["new"].books} == {"The Very Hungry Caterpillar", "Frog and Toad Are Friends"}
    assert slides["new"].heading.params["home"].params == {"name": "3A"}
    assert [b.title for b in slides["popular"].books] == ["The Very Hungry Caterpillar"]
    assert (slides["class"].count, slides["class"].goal) == (1, 4)
    assert "stars" not in slides  # names are off unless the school turns them on
    run_script(kiosk, clock, ["tap 0A0B0C0D", "tap 0499AABBCCDDEE", "press done", "wait 6"], lambda line: None)
    assert next(s for s in kiosk.view.slides if s.kind == "class").count == 2  # at once, before any sync
