"""The log page's queries at the central store: an index for the filters it combines, fresh statistics.

The store keeps the query planner's statistics itself, when it starts and
after a large import: nobody runs ANALYZE by hand on a school's store.
How much a page reads is counted in SQLite's virtual machine steps
(tests/steps.py), which do not depend on the machine or its load.
"""

from sync.server import db as store
from sync.server.app import create_app
from sync.server.db.staging import LARGE_IMPORT
from tests.steps import vm_steps


def analysed(db, table: str) -> set[str]:
    """The indexes of `table` the planner has statistics for."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone() is None:
        return set()
    return {row[0] for row in db.execute("SELECT idx FROM sqlite_stat1 WHERE tbl = ?", [table])}


def indexes(db, table: str) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                                         [table])}


def test_a_store_started_over_a_log_it_never_analysed_has_statistics_for_every_index_of_the_log(tmp_path):
    path = tmp_path / "central.db"
    db = store.init_db(path)
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO log (kiosk_id, seq, kind, at, corrected_at, patron_id, class_name) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(f"cabinet-{n % 12}", n, ("checkout", "return", "renew")[n % 3], f"2026-01-01T00:{n % 60:02d}:00",
              f"2026-01-01T00:{n % 60:02d}:00", f"S{n % 400}", f"{1 + n % 6}{'ABCDEF'[n % 4]}") for n in range(3000)])
    assert analysed(db, "log") == set()
    create_app(str(path))
    assert indexes(db, "log") and indexes(db, "log") <= analysed(db, "log")


def test_a_large_import_refreshes_the_statistics_and_a_small_one_leaves_them(tmp_path):
    db = store.init_db(tmp_path / "central.db")
    store.import_csv(db, "patrons", "id,name,type,class,card_uid,status,expires\nS1,Mia,student,3B,,,\n"
                     "S2,Leo,student,3B,,,\n", "two.csv")
    assert analysed(db, "patrons") == set()
    rows = "".join(f"B{n:04d},Book {n},,,04{n:012X},,library,\n" for n in range(LARGE_IMPORT))
    store.import_csv(db, "items", "id,title,author,call_number,tag_uid,barcode,home,status\n" + rows, "shelf.csv")
    assert {"items_tag_uid", "items_rev"} <= analysed(db, "items")


def steps(db, filters: dict) -> int:
    """Hundreds of SQLite virtual machine steps one log page takes."""
    return vm_steps(db, lambda: store.browse_log(db, filters))


def test_a_page_filtered_by_a_class_and_a_kind_reads_about_as_much_as_the_newest_page(tmp_path):
    db = store.init_db(tmp_path / "central.db")
    # A year of 3B borrowing, and of renewals in the other classes: 3B never renewed.
    with db.atomic():
        db.conn.executemany(
            "INSERT INTO log (kiosk_id, seq, kind, at, corrected_at, patron_id, class_name) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [("door", n, "checkout" if n % 2 else "renew", "2026-01-01", f"2026-{1 + n % 12:02d}-01T00:00:{n:06d}",
              f"S{n % 30}", "3B" if n % 2 else f"{1 + n % 6}A") for n in range(20000)])
    store.refresh_statistics(db)
    newest = steps(db, {})
    assert steps(db, {"class": "3B", "kind": "checkout"}) <= 2 * newest
    assert steps(db, {"class": "3B", "kind": "renew"}) <= 2 * newest


def test_a_class_typed_in_any_case_is_found_without_reading_the_log(tmp_path):
    short, long = store.init_db(tmp_path / "short.db"), store.init_db(tmp_path / "long.db")
    for db, records in ((short, 200), (long, 20000)):
        db.execute("INSERT INTO patrons (id, name, type, class_name, status, rev) VALUES ('S1', 'Mia', 'student',"
                   " '3B', 'active', 0)")
        with db.atomic():
            db.conn.executemany("INSERT INTO log (kiosk_id, seq, kind, at, corrected_at, class_name)"
                                " VALUES ('door', ?, 'checkout', 'x', ?, ?)",
                                [(n, f"2025-{n:06d}", "Old 6F" if n == 7 else "3B") for n in range(records)])
    for db in (short, long):
        assert store.classes_matching(db, "3b") == ["3B"]
        assert store.classes_matching(db, " old 6f ") == ["Old 6F"]  # last year's class, only in the log
        assert store.classes_matching(db, "3C") == []

    def finding(db, text) -> int:
        return vm_steps(db, lambda: store.classes_matching(db, text))

    assert finding(long, "old 6f") <= 2 * finding(short, "old 6f") + 10
    assert finding(long, "3b") <= 2 * finding(short, "3b") + 10  # not every one of the class's records
