"""Values that reach the kiosks are checked before they are stored: pushed, typed on a page, or imported.

An unknown tag's UID, as the kiosk supplied it, became a card number
(`<img...>`) and every kiosk pulled it. Now every value is held to the
import's rules: a UID is 8 or 14 hex digits, no text holds a control
character, and a refused value changes nothing.
"""

import json

import httpx
import pytest

from sync.server import db as store
from tests.test_central_api import Kiosk, central as api_central, log_count  # noqa: F401  (the fixture)
from tests.test_pages import central, csrf_of, login  # noqa: F401  (the fixture)


def unknown_tag_page(client):
    return client.get("/unknown-tags")


@pytest.mark.parametrize("uid", ['<img src=x onerror="alert(1)">', "04CAFE0000BEE", "04CAFE0000BEEF\x00", "",
                                 "0" * 64])
def test_an_unknown_tag_attached_must_be_a_uid(central, uid):  # noqa: F811
    client, _ = login(central)
    page = unknown_tag_page(client)
    before = int(store.changes(central.db, 0, 5000)["cursor"])
    refused = client.post("/unknown-tags", data={"uid": uid, "kind": "patron", "target": "S1002",
                                                 "csrf": csrf_of(page.text)}, follow_redirects=True)
    assert refused.status_code == 422 and "tag UID" in refused.text
    assert int(store.changes(central.db, 0, 5000)["cursor"]) == before  # nothing for the kiosks to pull
    assert central.db.execute("SELECT card_uid FROM patrons WHERE id = 'S1002'").fetchone()[0] == "0A0B0C0D"


def test_an_attached_uid_is_stored_the_way_a_reader_reports_it(central):  # noqa: F811
    client, _ = login(central)
    page = unknown_tag_page(client)
    client.post("/unknown-tags", data={"uid": "04:ca:fe:00:00:be:ef", "kind": "item", "target": "B0002",
                                       "csrf": csrf_of(page.text)})
    assert store.uids_in_use(central.db, "items")["04CAFE0000BEEF"] == "B0002"


def pushed(api_central, kiosk_id="cabinet-4b", **changes):  # noqa: F811
    kiosk = Kiosk(api_central, kiosk_id)
    kiosk.seq = 700
    record = kiosk.record("inventory", 1, item="B001")
    record.update(changes.pop("record", {}))
    body = {"sent_at": "2026-11-23T09:00:00+08:00", "boot_id": "b", "monotonic": 1.0,
            "status": {"pending": 0, "version": "1"}, "records": [record]}
    body.update(changes)
    return httpx.post(f"{api_central.url}/api/v1/kiosks/{kiosk_id}/records",
                      content=json.dumps(body), headers=kiosk.headers | {"Content-Type": "application/json"})


@pytest.mark.parametrize("changes, names", [
    ({"record": {"kind": "unknown_tag", "item_id": None, "details": {"uid": "<img src=x onerror=alert(1)>"}}}, "uid"),
    ({"record": {"kind": "unknown_tag", "item_id": None, "details": {"uid": "04cafe0000beef"}}}, "uid"),
    ({"record": {"kind": "unknown_tag", "item_id": None, "details": {"uid": 4}}}, "uid"),
    ({"record": {"item_id": "B0\x0001"}}, "item_id"),
    ({"record": {"patron_id": "S1\x1b[2J"}}, "patron_id"),
    ({"record": {"item_id": "B\ud800"}}, "item_id"),  # a lone surrogate, which no database can store
    ({"record": {"details": {"barcode": "978\x00"}}}, "details"),
    ({"record": {"details": {"note\x00": "x"}}}, "details"),
    ({"record": {"details": {"nested": [{"deeper": "\x07"}]}}}, "details"),
    ({"boot_id": "boot\x00"}, "boot_id"),
    ({"status": {"version": "1\x00"}}, "version"),
    ({"status": {"last_error": "bad\x00"}}, "last_error"),
    ({"status": {"colour": "red\x00"}}, "status"),
])
def test_a_pushed_value_is_checked_by_the_import_rules_before_it_is_stored(api_central, changes, names):  # noqa: F811
    before = log_count(api_central, "cabinet-4b")
    response = pushed(api_central, **changes)
    assert response.status_code == 422, response.text
    assert names in json.dumps(response.json()["detail"])
    assert log_count(api_central, "cabinet-4b") == before


def test_free_text_from_a_kiosk_may_have_lines(api_central):  # noqa: F811
    response = pushed(api_central, kiosk_id="door", record={"kind": "reader_fault", "item_id": None,
                                                            "details": {"detail": "SPI error\n\tretrying"}},
                      status={"pending": 0, "last_error": "the reader:\nnot answering"})
    assert response.status_code == 200, response.text


def test_a_note_with_a_control_character_is_refused(central):  # noqa: F811
    client, _ = login(central)
    page = client.get("/items", params={"q": "Hobbit"})
    refused = client.post("/items/status", data={"row_id": "B0003", "status": "repair", "note": "torn\x00",
                                                 "csrf": csrf_of(page.text)}, follow_redirects=True)
    assert "note holds a control character (U+0000)" in refused.text
    assert central.db.execute("SELECT status FROM items WHERE id = 'B0003'").fetchone()[0] == "available"


@pytest.mark.parametrize("args, problem", [
    (["add-kiosk", "door", "--name", "Door\x1b[2J"], "none of them a control character"),
    (["add-librarian", "wu\x00", "--password-stdin"], "none of them a control character"),
])
def test_names_given_on_the_command_line_follow_the_same_rules(tmp_path, args, problem):
    from click.testing import CliRunner

    from sync.server.cli import main

    store.init_db(tmp_path / "central.db")  # made with `kiosk-central init`; the commands never make one
    result = CliRunner().invoke(main, args + ["--db", str(tmp_path / "central.db")], input="a long passphrase\n")
    assert result.exit_code == 1 and problem in result.output
    db = store.open_db(tmp_path / "central.db")
    assert db.execute("SELECT COUNT(*) FROM kiosks WHERE id != 'desk'").fetchone()[0] == 0  # the desk's row is the store's own
    assert db.execute("SELECT COUNT(*) FROM librarians").fetchone()[0] == 0
