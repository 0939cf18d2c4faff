"""The librarian's desk: the kiosk's rules, overrides once with a reason, records in the merged log that reach
the kiosks, lost books that close loans and raise charges, and the command line that does the same."""

import csv
import io
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from kiosk.domain import desk, rules
from kiosk.domain.model import Item, Loan, Patron, Policy
from sync.server import db as store
from sync.server.cli import main as central

DEMO = Path(__file__).resolve().parent.parent / "kiosk" / "demo" / "files"
TODAY = date(2026, 11, 23)
POLICY = Policy()


def loan(item_id, patron_id="S1", due=TODAY + timedelta(days=7), renewals=0):
    return Loan(item_id=item_id, patron_id=patron_id, due=due, checked_out=datetime(2026, 11, 1), renewals=renewals)


PATRONS = {
    "active": Patron("S1", "Mia"),
    "stopped": Patron("S1", "Mia", status="blocked"),
    "expired": Patron("S1", "Mia", expires=TODAY - timedelta(days=1)),
}
LOANS = {
    "none": (),
    "full": (loan("X1"), loan("X2"), loan("X3")),
    "very late": (loan("X1", due=TODAY - timedelta(days=20)),),
}


@pytest.mark.parametrize("patron", PATRONS)
@pytest.mark.parametrize("loans", LOANS)
@pytest.mark.parametrize("status", ["available", "repair", "lost"])
def test_the_desk_refuses_what_a_kiosk_refuses_for_the_same_reason(patron, loans, status):
    item = Item("B1", "Holes", status=status)
    kiosk = rules.checkout_refusal(POLICY, PATRONS[patron], LOANS[loans], item, TODAY)
    decision = desk.lend(POLICY, PATRONS[patron], LOANS[loans], item, None, TODAY)
    assert (decision.outcome == "refused") == (kiosk is not None)
    if kiosk is not None and status == "available":
        assert decision.reason == kiosk
    if status != "available":  # no override lends a book out of circulation
        lifted = desk.lend(POLICY, PATRONS[patron], LOANS[loans], item, None, TODAY, override="class project")
        assert (lifted.outcome, lifted.reason) == ("refused", "item_unavailable")


def test_an_override_lifts_a_limit_once_and_the_record_says_why():
    refused = desk.lend(POLICY, PATRONS["active"], LOANS["full"], Item("B1", "Holes"), None, TODAY)
    assert (refused.outcome, refused.reason, refused.records) == ("refused", "limit_reached", ())
    assert refused.facts["overridable"] and refused.facts["max"] == 3
    lent = desk.lend(POLICY, PATRONS["active"], LOANS["full"], Item("B1", "Holes"), None, TODAY,
                     override="reading week", librarian="wu")
    assert (lent.outcome, lent.reason, lent.due) == ("checkout", "override", rules.due_date(POLICY, "student", TODAY))
    [record] = lent.records
    assert record.details["override"] == "reading week" and record.details["overridden"] == ["limit_reached"]
    assert record.details["librarian"] == "wu"


def test_a_book_on_loan_to_someone_else_is_returned_from_them_first():
    decision = desk.lend(POLICY, PATRONS["active"], (), Item("B1", "Holes"), loan("B1", patron_id="S9"), TODAY)
    assert [(r.kind, r.patron_id) for r in decision.records] == [("return", "S9"), ("checkout", "S1")]
    assert decision.records[1].details["transfer_from"] == "S9" and decision.facts["holder"] == "S9"
    again = desk.lend(POLICY, PATRONS["active"], (loan("B1"),), Item("B1", "Holes"), loan("B1"), TODAY)
    assert (again.outcome, again.reason, again.records) == ("info", "already_yours", ())


def test_unpaid_charges_above_the_schools_amount_stop_borrowing():
    item = Item("B1", "Holes")
    assert desk.lend(POLICY, PATRONS["active"], (), item, None, TODAY,
                     charges=desk.Charges(owed=500, limit=500)).outcome == "checkout"
    owing = desk.lend(POLICY, PATRONS["active"], (), item, None, TODAY, charges=desk.Charges(owed=501, limit=500))
    assert (owing.outcome, owing.reason, owing.facts["owed"]) == ("refused", "charges_owed", 501)
    assert desk.lend(POLICY, PATRONS["active"], (), item, None, TODAY,
                     charges=desk.Charges(owed=10_000, limit=None)).outcome == "checkout"


def test_renewals_follow_the_kiosks_limit_and_a_new_due_date_uses_none():
    used_up = loan("B1", renewals=2)
    refused = desk.renew(POLICY, PATRONS["active"], (used_up,), Item("B1", "Holes"), used_up, TODAY)
    assert (refused.outcome, refused.reason) == ("refused", "renewal_limit")
    changed = desk.change_due(used_up, TODAY + timedelta(days=3))
    assert changed.records[0].details == {"due": "2026-11-26", "renewals": 2, "due_changed": True, "librarian": ""}
    other = desk.renew(POLICY, PATRONS["active"], (), Item("B1", "Holes"), loan("B1", patron_id="S9"), TODAY)
    assert (other.outcome, other.reason) == ("refused", "not_on_loan_to_patron")


# ------------------------------------------------------------ the central store


@pytest.fixture
def db(tmp_path):
    db = store.init_db(tmp_path / "central.db")
    store.import_csv(db, "patrons", (DEMO / "patrons.csv").read_text(encoding="utf-8"), "patrons.csv")
    store.import_csv(db, "items", (DEMO / "items.csv").read_text(encoding="utf-8"), "items.csv")
    return db


def test_a_desk_checkout_is_a_record_of_the_desk_in_the_merged_log_and_reaches_the_kiosks(db):
    cursor = int(store.changes(db, 0, 5000)["cursor"])
    outcome = store.desk_action(db, "checkout", "04A1B2C3", "9780142410370", librarian="wu", today=TODAY)
    assert (outcome["outcome"], outcome["patron"], outcome["item"], outcome["due"]) == (
        "checkout", "S1001", "B0002", "2026-12-07")
    record = db.execute("SELECT kiosk_id, seq, kind, details, class_name FROM log").fetchone()
    assert record[:3] == ("desk", 1, "checkout") and json.loads(record[3])["librarian"] == "wu" and record[4] == "3A"
    pulled = store.changes(db, cursor, 100)
    assert [(r["item_id"], r["patron_id"], r["due"]) for r in pulled["loans"]] == [("B0002", "S1001", "2026-12-07")]
    assert db.execute("SELECT librarian, action, target FROM audit").fetchall()[-1] == ("wu", "desk checkout",
                                                                                        "B0002")
    back = store.desk_action(db, "return", "", "b0002", librarian="wu", today=TODAY)
    assert (back["outcome"], back["patron"], back["record"]) == ("return", "S1001", 2)
    assert store.changes(db, cursor, 100)["loans_removed"] == ["B0002"]


def test_a_desk_action_is_merged_after_what_the_store_knew_of_the_book(db):
    """A return typed at the desk closes a loan a kiosk stamped later than the desk's clock."""
    store.add_kiosk(db, "door")
    store.push(db, "door", {"sent_at": "2026-11-24T01:00:00+00:00", "boot_id": "b", "monotonic": 5.0, "records": [
        {"seq": 1, "kind": "checkout", "at": "2026-11-24T01:00:00+00:00", "trusted": True, "patron_id": "S1002",
         "item_id": "B0003", "details": {"due": "2026-12-08"}}]})
    store.desk_action(db, "return", "", "B0003", librarian="wu", today=date(2026, 11, 23))
    assert store.loan_of(db, "B0003") is None


def test_lending_over_a_stopped_card_is_not_put_before_the_librarian_again(db):
    refused = store.desk_action(db, "checkout", "S1004", "B0005", librarian="wu")
    assert (refused["outcome"], refused["reason"], refused["records"]) == ("refused", "card_blocked", [])
    lent = store.desk_action(db, "checkout", "S1004", "B0005", librarian="wu", override="exam revision")
    assert lent["outcome"] == "checkout" and store.loan_of(db, "B0005").patron_id == "S1004"
    assert db.execute("SELECT reason, resolution, resolved_by FROM merge_flags").fetchall() == [
        ("patron_blocked", "accept", "wu")]
    assert ("wu", "desk override", "exam revision") in db.execute(
        "SELECT librarian, action, detail FROM audit").fetchall()


def test_a_lost_book_closes_its_loan_charges_its_price_and_blocks_until_paid(db):
    store.desk_action(db, "checkout", "S1002", "B0002", librarian="wu", today=TODAY)
    cursor = int(store.changes(db, 0, 5000)["cursor"])
    done = store.close_as(db, "B0002", "lost", librarian="wu")
    assert (done["patron"], done["amount"], done["status"]) == ("S1002", 1950, "lost")
    assert store.loan_of(db, "B0002") is None
    assert store.charges_report(db) == [{"patron": "S1002", "item": "B0002", "amount": "19.50", "status": "open",
                                         "created": store.charges_report(db)[0]["created"]}]
    pulled = store.changes(db, cursor, 100)
    assert [(p["id"], p["status"]) for p in pulled["patrons"]] == [("S1002", "blocked")]  # the kiosks stop him too
    assert pulled["loans_removed"] == ["B0002"] and [(i["id"], i["status"]) for i in pulled["items"]] == [
        ("B0002", "lost")]
    refused = store.desk_action(db, "checkout", "S1002", "B0003", librarian="wu", today=TODAY)
    assert (refused["outcome"], refused["reason"]) == ("refused", "charges_owed")
    [charge] = store.list_charges(db, status="open")
    store.settle(db, "wu", charge["id"], "paid", "receipt 17")
    assert [(p["id"], p["status"]) for p in store.changes(db, cursor, 100)["patrons"]] == [("S1002", "active")]
    assert store.desk_action(db, "checkout", "S1002", "B0003", librarian="wu", today=TODAY)["outcome"] == "checkout"
    with pytest.raises(store.CentralError, match="already paid"):
        store.settle(db, "wu", charge["id"], "waived")


def test_a_lost_book_found_again_is_back_in_and_its_unpaid_charge_waived(db):
    store.desk_action(db, "checkout", "S1001", "B0004", librarian="wu", today=TODAY)
    store.close_as(db, "B0004", "lost", librarian="wu", charge=3000)
    found = store.desk_action(db, "return", "", "04445566778899", librarian="wu", today=TODAY)
    assert (found["outcome"], found["reason"]) == ("return", "found_lost")
    assert db.execute("SELECT status FROM items WHERE id = 'B0004'").fetchone()[0] == "available"
    assert [(c["amount"], c["status"]) for c in store.charges_report(db)] == [("30.00", "waived")]
    assert db.execute("SELECT owes_block FROM patrons WHERE id = 'S1001'").fetchone()[0] == 0


def test_a_book_without_a_price_is_charged_the_schools_amount(db):
    store.save_settings(db, "wu", {"lost_charge": "12,5"})
    db.execute("UPDATE items SET price_cents = NULL WHERE id = 'B0005'")
    store.desk_action(db, "checkout", "S1003", "B0005", librarian="wu", today=TODAY)
    assert store.close_as(db, "B0005", "damaged", librarian="wu")["amount"] == 1250
    assert db.execute("SELECT status FROM items WHERE id = 'B0005'").fetchone()[0] == "repair"
    with pytest.raises(store.CentralError, match="timezone 'Mars/Base'"):
        store.save_settings(db, "wu", {"timezone": "Mars/Base", "school_name": "changed"})
    assert store.get_settings(db)["school_name"] == ""  # nothing saved of a bad form


def test_a_name_is_found_in_chinese_pinyin_or_any_case(db):
    assert [p["id"] for p in store.search_patrons(db, "李小龙")] == ["S1003"]
    assert [p["id"] for p in store.search_patrons(db, "li xiao long")] == ["S1003"]
    assert [p["id"] for p in store.search_patrons(db, "lxl")] == ["S1003"]
    assert [p["id"] for p in store.search_patrons(db, "mia CHEN")] == ["S1001"]
    assert store.patron_ids_matching(db, "s1001") == ["S1001"]


# ------------------------------------------------------------ the command line


def run(*args):
    return CliRunner().invoke(central, [str(a) for a in args])


@pytest.fixture
def db_path(tmp_path, db):
    return tmp_path / "central.db"


def simulate_keys(tmp_path) -> set:
    from kiosk.cli import main as kiosk
    from kiosk.demo import prepare_demo_db

    prepare_demo_db(tmp_path / "kiosk.db")
    script = tmp_path / "s.script"
    script.write_text("tap 04A1B2C3\n")
    out = CliRunner().invoke(kiosk, ["simulate", str(script), "--db", str(tmp_path / "kiosk.db")])
    return set(json.loads(out.output.splitlines()[0]))


def test_desk_commands_print_what_kiosk_simulate_prints(db_path, tmp_path):
    lent = run("desk", "checkout", "--db", db_path, "--patron", "S1001", "--item", "B0001", "--librarian", "wu",
               "--today", "2026-11-02")
    assert lent.exit_code == 0, lent.output
    line = json.loads(lent.output)
    assert set(line) == simulate_keys(tmp_path)
    assert (line["outcome"], line["reason"], line["patron"], line["item"], line["due"]) == (
        "checkout", None, "S1001", "B0001", "2026-11-16")
    assert line["message"] == "Lent: Charlotte's Web to Mia Chen, due 2026-11-16."
    renewed = json.loads(run("desk", "renew", "--db", db_path, "--patron", "S1001", "--item", "B0001",
                             "--today", "2026-11-10", "--due", "2026-11-30").output)
    assert (renewed["outcome"], renewed["due"]) == ("renew", "2026-11-30")
    stopped = json.loads(run("desk", "checkout", "--db", db_path, "--patron", "S1004", "--item", "B0002").output)
    assert (stopped["outcome"], stopped["reason"]) == ("refused", "card_blocked")
    assert "lift this once" in stopped["message"]
    lifted = json.loads(run("desk", "checkout", "--db", db_path, "--patron", "S1004", "--item", "B0002",
                            "--override", "exam revision").output)
    assert (lifted["outcome"], lifted["reason"]) == ("checkout", "override")
    back = json.loads(run("desk", "return", "--db", db_path, "--item", "9780064400558").output)
    assert (back["outcome"], back["patron"]) == ("return", "S1001")
    unknown = run("desk", "checkout", "--db", db_path, "--patron", "S9999", "--item", "B0001")
    assert unknown.exit_code == 1 and unknown.output.strip() == "kiosk-central: no patron with id or card 'S9999'"
    past = run("desk", "checkout", "--db", db_path, "--patron", "S1002", "--item", "B0003", "--today", "2026-11-23",
               "--due", "2026-11-20")
    assert past.exit_code == 1 and "before today" in past.output and store.loan_of(store.open_db(db_path),
                                                                                   "B0003") is None


def test_lost_and_the_charges_report(db_path):
    run("desk", "checkout", "--db", db_path, "--patron", "S1002", "--item", "B0002", "--today", "2026-11-02")
    said = run("lost", "--db", db_path, "--item", "B0002", "--charge", "25")
    assert said.exit_code == 0 and "charge #1 of 25.00 raised on S1002" in said.output
    rows = [json.loads(line) for line in run("report", "charges", "--db", db_path, "--json").output.splitlines()]
    assert [(r["patron"], r["item"], r["amount"], r["status"]) for r in rows] == [("S1002", "B0002", "25.00", "open")]
    assert set(rows[0]) == {"patron", "item", "amount", "status", "created"}
    table = list(csv.DictReader(io.StringIO(run("report", "charges", "--db", db_path, "--csv").output)))
    assert list(table[0]) == ["patron", "item", "amount", "status", "created"]
    assert run("lost", "--db", db_path, "--item", "B0003", "--charge", "-3").exit_code == 1


def test_report_overdue_for_one_class(db_path):
    for patron, item in (("S1001", "B0001"), ("S1003", "B0006")):
        run("desk", "checkout", "--db", db_path, "--patron", patron, "--item", item, "--today", "2026-11-02")
    rows = [json.loads(line) for line in run("report", "overdue", "--db", db_path, "--class", "4b", "--json",
                                             "--today", "2026-12-01").output.splitlines()]
    assert [(r["patron_id"], r["item_id"], r["call_number"]) for r in rows] == [("S1003", "B0006", "I247 CAO")]
    everyone = run("report", "overdue", "--db", db_path, "--json", "--today", "2026-12-01").output.splitlines()
    assert len(everyone) == 2


def test_a_gbk_file_is_read_and_said_to_be_gbk(tmp_path, db_path):
    books = tmp_path / "books.csv"
    books.write_bytes("id,title,author,call_number,tag_uid,barcode,home,status,price\n"
                      "B7001,三国演义,罗贯中,I242.4 LUO,,9787020008735,library,available,39.50\n".encode("gbk"))
    done = run("import", "items", books, "--db", db_path)
    assert done.exit_code == 0 and "imported 1 items (read as GBK)" in done.output
    db = store.open_db(db_path)
    assert db.execute("SELECT title, price_cents FROM items WHERE id = 'B7001'").fetchone() == ("三国演义", 3950)
    rare = tmp_path / "rare.csv"  # a character GBK lacks: only GB18030 has it
    rare.write_bytes("id,name,type,class,card_uid,status,expires\n"
                     "S7001,王𠀀,student,3A,,active,\n".encode("gb18030"))
    assert "(read as GB18030)" in run("import", "patrons", rare, "--db", db_path).output
    assert db.execute("SELECT name FROM patrons WHERE id = 'S7001'").fetchone()[0] == "王𠀀"


def test_now_is_the_schools_local_day(db):
    late_evening = datetime(2026, 11, 23, 17, 0, tzinfo=timezone.utc)  # 01:00 on the 24th in Shanghai
    assert store.local_today(db, late_evening) == date(2026, 11, 24)


def test_a_book_lent_at_the_desk_is_known_to_a_kiosk_after_its_next_pull(db, tmp_path):
    from kiosk import store as kiosk_store
    from kiosk.app import Kiosk
    from kiosk.clock import ScriptClock
    from kiosk.config import Config

    store.desk_action(db, "checkout", "S1003", "B0013", librarian="wu", today=TODAY)
    store.close_as(db, "B0002", "lost", librarian="wu")
    kiosk_db = kiosk_store.init_db(tmp_path / "kiosk.db", "door")
    page = store.changes(db, 0, 5000)
    kiosk_store.apply_changes(kiosk_db, "door", page, page["cursor"])
    kiosk = Kiosk(kiosk_db, Config(), ScriptClock(datetime(2026, 11, 24, 9, tzinfo=timezone.utc)))
    back = kiosk.tap("04DDEEFF001122")  # 西游记, lent at the desk, brought back to the door
    assert (back["outcome"], back["patron"], back["item"]) == ("return", "S1003", "B0013")
    kiosk.tap("04A1B2C3")
    refused = kiosk.tap("04223344556677")  # the book marked lost at the desk
    assert (refused["outcome"], refused["reason"]) == ("refused", "item_unavailable")
