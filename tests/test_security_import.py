"""Big uploads and long imports: a size limit with a clear page, a short list of bad rows, kiosks answered meanwhile.

A 50 MB upload of bad rows took 18.6 s, built a 67.7 MB error page, and
because the import ran inside an `async def`, the kiosks' pushes stalled
for its whole length. Now: uploads up to 10 MB (configurable), at most the
first 100 bad rows listed, and the import read, checked and saved in a
worker thread, so the event loop answers pushes throughout. How long a
push takes during an import is measured by bench/import_push.py; here the
tests prove, without timing anything, where the import runs.
"""

import asyncio
import re
import threading
from datetime import datetime, timezone

import httpx
import pytest
from click.testing import CliRunner

from sync.server import db as store
from sync.server.cli import main
from sync.server.settings import Settings
from tests.servers import CentralServer
from tests.test_pages import csrf_of, login, seed

ITEMS = "id,title,author,call_number,tag_uid,barcode,home,status\n"
WAIT = 60  # seconds before a test calls a hang a failure; nothing is timed


@pytest.fixture
def central(tmp_path):
    path = tmp_path / "central.db"
    db = seed(path)
    with CentralServer(path, settings=Settings(max_upload_mb=1)) as server:
        server.db = db
        server.token = store.add_kiosk(db, "cabinet-big")
        yield server


def upload(client, text, kind="items"):
    page = client.get("/import")
    return client.post("/import", data={"kind": kind, "csrf": csrf_of(page.text)},
                       files={"file": ("books.csv", text.encode(), "text/csv")}, timeout=WAIT)


def test_a_file_over_the_limit_is_refused_with_a_page_that_says_so(central):
    client, _ = login(central)
    big = ITEMS + "".join(f"B{n:06d},A title long enough to fill the file,,,,,library,available\n"
                          for n in range(40_000))
    assert len(big) > 2 * 1024 * 1024
    response = upload(client, big)
    assert response.status_code == 413
    assert re.search(r"The file is 2\.\d MB; the import takes files up to 1 MB", response.text)
    assert central.db.execute("SELECT COUNT(*) FROM items WHERE id LIKE 'B0%' AND length(id) = 7").fetchone()[0] == 0
    assert client.get("/").status_code == 200  # the session and the connection go on


def test_the_limit_is_ten_megabytes_unless_serve_is_told_otherwise():
    assert Settings().max_upload_bytes == 10 * 1024 * 1024
    assert "--max-upload-mb" in CliRunner().invoke(main, ["serve", "--help"]).output


def test_a_file_of_many_bad_rows_makes_a_short_page(central):
    client, _ = login(central)
    response = upload(client, ITEMS + ",A title,,,,,library,available\n" * 20_000)
    assert response.status_code == 422
    assert response.text.count("id is missing") == 100 and "and 19,900 more" in response.text
    assert len(response.content) < 60_000


def test_a_body_over_eight_megabytes_is_refused_before_it_is_read(central):
    headers = {"Authorization": f"Bearer {central.token}", "Content-Type": "application/json"}
    url = f"{central.url}/api/v1/kiosks/cabinet-big/records"
    declared = httpx.post(url, content=b" " * (9 * 1024 * 1024), headers=headers, timeout=WAIT)
    assert declared.status_code == 413

    def chunks():
        yield b'{"records": ['
        for _ in range(9 * 1024):
            yield b" " * 1024

    undeclared = httpx.post(url, content=chunks(), headers=headers, timeout=WAIT)
    assert 400 <= undeclared.status_code < 500
    assert central.db.execute("SELECT COUNT(*) FROM log WHERE kiosk_id = 'cabinet-big'").fetchone()[0] == 0


class ParkedParse:
    """Wraps the import's parse: says where it runs and waits there until the test lets it go on."""

    def __init__(self, parse):
        self.parse = parse
        self.entered, self.go_on, self.parsed = threading.Event(), threading.Event(), threading.Event()
        self.on_event_loop = None

    def __call__(self, *args, **kwargs):
        try:
            asyncio.get_running_loop()
            self.on_event_loop = True
        except RuntimeError:
            self.on_event_loop = False
        self.entered.set()
        self.go_on.wait(WAIT)
        rows = self.parse(*args, **kwargs)
        self.parsed.set()
        return rows


def push_one(central, seq):
    body = {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "b", "monotonic": 5.0,
            "records": [{"seq": seq, "kind": "inventory", "at": "2026-11-23T01:00:00+00:00", "trusted": True,
                         "item_id": "B0001"}]}
    return httpx.post(f"{central.url}/api/v1/kiosks/cabinet-big/records", json=body, timeout=WAIT,
                      headers={"Authorization": f"Bearer {central.token}"})


def test_an_import_runs_in_a_worker_thread_and_kiosks_are_answered_meanwhile(central, monkeypatch):
    parked = ParkedParse(store.parse_csv)
    monkeypatch.setattr(store, "parse_csv", parked)
    client, _ = login(central)
    text = ITEMS + "".join(f"B9{n:04d},Book {n},,,,,library,available\n" for n in range(2000))
    answer = {}
    importing = threading.Thread(target=lambda: answer.update(response=upload(client, text)))
    importing.start()
    try:
        assert parked.entered.wait(WAIT), "the import never reached its parse"
        assert parked.on_event_loop is False
        # The import is in the middle of its work: the kiosks and the pages are answered.
        assert httpx.get(central.url + "/api/v1/health", timeout=WAIT).json()["ok"] is True
        pushed = push_one(central, 1)
        assert pushed.status_code == 200 and pushed.json()["acked_seq"] == 1
        assert login(central)[0].get("/").status_code == 200
        assert importing.is_alive() and "response" not in answer

        # Then it waits for the write lock, held here as a long push would hold it.
        with central.app.state.write_lock:
            parked.go_on.set()
            assert parked.parsed.wait(WAIT)
            assert httpx.get(central.url + "/api/v1/health", timeout=WAIT).status_code == 200
            assert importing.is_alive() and "response" not in answer
    finally:
        parked.go_on.set()
        importing.join(WAIT)
    assert "imported 2000 items" in answer["response"].text
    assert central.db.execute("SELECT COUNT(*) FROM items WHERE id LIKE 'B9%'").fetchone()[0] == 2000


def test_a_tag_attached_while_a_file_was_checked_is_not_given_away_again(central, monkeypatch):
    parked = ParkedParse(store.parse_csv)
    monkeypatch.setattr(store, "parse_csv", parked)
    client, _ = login(central)
    answer = {}
    text = ITEMS + "B9001,Holes,,,04CAFE0000BEEF,,library,available\n"
    importing = threading.Thread(target=lambda: answer.update(response=upload(client, text)))
    importing.start()
    try:
        assert parked.entered.wait(WAIT)
        store.attach_uid(central.db, "wu", "04CAFE0000BEEF", "patron", "S1002")  # meanwhile, on another page
    finally:
        parked.go_on.set()
        importing.join(WAIT)
    assert answer["response"].status_code == 422
    assert "tag_uid 04CAFE0000BEEF is already the tag of patron S1002" in answer["response"].text


def test_a_staged_import_keeps_the_rules_of_a_save(tmp_path):
    db = store.init_db(tmp_path / "central.db")
    patrons = "id,name,type,class,card_uid,status,expires\n"
    store.import_csv(db, "patrons", patrons + "S1,Mia,,3A,04A1B2C3,blocked,\nS2,Ben,,3A,0A0B0C0D,active,\n", "p.csv")
    blocked_since = db.execute("SELECT blocked_since FROM patrons WHERE id = 'S1'").fetchone()[0]
    assert blocked_since
    before = int(store.changes(db, 0, 5000)["cursor"])
    # The two swap cards in one file; Mia stays blocked since the same moment; Ben's expiry is kept as a date.
    store.import_csv(db, "patrons", patrons + "S2,Ben,,3A,04A1B2C3,active,2027-07-31\nS1,Mia,,3A,0A0B0C0D,blocked,\n",
                     "p.csv")
    rows = {r["id"]: r for r in db.query("SELECT * FROM patrons")}
    assert (rows["S1"]["card_uid"], rows["S2"]["card_uid"]) == ("0A0B0C0D", "04A1B2C3")
    assert rows["S1"]["blocked_since"] == blocked_since and rows["S2"]["blocked_since"] is None
    assert rows["S2"]["expires"] == "2027-07-31"
    assert [p["id"] for p in store.changes(db, before, 100)["patrons"]] == ["S2", "S1"]  # in the file's order
    items = ITEMS + "B1,Holes,,,,,library,repair\n"
    store.import_csv(db, "items", items, "i.csv")
    assert db.execute("SELECT unavailable_since FROM items").fetchone()[0]
    store.import_csv(db, "items", items.replace("repair", "available"), "i.csv")
    assert db.execute("SELECT unavailable_since FROM items").fetchone()[0] is None
