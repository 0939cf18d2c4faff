"""The central store's API on loopback: exactly once, tokens, bad bodies, changes, the merge."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from sync.server import db as store
from tests.servers import CentralServer, seed_demo

DEMO = Path(__file__).resolve().parent.parent / "kiosk" / "demo" / "files"
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def central(module_store_url):
    path = module_store_url
    db = store.init_db(path)
    tokens = seed_demo(db)
    with CentralServer(path) as server:
        server.tokens, server.db = tokens, db
        yield server


class Kiosk:
    """Just enough of a kiosk to push records by hand."""

    def __init__(self, central, kiosk_id, boot="boot-1"):
        self.central, self.id, self.boot, self.seq = central, kiosk_id, boot, 0
        self.headers = {"Authorization": f"Bearer {central.tokens[kiosk_id]}"}

    def record(self, kind, minutes, patron=None, item=None, trusted=True, **details):
        self.seq += 1
        return {"seq": self.seq, "kind": kind, "at": (T0 + timedelta(minutes=minutes)).isoformat(),
                "trusted": trusted, "boot_id": self.boot, "monotonic": 100.0 + minutes * 60,
                "patron_id": patron, "item_id": item, "details": details, "flagged": False}

    def push(self, records, path_id=None, monotonic=None):
        body = {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": self.boot,
                "monotonic": monotonic if monotonic is not None else 100.0 + 24 * 3600,
                "status": {"pending": 0, "reader_ok": True, "version": "test"}, "records": records}
        return httpx.post(f"{self.central.url}/api/v1/kiosks/{path_id or self.id}/records", json=body,
                          headers=self.headers)


def log_count(central, kiosk_id):
    return central.db.execute("SELECT COUNT(*) FROM log WHERE kiosk_id = ?", [kiosk_id]).fetchone()[0]


def loan_of(central, item_id):
    row = central.db.execute("SELECT patron_id FROM loans WHERE item_id = ?", [item_id]).fetchone()
    return row[0] if row else None


def flags_of(central, item_id):
    return {(k, s): r for k, s, r in central.db.execute(
        "SELECT kiosk_id, seq, reason FROM merge_flags WHERE item_id = ?", [item_id])}


def test_a_retried_batch_is_stored_once_and_acknowledged(central):
    door = Kiosk(central, "door")
    batch = [door.record("checkout", 0, "S1001", "B001", due="2026-12-07"), door.record("return", 5, None, "B001")]
    first = door.push(batch)
    assert first.status_code == 200, first.text
    assert (first.json()["acked_seq"], first.json()["stored"]) == (2, 2)
    again = door.push(batch)  # the answer was lost: the kiosk sends the same batch again
    assert again.json() == again.json() | {"acked_seq": 2, "stored": 0, "duplicates": 2}
    assert log_count(central, "door") == 2


def test_same_sequence_other_content_is_refused_and_nothing_of_the_batch_is_kept(central):
    door = Kiosk(central, "door")
    door.seq = 2
    fresh = door.record("unknown_tag", 10, uid="DEADBEEF")
    door.seq = 1
    clash = door.record("checkout", 0, "S1002", "B001", due="2026-12-07")
    response = door.push([fresh, clash])
    assert response.status_code == 409
    assert "#2" in response.json()["detail"] or "#1" in response.json()["detail"]
    assert log_count(central, "door") == 2


def test_acknowledgement_stops_at_a_gap(central):
    cab = Kiosk(central, "cabinet-4b")
    one, two, three = (cab.record("inventory", m) for m in (1, 2, 3))
    assert cab.push([one, three]).json()["acked_seq"] == 1
    assert cab.push([two]).json()["acked_seq"] == 3


@pytest.mark.parametrize("headers, path_id, status", [
    ({}, "door", 401),
    ({"Authorization": "Bearer not-a-token"}, "door", 401),
    ({"Authorization": "Basic abc"}, "door", 401),
    (None, "cabinet-3a", 403),  # the door's own token, on the cabinet's path
])
def test_a_kiosk_writes_only_its_own_log(central, headers, path_id, status):
    door = Kiosk(central, "door")
    if headers is not None:
        door.headers = headers
    door.seq = 900
    before = log_count(central, path_id)
    response = door.push([door.record("inventory", 1)], path_id=path_id)
    assert response.status_code == status
    assert log_count(central, path_id) == before
    assert central.tokens["door"] not in response.text


def valid_body():
    return {"sent_at": "2026-11-23T09:00:00+08:00", "boot_id": "b", "monotonic": 1.0,
            "records": [{"seq": 500, "kind": "inventory", "at": "2026-11-23T09:00:00+08:00", "trusted": True}]}


def broken(change):
    body = valid_body()
    change(body)
    return body


@pytest.mark.parametrize("body, names", [
    (broken(lambda b: b.pop("sent_at")), "sent_at"),
    (broken(lambda b: b["records"][0].update(kind="teleport")), "kind"),
    (broken(lambda b: b["records"][0].update(seq=0)), "seq"),
    (broken(lambda b: b["records"][0].update(seq="five")), "seq"),
    (broken(lambda b: b["records"][0].update(at="yesterday")), "at"),
    (broken(lambda b: b["records"][0].update(at="2026-11-23T09:00:00")), "at"),  # no offset: which time?
    (broken(lambda b: b["records"][0].update(kind="checkout", item_id="B1", patron_id="S1")), "due"),
    (broken(lambda b: b["records"][0].update(colour="red")), "colour"),
    (broken(lambda b: b.pop("records")), "records"),  # none at all is fine: a report of health alone
    (broken(lambda b: b.update(records=b["records"] * 1001)), "records"),
    ("{not json", "body"),
])
def test_bad_bodies_are_refused_naming_the_field_and_store_nothing(central, body, names):
    headers = {"Authorization": f"Bearer {central.tokens['cabinet-3a']}"}
    before = log_count(central, "cabinet-3a")
    url = f"{central.url}/api/v1/kiosks/cabinet-3a/records"
    if isinstance(body, str):
        response = httpx.post(url, content=body, headers=headers | {"Content-Type": "application/json"})
    else:
        response = httpx.post(url, json=body, headers=headers)
    assert response.status_code == 422
    assert names in json.dumps(response.json()["detail"])
    assert log_count(central, "cabinet-3a") == before


@pytest.mark.parametrize("order", [("cabinet-3a", "door"), ("door", "cabinet-3a")])
def test_lent_at_a_cabinet_and_returned_at_the_door_ends_returned_whichever_syncs_first(store_url, order):
    path = store_url
    db = store.init_db(path)
    tokens = {k: store.add_kiosk(db, k) for k in ("door", "cabinet-3a")}
    with CentralServer(path) as server:
        server.tokens, server.db = tokens, db
        kiosks = {k: Kiosk(server, k) for k in tokens}
        batches = {"cabinet-3a": [kiosks["cabinet-3a"].record("checkout", 0, "S1001", "B002", due="2026-12-07")],
                   "door": [kiosks["door"].record("return", 90, None, "B002", from_patron="S1001")]}
        for kiosk_id in order:
            assert kiosks[kiosk_id].push(batches[kiosk_id]).status_code == 200
        assert loan_of(server, "B002") is None
        assert flags_of(server, "B002") == {}


def test_two_kiosks_lending_one_book_offline_keep_both_records_flagged(central):
    cab, door = Kiosk(central, "cabinet-3a"), Kiosk(central, "door")
    cab.seq, door.seq = 100, 100
    assert cab.push([cab.record("checkout", 200, "S1001", "B003", due="2026-12-07")]).status_code == 200
    assert door.push([door.record("checkout", 210, "S1002", "B003", due="2026-12-07")]).status_code == 200
    assert loan_of(central, "B003") == "S1002"
    assert flags_of(central, "B003") == {("cabinet-3a", 101): "double_checkout", ("door", 101): "double_checkout"}
    assert log_count(central, "cabinet-3a") >= 1


def test_a_return_of_a_book_never_lent_is_kept_and_flagged(central):
    door = Kiosk(central, "door")
    door.seq = 200
    assert door.push([door.record("return", 300, None, "B004")]).status_code == 200
    assert flags_of(central, "B004") == {("door", 201): "return_not_on_loan"}


def test_lent_offline_to_a_patron_blocked_meanwhile_is_flagged(central):
    from kiosk.domain.catalog import parse_patrons

    blocked = parse_patrons("id,name,type,class,card_uid,status,expires\nS1003,Li,student,4B,1B2C3D4E,blocked,\n",
                            "p.csv", {}, {})
    store.save_patrons(central.db, blocked)
    cab = Kiosk(central, "cabinet-3a")
    cab.seq = 300
    # The cabinet was offline since yesterday and lent the book an hour ago.
    now = datetime.now(timezone.utc)
    record = cab.record("checkout", 0, "S1003", "B005", due="2026-12-07")
    record["at"] = (now + timedelta(minutes=1)).isoformat()
    assert cab.push([record]).status_code == 200
    assert loan_of(central, "B005") == "S1003"  # kept as it happened
    assert flags_of(central, "B005") == {("cabinet-3a", 301): "patron_blocked"}


def test_untrusted_times_are_corrected_by_the_monotonic_clock(central):
    cab = Kiosk(central, "cabinet-4b", boot="boot-no-rtc")
    cab.seq = 50
    record = cab.record("inventory", 0, trusted=False)
    record["at"], record["monotonic"] = "2000-01-01T00:00:00+00:00", 1000.0
    before = datetime.now(timezone.utc)
    assert cab.push([record], monotonic=1600.0).status_code == 200  # ten minutes after the record
    corrected = central.db.execute("SELECT corrected_at FROM log WHERE kiosk_id = 'cabinet-4b' AND seq = 51"
                                   ).fetchone()[0]
    lag = before - datetime.fromisoformat(corrected)
    assert timedelta(minutes=9, seconds=55) < lag < timedelta(minutes=10, seconds=10)


def test_changes_converge_page_by_page(central):
    headers = {"Authorization": f"Bearer {central.tokens['door']}"}
    seen = {"patrons": {}, "items": {}, "loans": {}}
    since, pages = "0", 0
    while True:
        page = httpx.get(f"{central.url}/api/v1/changes", params={"since": since, "limit": 4}, headers=headers).json()
        pages += 1
        for table in seen:
            for row in page[table]:
                seen[table][row["id" if table != "loans" else "item_id"]] = row
        for item_id in page["loans_removed"]:
            seen["loans"].pop(item_id, None)
        since = page["cursor"]
        if not page["more"]:
            break
    assert pages > 3
    assert set(seen["patrons"]) == {r[0] for r in central.db.execute("SELECT id FROM patrons")}
    assert set(seen["items"]) == {r[0] for r in central.db.execute("SELECT id FROM items")}
    assert {k: v["patron_id"] for k, v in seen["loans"].items()} == dict(
        central.db.execute("SELECT item_id, patron_id FROM loans").fetchall())
    quiet = httpx.get(f"{central.url}/api/v1/changes", params={"since": since}, headers=headers).json()
    assert (quiet["patrons"], quiet["items"], quiet["loans"], quiet["more"]) == ([], [], [], False)


def test_rules_reach_the_kiosks(central):
    from kiosk.domain.policy import parse_policy

    headers = {"Authorization": f"Bearer {central.tokens['door']}"}
    since = httpx.get(f"{central.url}/api/v1/changes", params={"since": "0", "limit": 5000},
                      headers=headers).json()["cursor"]
    store.set_rules(central.db, parse_policy({"student": {"max_loans": 5}, "holidays": ["2026-12-25"]}))
    page = httpx.get(f"{central.url}/api/v1/changes", params={"since": since}, headers=headers).json()
    assert page["rules"]["student"]["max_loans"] == 5 and page["rules"]["holidays"] == ["2026-12-25"]


def test_changes_need_a_token_and_a_real_cursor(central):
    assert httpx.get(f"{central.url}/api/v1/changes").status_code == 401
    headers = {"Authorization": f"Bearer {central.tokens['door']}"}
    bad = httpx.get(f"{central.url}/api/v1/changes", params={"since": "yesterday"}, headers=headers)
    assert bad.status_code == 422 and "since" in bad.text


def test_the_openapi_description_is_published(central):
    spec = httpx.get(f"{central.url}/openapi.json").json()
    assert "/api/v1/kiosks/{kiosk_id}/records" in spec["paths"]
    assert "/api/v1/changes" in spec["paths"]


def test_kiosks_pushing_at_once_all_get_answers(store_url):
    """Many kiosks at the same moment: every push answered 200 on the first try, each record held once."""
    import threading

    path = store_url
    db = store.init_db(path)
    tokens = {f"cabinet-{n}": store.add_kiosk(db, f"cabinet-{n}") for n in range(8)}
    with CentralServer(path) as server:
        server.tokens, server.db = tokens, db
        statuses = []

        def kiosk(kiosk_id):
            me = Kiosk(server, kiosk_id)
            with httpx.Client() as client:
                for _ in range(10):
                    batch = [me.record("inventory", n, item=f"B{n}") for n in range(20)]
                    body = {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": me.boot,
                            "monotonic": 1e5, "records": batch}
                    statuses.append(client.post(f"{server.url}/api/v1/kiosks/{kiosk_id}/records", json=body,
                                                headers=me.headers).status_code)

        threads = [threading.Thread(target=kiosk, args=(k,)) for k in tokens]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert statuses == [200] * 80
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT kiosk_id || seq) FROM log").fetchone() == (1600, 1600)
