"""The stocktake, homes and rotation pages over HTTP on loopback: counts, CSV, closing, names, packing lists."""

import html
from datetime import datetime, timezone

import httpx
import pytest

from sync.server import db as store
from tests.test_pages import csrf_of, login

DAY = "2026-11-23"


def counted(seq, item, shelf, status="available", minute=0):
    return {"seq": seq, "kind": "inventory", "at": f"{DAY}T02:{minute:02d}:00+00:00", "trusted": True,
            "boot_id": "b", "monotonic": 1.0, "patron_id": "V3001", "item_id": item,
            "details": {"shelf": shelf, "status": status, "on_loan": False}}


def add_stocktake(db) -> None:
    """To the pages' central store: a named home, a book of its own and two counts on its shelf."""
    store.import_csv(db, "items", "id,title,author,call_number,tag_uid,barcode,home,status\n"
                                  "B0020,<b>Bold</b> Mice,,E MIC,,,class-3a,available\n", "more.csv")
    store.set_home(db, "wu", "class-3a", "Class 3A", "3A")
    store.add_kiosk(db, "cabinet-3a")
    # 3A's cabinet counted the caterpillar, and Matilda of the library.
    store.push(db, "cabinet-3a", {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "b",
                                  "monotonic": 2.0, "records": [counted(1, "B0008", "class-3a"),
                                                                counted(2, "B0002", "class-3a", minute=1)]})


@pytest.fixture
def central(pages_central):
    add_stocktake(pages_central.db)
    return pages_central


@pytest.mark.parametrize("path", ["/stocktake", f"/stocktake.csv?home=class-3a&since={DAY}", "/homes",
                                  "/homes/class-3a/history", "/rotations", "/rotations/1"])
def test_every_new_page_needs_a_login(central, path):
    response = httpx.get(central.url + path)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_the_stocktake_page_counts_lists_and_exports(central):
    client, _ = login(central)
    page = client.get("/stocktake", params={"home": "class-3a", "since": DAY})
    text = html.unescape(page.text)
    assert page.status_code == 200 and "Stocktake: Class 3A" in text
    assert "Missing (2)" in text and "Misplaced (1)" in text  # Frog and Toad and the mice; Matilda
    assert "<b>Bold</b> Mice" in text and "<b>Bold</b>" not in page.text  # a title is text, never markup
    assert "mark the 2 missing books lost" in text
    rows = client.get("/stocktake.csv", params={"home": "class-3a", "since": DAY}).text.splitlines()
    assert rows[0] == "item,title,home,state,kiosk,seen_at"
    assert sorted(r.split(",")[0] + ":" + r.split(",")[3] for r in rows[1:]) == [
        "B0002:misplaced", "B0008:seen", "B0009:missing", "B0020:missing"]


def test_a_bad_day_or_home_is_said_once_and_changes_nothing(central):
    client, _ = login(central)
    page = client.get("/stocktake", params={"home": "class-3a", "since": "23.11.2026"})
    assert "&#39;23.11.2026&#39; is not a date like 2026-11-23" in page.text
    page = client.get("/stocktake", params={"home": "class-9z", "since": DAY})
    assert "No home class-9z: choose one of the list." in page.text
    assert client.get("/stocktake.csv", params={"home": "class-9z", "since": DAY}).status_code == 404


def test_closing_needs_the_box_ticked_and_the_same_count(central):
    client, _ = login(central)
    token = csrf_of(client.get("/stocktake").text)
    form = {"home": "class-3a", "since": DAY, "confirmed": "2", "csrf": token}
    unticked = client.post("/stocktake/close", data=form, follow_redirects=True)
    assert "Tick the box" in unticked.text
    stale = client.post("/stocktake/close", data=dict(form, confirmed="3", sure="yes"), follow_redirects=True)
    assert "missing books now 2, not the 3 you confirmed" in html.unescape(stale.text)
    forged = client.post("/stocktake/close", data=dict(form, sure="yes", csrf="forged"))
    assert forged.status_code == 403
    assert central.db.execute("SELECT COUNT(*) FROM items WHERE status = 'lost'").fetchone()[0] == 1  # B0012 only
    done = client.post("/stocktake/close", data=dict(form, sure="yes"), follow_redirects=True)
    assert "Stocktake 1 closed: 2 missing books marked lost" in done.text
    lost = [r[0] for r in central.db.execute("SELECT id FROM items WHERE status = 'lost' ORDER BY id")]
    assert lost == ["B0009", "B0012", "B0020"]
    assert "Frog and Toad" in done.text.split("not found since")[1]  # listed among the books still missing
    book = client.get("/book/B0009").text  # the book's page says so, and why
    assert "Missing: not found in stocktake 1 of class-3a" in book
    assert "stocktake 1 of class-3a: not found since 2026-11-23" in book
    assert "Missing: not found" not in client.get("/book/B0008").text


def test_the_stocktake_page_in_chinese(central):
    client, _ = login(central)
    page = client.get("/stocktake", params={"home": "class-3a", "since": DAY},
                      headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "盘点：Class 3A" in page.text and "缺失 (2)" in page.text and "放错位置 (1)" in page.text


def test_naming_a_home_reaches_the_kiosks_and_a_bad_name_is_refused(central):
    client, _ = login(central)
    page = client.get("/homes")
    assert "class-4b" in page.text  # a home named only by its books is listed too
    before = int(store.changes(central.db, 0, 5000)["cursor"])
    done = client.post("/homes", data={"home": "class-4b", "name": "三年级一班", "class_name": "4B",
                                       "csrf": csrf_of(page.text)}, follow_redirects=True)
    assert "class-4b is now called 三年级一班" in done.text
    assert store.changes(central.db, before, 100)["homes"] == [{"id": "class-4b", "name": "三年级一班"}]
    refused = client.post("/homes", data={"home": "class-4b", "name": "", "csrf": csrf_of(page.text)},
                          follow_redirects=True)
    assert "class-4b: a name of 1 to 100 characters" in refused.text
    assert store.home_names(central.db)["class-4b"] == "三年级一班"


def test_a_rotation_is_planned_and_its_packing_lists_printed(central):
    client, _ = login(central)
    page = client.get("/rotations")
    made = client.post("/rotations", data={"step0": "class-3a", "step1": "class-4b", "ring": "yes",
                                           "csrf": csrf_of(page.text)})
    assert made.status_code == 303 and made.headers["location"] == "/rotations/1"
    packing = client.get("/rotations/1").text
    assert "From Class 3A to class-4b: 3 books" in html.unescape(packing)
    assert "From class-4b to Class 3A: 1 book" in html.unescape(packing)
    refused = client.post("/rotations", data={"step0": "class-3a", "csrf": csrf_of(page.text)}, follow_redirects=True)
    assert "two or more different homes" in refused.text
    history = client.get("/homes/class-3a/history").text
    assert "Class 3A: the books it has had" in history and "The Very Hungry Caterpillar" in history
