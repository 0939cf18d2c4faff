"""The librarian's pages over HTTP on loopback: logins, CSRF, imports, exports, tags and flags."""

import functools
import html
import re
from datetime import datetime, timezone

import httpx
import pytest

from sync.server import db as store
from sync.server.auth import check_password, hash_password
from tests.servers import PASSWORD, password_hash  # noqa: F401  (the other page tests take them from here)
from tests.servers import seed_pages as seed  # noqa: F401

@pytest.fixture
def central(pages_central):
    return pages_central


def login(central, password=PASSWORD):
    client = httpx.Client(base_url=central.url)
    form = client.get("/login")
    response = client.post("/login", data={"name": "wu", "password": password, "csrf": csrf_of(form.text)})
    return client, response


def test_the_login_form_has_its_own_csrf_token(central):
    client = httpx.Client(base_url=central.url)
    forged = client.post("/login", data={"name": "wu", "password": PASSWORD, "csrf": "from another site"})
    assert forged.headers["location"] == "/login" and "kiosk_session" not in client.cookies


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_passwords_are_salted_slow_hashes():
    one, two = hash_password("secret-1"), hash_password("secret-1")
    assert one != two and one.startswith("scrypt$131072$8$1$")  # OWASP's minimum: N=2**17, r=8, p=1
    assert check_password("secret-1", one) and not check_password("secret-2", one)
    assert not check_password("secret-1", None)


@pytest.mark.parametrize("path", ["/", "/log", "/loans", "/loans?overdue=1", "/import", "/unknown-tags", "/flagged",
                                  "/export/log.csv", "/export/patrons.csv"])
def test_every_page_needs_a_login(central, path):
    response = httpx.get(central.url + path)
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_a_wrong_password_is_refused_and_a_session_ends_at_logout(central):
    client, response = login(central, "wrong password")
    assert response.headers["location"] == "/login?failed=1" and "kiosk_session" not in client.cookies
    client, response = login(central)
    assert response.status_code == 303 and response.headers["location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "Kiosk health" in home.text
    client.post("/logout", data={"csrf": csrf_of(home.text)})
    assert httpx.get(central.url + "/", cookies={"kiosk_session": "stolen"}).status_code == 303
    assert client.get("/").status_code == 303


def test_a_form_without_the_sessions_csrf_token_changes_nothing(central):
    client, _ = login(central)
    response = client.post("/unknown-tags", data={"uid": "04CAFE0000BEEF", "kind": "patron", "target": "S1002",
                                                  "csrf": "forged"})
    assert response.status_code == 403
    assert store.uids_in_use(central.db, "patrons").get("04CAFE0000BEEF") is None


def test_a_file_with_a_bad_row_imports_nothing_and_names_the_row(central):
    client, _ = login(central)
    token = csrf_of(client.get("/import").text)
    bad = "id,title,author,call_number,tag_uid,barcode,home,status\nB9001,Good Book,,,,,library,available\n" \
          "B9002,,,,,,library,available\n"
    response = client.post("/import", data={"kind": "items", "csrf": token},
                           files={"file": ("books.csv", bad.encode(), "text/csv")})
    assert response.status_code == 422 and "line 3: title is missing" in response.text
    assert central.db.execute("SELECT COUNT(*) FROM items WHERE id LIKE 'B900%'").fetchone()[0] == 0
    good = bad.replace("B9002,,", "B9002,<script>alert(1)</script>,")
    response = client.post("/import", data={"kind": "items", "csrf": token},
                           files={"file": ("books.csv", good.encode(), "text/csv")})
    assert response.status_code == 200 and "imported 2 items" in response.text
    exported = client.get("/export/items.csv").text
    assert "B9002,<script>alert(1)</script>" in exported


def test_an_unknown_tag_is_attached_and_kiosks_pull_it(central):
    client, _ = login(central)
    page = client.get("/unknown-tags")
    assert "04CAFE0000BEEF" in page.text
    before = int(store.changes(central.db, 0, 5000)["cursor"])
    client.post("/unknown-tags", data={"uid": "04CAFE0000BEEF", "kind": "patron", "target": "S1002",
                                       "csrf": csrf_of(page.text)})
    assert store.uids_in_use(central.db, "patrons")["04CAFE0000BEEF"] == "S1002"
    assert [p["id"] for p in store.changes(central.db, before, 100)["patrons"]] == ["S1002"]
    assert "04CAFE0000BEEF" not in client.get("/unknown-tags").text
    assert central.db.execute("SELECT librarian, action FROM audit").fetchall()[-1] == ("wu", "attach patron tag")


def test_a_flagged_return_is_resolved_and_the_resolution_logged(central):
    client, _ = login(central)
    page = client.get("/flagged")
    assert "Returned while the book was not on loan" in page.text  # the reason in words, not its code
    client.post("/flagged", data={"kiosk_id": "door", "seq": "2", "resolution": "lost", "csrf": csrf_of(page.text)})
    assert central.db.execute("SELECT resolution, resolved_by FROM merge_flags WHERE seq = 2").fetchone() == (
        "lost", "wu")
    assert central.db.execute("SELECT status FROM items WHERE id = 'B0004'").fetchone()[0] == "lost"
    assert "Mark the book lost" not in client.get("/flagged").text


def test_overdue_books_per_class_and_as_csv(central):
    client, _ = login(central)
    page = client.get("/loans?overdue=1")
    assert "Class 3A: overdue books" in page.text and "Charlotte" in page.text
    rows = client.get("/export/overdue.csv").text.splitlines()
    assert rows[0].startswith("item_id,title") and rows[1].startswith("B0001,Charlotte's Web")


def test_the_log_filters_by_kind_and_pages(central):
    client, _ = login(central)
    page = client.get("/log", params={"kind": "checkout"})
    assert "Charlotte" in page.text and "04CAFE" not in page.text
    flagged = client.get("/log", params={"flagged": "1"})
    assert "Returned while the book was not on loan" in flagged.text and "Charlotte" not in flagged.text


def test_blocking_a_card_and_sending_a_book_to_repair_are_registered_and_pulled(central):
    client, _ = login(central)
    page = client.get("/patrons", params={"q": "Ben"})
    assert "Ben Okafor" in page.text and "Mia Chen" not in page.text
    before = int(store.changes(central.db, 0, 5000)["cursor"])
    client.post("/patrons/status", data={"row_id": "S1002", "status": "blocked", "note": "card reported stolen",
                                         "csrf": csrf_of(page.text)})
    books = client.get("/items", params={"q": "Hobbit"})
    client.post("/items/status", data={"row_id": "B0003", "status": "repair", "note": "spine torn",
                                       "csrf": csrf_of(books.text)})
    pulled = store.changes(central.db, before, 100)
    assert [(p["id"], p["status"]) for p in pulled["patrons"]] == [("S1002", "blocked")]
    assert [(i["id"], i["status"]) for i in pulled["items"]] == [("B0003", "repair")]
    register = client.get("/items").text
    assert "spine torn" in register and "sent to repair" in register and "item repair" not in register
    cards = client.get("/patrons").text
    assert "card reported stolen" in cards and "card stopped" in cards and "patron blocked" not in cards
    client.get("/lang/zh_CN")
    assert "送去修补" in client.get("/items").text and "借书卡已停用" in client.get("/patrons").text
    refused = client.post("/items/status", data={"row_id": "B0003", "status": "shredded", "csrf": csrf_of(books.text)},
                          follow_redirects=True)
    assert "not one of available, repair, withdrawn, lost" in refused.text
    assert central.db.execute("SELECT status FROM items WHERE id = 'B0003'").fetchone()[0] == "repair"


def test_the_rules_editor_saves_valid_rules_for_the_kiosks_and_refuses_bad_ones(central):
    client, _ = login(central)
    form = client.get("/rules")
    token = csrf_of(form.text)
    data = {"csrf": token, "block_overdue_days": "10", "closed_weekdays": ["sat", "sun"],
            "holidays": "2026-12-25\n2027-01-01", "term_goal": "15", "class_month_goal": "2"}
    for ptype in ("student", "teacher", "volunteer", "librarian"):
        data.update({f"{ptype}.loan_days": "21" if ptype == "student" else "30", f"{ptype}.max_loans": "4",
                     f"{ptype}.renewals": "2"})
    bad = dict(data, **{"student.loan_days": "two weeks"})
    refused = client.post("/rules", data=bad)
    assert refused.status_code == 422
    assert "student loan_days: 'two weeks' is not a whole number" in html.unescape(refused.text)
    assert central.db.execute("SELECT COUNT(*) FROM rules").fetchone()[0] == 0
    saved = client.post("/rules", data=data, follow_redirects=True)
    assert "Saved." in saved.text
    rules = store.changes(central.db, 0, 5000)["rules"]
    assert rules["student"]["loan_days"] == 21 and rules["holidays"] == ["2026-12-25", "2027-01-01"]
    assert rules["block_overdue_days"] == 10


def test_the_reading_page_draws_the_goals(central):
    client, _ = login(central)
    page = client.get("/stats", params={"since": "2026-09-01"})
    assert page.status_code == 200 and "Reading against the school" in page.text
    assert "Mia Chen" in page.text and "to go" in page.text
    rows = client.get("/export/stats.csv").text.splitlines()
    assert rows[0] == "id,name,class,books_this_term,goal"


def test_a_reversed_checkout_stays_reversed_when_the_book_is_merged_again(central):
    door = {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "b", "monotonic": 3.0}
    stamp = {"trusted": True, "boot_id": "b", "monotonic": 1.0}
    # Two kiosks lent B0005 while offline: both flagged; the librarian reverses the later one.
    store.add_kiosk(central.db, "cabinet")
    store.push(central.db, "cabinet", dict(door, records=[
        {"seq": 1, "kind": "checkout", "at": "2026-11-21T01:00:00+00:00", "patron_id": "S1001", "item_id": "B0005",
         "details": {"due": "2026-12-05"}, **stamp}]))
    store.push(central.db, "door", dict(door, records=[
        {"seq": 4, "kind": "checkout", "at": "2026-11-21T02:00:00+00:00", "patron_id": "S1002", "item_id": "B0005",
         "details": {"due": "2026-12-05"}, **stamp}]))
    assert central.db.execute("SELECT patron_id FROM loans WHERE item_id = 'B0005'").fetchone()[0] == "S1002"
    store.resolve_flag(central.db, "wu", "door", 4, "reverse")
    assert central.db.execute("SELECT patron_id FROM loans WHERE item_id = 'B0005'").fetchone()[0] == "S1001"
    # A later record for the book re-merges it: the reversal holds.
    store.push(central.db, "door", dict(door, records=[
        {"seq": 5, "kind": "renew", "at": "2026-11-22T02:00:00+00:00", "patron_id": "S1001", "item_id": "B0005",
         "details": {"due": "2026-12-06"}, **stamp}]))
    assert central.db.execute("SELECT patron_id, due FROM loans WHERE item_id = 'B0005'").fetchone() == (
        "S1001", "2026-12-06")
    assert central.db.execute("SELECT action FROM audit").fetchall()[-1][0] == "resolve reverse"


def test_editing_a_patron_uses_the_import_rules_and_is_registered(central):
    client, _ = login(central)
    form = client.get("/patrons/S1002")
    assert 'value="Ben Okafor"' in form.text
    token = csrf_of(form.text)
    refused = client.post("/patrons/S1002", data={"csrf": token, "name": "Ben Okafor", "type": "pirate",
                                                   "class": "3A", "card_uid": "0A0B0C0D", "status": "active",
                                                   "expires": ""})
    assert refused.status_code == 422 and "type &#39;pirate&#39; is not one of" in refused.text
    taken = client.post("/patrons/S1002", data={"csrf": token, "name": "Ben Okafor", "type": "student",
                                                 "class": "4B", "card_uid": "04112233445566", "status": "active",
                                                 "expires": ""})
    assert taken.status_code == 422 and "already the tag of item B0001" in taken.text
    assert central.db.execute("SELECT class_name FROM patrons WHERE id = 'S1002'").fetchone()[0] == "3A"
    saved = client.post("/patrons/S1002", data={"csrf": token, "name": "Ben Okafor", "type": "student",
                                                 "class": "4B", "card_uid": "0A0B0C0D", "status": "active",
                                                 "expires": "2027-07-31"}, follow_redirects=True)
    assert saved.status_code == 200
    assert central.db.execute("SELECT class_name, expires FROM patrons WHERE id = 'S1002'").fetchone() == (
        "4B", "2027-07-31")
    assert "class=4B" in central.db.execute("SELECT detail FROM audit").fetchall()[-1][0]


def test_the_log_pages_back_through_older_records(central):
    store.add_kiosk(central.db, "cabinet")
    records = [{"seq": n, "kind": "inventory", "at": f"2026-11-10T{n // 60:02d}:{n % 60:02d}:00+00:00",
                "trusted": True, "item_id": f"B{n:04d}"} for n in range(1, 71)]
    store.push(central.db, "cabinet", {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "b",
                                       "monotonic": 1.0, "records": records})
    client, _ = login(central)
    first = client.get("/log", params={"kiosk": "cabinet"})
    row = r"<td class=\"lead\">cabinet</td><td class=\"lead\">#(\d+)</td>"
    seqs = [int(s) for s in re.findall(row, first.text)]
    assert seqs == list(range(70, 20, -1))
    older = html.unescape(re.search(r'href="\?([^"]+)">Older records', first.text).group(1))
    second = client.get("/log?" + older)
    assert [int(s) for s in re.findall(row, second.text)] == list(range(20, 0, -1))
    assert "Older records" not in second.text


def test_a_kiosk_not_heard_from_stands_out(central):
    store.add_kiosk(central.db, "cabinet-far")  # registered, never synced
    client, _ = login(central)
    page = client.get("/")
    row = re.search(r"<tr class=\"silent\">\s*<td>cabinet-far", page.text)
    assert row is not None
    assert re.search(r"<tr>\s*<td>door \(door\)", page.text) is not None  # the door synced just now
