"""A page of changes applied in short transactions, so that a tap never waits long on the sync process;
a kill between two of them loses nothing and leaves the cursor right."""

import json
import signal
import subprocess
import sys
from pathlib import Path

from kiosk import store
from kiosk.config import parse_config
from sync.client import SyncClient, make_session
from tests.contract_server import ContractServer
from tests.test_sync import central  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "k-door-secret-token"


def page_of_items(count: int, title: str = "Holes") -> dict:
    return {"items": [{"id": f"B{n:05d}", "title": title, "author": "", "call_number": "", "barcode": None,
                       "tag_uid": f"04{n:012X}", "home": "library", "status": "available"} for n in range(count)]}


def test_a_page_is_applied_in_chunks_each_in_its_own_transaction_with_the_cursor_in_the_last(tmp_path):
    db = store.init_db(tmp_path / "door.db", "door")
    statements = []
    db.conn.set_trace_callback(statements.append)
    cursors = []
    for done in store.apply_page(db, "door", {**page_of_items(1000), "cursor": "7"}, "7", chunk=200):
        cursors.append((done, store.get_meta(db, "pull_cursor")))
    db.conn.set_trace_callback(None)
    assert [s for s in statements if s in ("BEGIN IMMEDIATE", "COMMIT")] == ["BEGIN IMMEDIATE", "COMMIT"] * 5
    assert cursors == [(200, None), (400, None), (600, None), (800, None), (1000, "7")]
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 1000


KILLED_MIDWAY = """
import json, sys, time
from kiosk import store
db = store.open_db(sys.argv[1])
page = json.loads(open(sys.argv[2]).read())
for done in store.apply_page(db, "door", page, page["cursor"], chunk=200):
    print(done, flush=True)
    if done == 400:
        time.sleep(60)  # killed here, between two chunks
"""


def test_a_kill_between_chunks_leaves_the_cursor_before_the_page_and_the_next_pull_completes_it(tmp_path):
    path = tmp_path / "door.db"
    store.init_db(path, "door").conn.close()
    page = {**page_of_items(1000, "Holes, second edition"), "cursor": "1"}
    (tmp_path / "page.json").write_text(json.dumps(page))
    child = subprocess.Popen([sys.executable, "-c", KILLED_MIDWAY, str(path), str(tmp_path / "page.json")],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert [child.stdout.readline().strip() for _ in range(2)] == ["200", "400"]
    child.send_signal(signal.SIGKILL)
    child.wait()

    db = store.open_db(path)  # quick_check passes: each chunk was committed whole
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 400
    assert store.get_meta(db, "pull_cursor") is None  # the page is not counted as applied
    with ContractServer({"door": TOKEN}) as central:
        central.pages = [page_of_items(1000, "Holes, second edition")]
        config = parse_config({"kiosk": {"id": "door"}, "central": {"url": central.url, "token": TOKEN}}, "door.toml")
        client = SyncClient(db, config, session=make_session(retries=0))
        assert client.run_once(), store.get_meta(db, "last_error")
    assert [r["query"]["since"][0] for r in central.seen if r["method"] == "GET"] == ["0"]  # the page again
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT title) FROM items").fetchone() == (1000, 1)
    assert store.get_meta(db, "pull_cursor") == "1"


def test_a_new_kiosks_first_pull_goes_page_by_page_and_later_pulls_leave_room_for_taps(tmp_path, central,
                                                                                        monkeypatch):
    import sync.client
    from sync.server import db as central_db
    from tests.test_sync import Site

    pauses = []
    monkeypatch.setattr(sync.client.time, "sleep", lambda seconds: pauses.append(seconds))
    site = Site(tmp_path, central, "door")
    assert site.sync.run_once()
    assert site.db.execute("SELECT COUNT(*) FROM items").fetchone()[0] > 0  # the whole catalog
    assert pauses == []  # no book before it, so no tap to wait for it: nothing paced
    central_db.set_status(central.db, "wu", "items", "B0001", "repair", "spine torn")
    assert site.sync.run_once()
    assert site.db.execute("SELECT status FROM items WHERE id = 'B0001'").fetchone()[0] == "repair"
    assert pauses and all(seconds > 0 for seconds in pauses)  # a kiosk with books: paced chunks
