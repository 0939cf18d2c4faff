"""CSV under hostile and careless input: formula injection in every export, and files that lie about their rows.

Exports: a cell that a spreadsheet would run as a formula starts with `'`
(OWASP's advice against CSV injection), on the pages and in
`kiosk-central report --csv`. Imports: an unbalanced quote, a field too
long, a row with the wrong number of fields or a control character is a
bad row named by its line, and the file changes nothing; the same rules
for `kiosk import`, `kiosk-central import` and the import page.
"""

import csv
import html
import io
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from kiosk import store as kiosk_store
from kiosk.cli import main as kiosk_main
from kiosk.core.csvfile import csv_text
from kiosk.domain.catalog import parse_items, parse_patrons
from kiosk.domain.errors import ImportRejected
from sync.server import db as store
from sync.server.cli import main as central_main
from tests.test_pages import central, csrf_of, login  # noqa: F401  (the fixture)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HYPERLINK = '=HYPERLINK("http://evil.example","x")'
ITEMS = "id,title,author,call_number,tag_uid,barcode,home,status\n"
PATRONS = "id,name,type,class,card_uid,status,expires\n"


def hostile_rows(db):
    """A book, a student and an overdue loan whose texts are formulas."""
    store.import_csv(db, "items", ITEMS + 'B0666,"=HYPERLINK(""http://evil.example"",""x"")",+1+1,-2+3,,,library,'
                                          "available\n", "evil.csv")
    store.import_csv(db, "patrons", PATRONS + "S0666,@SUM(1+1),student,-3A,,active,\n", "evil.csv")
    store.push(db, "door", {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "b", "monotonic": 9.0,
                            "records": [{"seq": 4, "kind": "checkout", "at": "2026-11-02T02:00:00+00:00",
                                         "trusted": True, "patron_id": "S0666", "item_id": "B0666",
                                         "details": {"due": "2026-11-16"}},
                                        {"seq": 5, "kind": "refused", "at": "2026-11-02T02:01:00+00:00",
                                         "trusted": True, "patron_id": "S0666", "item_id": "B0666", "flagged": True,
                                         "details": {"reason": "limit"}}]})


def cells(text):
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def test_the_one_csv_writer_escapes_what_a_spreadsheet_would_run():
    text = csv_text([{"a": "=1+1", "b": "+1", "c": "-1", "d": "@SUM(A1)", "e": "\tcmd", "f": "\r=1", "g": "plain",
                      "h": -5, "i": "'=already"}])
    assert next(csv.DictReader(io.StringIO(text))) == {
        "a": "'=1+1", "b": "'+1", "c": "'-1", "d": "'@SUM(A1)", "e": "'\tcmd", "f": "'\r=1", "g": "plain",
        "h": "-5",  # a number stays a number: spreadsheets add it up, and it runs nothing
        "i": "'=already"}


@pytest.mark.parametrize("what", ["items", "patrons", "loans", "overdue", "stats", "log"])
def test_no_exported_cell_starts_a_formula(central, what):  # noqa: F811
    hostile_rows(central.db)
    client, _ = login(central)
    response = client.get(f"/export/{what}.csv")
    assert response.status_code == 200
    found = cells(response.text)
    assert [c for c in found if c.startswith(FORMULA_STARTS)] == []
    expected = {"items": "'" + HYPERLINK, "patrons": "'@SUM(1+1)", "loans": "'" + HYPERLINK,
                "overdue": "'" + HYPERLINK, "stats": "'-3A", "log": "S0666"}[what]
    assert expected in found


@pytest.mark.parametrize("report", ["loans", "overdue", "log", "flagged"])
def test_no_cell_of_a_report_as_csv_starts_a_formula(tmp_path, report):
    path = tmp_path / "central.db"
    db = store.init_db(path)
    store.add_kiosk(db, "door")
    hostile_rows(db)
    result = CliRunner().invoke(central_main, ["report", report, "--db", str(path), "--csv", "--today", "2026-12-01"])
    assert result.exit_code == 0, result.output
    found = cells(result.output)
    assert found and [c for c in found if c.startswith(FORMULA_STARTS)] == []
    if report in ("loans", "overdue"):
        assert "'" + HYPERLINK in found


def test_an_exported_file_imports_back_unchanged(central):  # noqa: F811
    hostile_rows(central.db)
    client, _ = login(central)
    exported = client.get("/export/items.csv").text
    page = client.get("/import")
    response = client.post("/import", data={"kind": "items", "csrf": csrf_of(page.text)},
                           files={"file": ("items.csv", exported.encode(), "text/csv")})
    assert response.status_code == 200, response.text
    assert central.db.execute("SELECT title, author, call_number FROM items WHERE id = 'B0666'").fetchone() == (
        HYPERLINK, "+1+1", "-2+3")


GOOD_BOOKS = "".join(f"B{n:03d},Book {n},Author {n},,,,library,available\n" for n in range(61, 100))
BAD_FILES = [
    # An unbalanced quote swallowed the next 38 rows into one title ("imported 1 items").
    (ITEMS + 'B060,"The Hobbit,Tolkien,,,,library,available\n' + GOOD_BOOKS,
     "line 2: a quote (\") opened on this line is never closed"),
    (ITEMS + 'B060,"The Hobbit,Tolkien,,,,library,available\n' + GOOD_BOOKS + 'B100,"Holes",,,,,library,available\n',
     "line 2: a quoted field runs on to line 42"),
    (ITEMS + 'B060,The "Hobbit",Tolkien,,,,library,available\n' + GOOD_BOOKS, None),  # a quote inside: fine
    (ITEMS + 'B060,"The "Hobbit"",Tolkien,,,,library,available\n' + GOOD_BOOKS, "line 2: a quote (\") inside a field"),
    (ITEMS + "B060," + "T" * 1001 + ",Tolkien,,,,library,available\n" + GOOD_BOOKS,
     "line 2: title is 1,001 characters long; at most 1,000"),
    (ITEMS + 'B060,"' + "T" * 140_000 + '",Tolkien,,,,library,available\n' + GOOD_BOOKS,
     "line 2: a field longer than 131,072 characters"),
    (ITEMS + "B060,The Hobbit,Tolkien,,,library,available\n" + GOOD_BOOKS,
     "line 2: 7 fields, but the header has 8 columns"),
    (ITEMS + "B060,The Hobbit,Tolkien,,,,library,available,x\n" + GOOD_BOOKS,
     "line 2: 9 fields, but the header has 8 columns"),
    (ITEMS + "B060,The\x00Hobbit,Tolkien,,,,library,available\n" + GOOD_BOOKS,
     "line 2: title holds a control character (U+0000)"),
    (ITEMS + "B060,The Hobbit,Tol\x1bkien,,,,library,available\n" + GOOD_BOOKS,
     "line 2: author holds a control character (U+001B)"),
]


def kiosk_import(tmp_path, text):
    db_path = tmp_path / "kiosk.db"
    kiosk_store.init_db(db_path, "door")
    (tmp_path / "books.csv").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(kiosk_main, ["import", "items", str(tmp_path / "books.csv"), "--db", str(db_path)])
    count = kiosk_store.open_db(db_path).execute("SELECT COUNT(*) FROM items").fetchone()[0]
    return result.output, count


def central_import(tmp_path, text):
    db_path = tmp_path / "central.db"
    store.init_db(db_path).close()
    (tmp_path / "books.csv").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(central_main, ["import", "items", str(tmp_path / "books.csv"), "--db", str(db_path)])
    return result.output, store.open_db(db_path).execute("SELECT COUNT(*) FROM items").fetchone()[0]


@pytest.mark.parametrize("text, problem", BAD_FILES)
@pytest.mark.parametrize("way", [kiosk_import, central_import], ids=["kiosk import", "kiosk-central import"])
def test_a_careless_file_is_named_by_its_bad_row_and_changes_nothing(tmp_path, way, text, problem):
    output, count = way(tmp_path, text)
    if problem is None:
        assert count == 40, output
    else:
        assert problem in output and "nothing imported" in output and count == 0


@pytest.mark.parametrize("text, problem", [case for case in BAD_FILES if case[1]])
def test_the_import_page_names_the_same_bad_row(central, text, problem):  # noqa: F811
    client, _ = login(central)
    before = central.db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    page = client.get("/import")
    response = client.post("/import", data={"kind": "items", "csrf": csrf_of(page.text)},
                           files={"file": ("books.csv", text.encode(), "text/csv")})
    assert response.status_code == 422 and problem in html.unescape(response.text)
    assert central.db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == before


def test_a_3001_row_file_with_one_open_quote_is_refused_not_a_server_error(central):  # noqa: F811
    rows = "".join(f"B{n:04d},Book {n},,,,,library,available\n" for n in range(3, 3002))
    text = ITEMS + 'B0002,"The Hobbit,Tolkien,,,,library,available\n' + rows
    client, _ = login(central)
    page = client.get("/import")
    response = client.post("/import", data={"kind": "items", "csrf": csrf_of(page.text)},
                           files={"file": ("books.csv", text.encode(), "text/csv")})
    assert response.status_code == 422 and "line 2: a quote" in html.unescape(response.text)


def test_a_file_of_many_bad_rows_lists_the_first_100_and_counts_the_rest(tmp_path, central):  # noqa: F811
    text = PATRONS + "".join(f"S{n},,student,3A,,active,\n" for n in range(250))
    with pytest.raises(ImportRejected) as refused:
        parse_patrons(text, "p.csv")
    assert len(refused.value.problems) == 100 and refused.value.more == 150
    assert str(refused.value).endswith("and 150 more") and "250 problem(s)" in str(refused.value)
    client, _ = login(central)
    page = client.get("/import")
    response = client.post("/import", data={"kind": "patrons", "csrf": csrf_of(page.text)},
                           files={"file": ("p.csv", text.encode(), "text/csv")})
    assert response.status_code == 422
    assert response.text.count("name is missing") == 100 and "and 150 more" in response.text


def test_a_row_of_the_edit_form_follows_the_import_rules(central):  # noqa: F811
    client, _ = login(central)
    form = client.get("/items/B0001")
    refused = client.post("/items/B0001", data={"csrf": csrf_of(form.text), "title": "Holes\x00", "author": "",
                                                 "call_number": "", "tag_uid": "", "barcode": "", "home": "library",
                                                 "status": "available"})
    assert refused.status_code == 422 and "title holds a control character (U+0000)" in refused.text
    assert parse_items(ITEMS + "B1,Holes,,,,,library,available\n", "i.csv")[0].title == "Holes"
