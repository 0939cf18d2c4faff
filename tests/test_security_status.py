"""The kiosks page tells what the kiosks know: every round is seen, and pending is the kiosk's own count.

The page showed "acknowledged 15, pending 15" while the kiosk itself had
nothing pending (the count was taken before the batch went), and a kiosk
that synced with nothing to push sent no status, so a quiet cabinet was
marked silent after 24 hours.
"""

import re
from datetime import timedelta

import httpx

from kiosk import store
from kiosk.domain.events import Record
from sync.server import db as central_db
from tests.test_pages import login
from tests.test_sync import Site, central  # noqa: F401  (the fixture)
from tests.test_sync_client import STAMP


def health(central, kiosk_id):  # noqa: F811
    row = central.db.execute("SELECT acked_seq, pending, last_seen FROM kiosks WHERE id = ?", [kiosk_id]).fetchone()
    return {"acked": row[0], "pending": row[1], "last_seen": row[2]}


def test_pending_on_the_kiosks_page_is_the_kiosks_own_count(tmp_path, central):  # noqa: F811
    site = Site(tmp_path, central, "door", batch_size=10)
    store.append_records(site.db, "door", [Record("inventory", item_id=f"B{n}") for n in range(15)], STAMP)
    assert site.sync.run_once(), store.get_meta(site.db, "last_error")
    assert store.pending_count(site.db) == 0
    assert health(central, "door") | {"last_seen": None} == {"acked": 15, "pending": 0, "last_seen": None}


def test_a_round_with_nothing_to_push_is_seen(tmp_path, central):  # noqa: F811
    site = Site(tmp_path, central, "cabinet-3a")
    two_days_ago = central_db.iso(central_db.utc_now() - timedelta(days=2))
    with central.db.atomic():
        central.db.execute("UPDATE kiosks SET last_seen = ?, pending = 7 WHERE id = 'cabinet-3a'", [two_days_ago])
    assert site.sync.run_once(), store.get_meta(site.db, "last_error")
    seen = health(central, "cabinet-3a")
    assert seen["last_seen"] > two_days_ago and seen["pending"] == 0 and seen["acked"] == 0
    assert central.db.execute("SELECT COUNT(*) FROM log WHERE kiosk_id = 'cabinet-3a'").fetchone()[0] == 0


def test_the_kiosks_page_shows_a_quiet_cabinet_as_heard_from(tmp_path, central):  # noqa: F811
    from tests.test_pages import password_hash

    central_db.set_librarian(central.db, "wu", password_hash())
    site = Site(tmp_path, central, "cabinet-4b")
    assert site.sync.run_once()
    client, _ = login(central)
    page = client.get("/").text
    row = re.search(r"<tr(?P<attrs>[^>]*)>\s*<td[^>]*>cabinet-4b \(cabinet-4b\)[^<]*</td>(?P<rest>.*?)</tr>", page, re.S)
    assert row and "silent" not in row.group("attrs") + row.group(0)
    assert re.search(r'<td data-label="records acknowledged">0</td><td data-label="pending">0</td>', row.group("rest"))


def test_a_push_of_no_records_is_a_report_of_health(central):  # noqa: F811
    body = {"sent_at": central_db.iso(central_db.utc_now()), "boot_id": "b", "monotonic": 1.0,
            "status": {"pending": 3, "reader_ok": False, "version": "1.2"}, "records": []}
    answer = httpx.post(f"{central.url}/api/v1/kiosks/door/records", json=body,
                        headers={"Authorization": f"Bearer {central.tokens['door']}"})
    assert answer.status_code == 200 and answer.json()["stored"] == 0
    row = central.db.execute("SELECT pending, reader_ok, version FROM kiosks WHERE id = 'door'").fetchone()
    assert row == (3, 0, "1.2")
