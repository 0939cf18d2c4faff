"""`kiosk import`: all or nothing, every bad row named, the database unchanged."""

import hashlib

import pytest
from click.testing import CliRunner

from kiosk import store
from kiosk.cli import main

PATRONS = "id,name,type,class,card_uid,status,expires\n"
ITEMS = "id,title,author,call_number,tag_uid,barcode,home,status\n"


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "kiosk.db"
    store.init_db(path, "door-1")
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def snapshot(db_path):
    db = store.open_db(db_path)
    rows = [list(db.query(f"SELECT * FROM {t} ORDER BY 1")) for t in ("patrons", "items")]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_import_patrons_and_items(tmp_path, db_path):
    p = write(tmp_path, "p.csv", PATRONS + "S1,Mia,student,3A,04a1b2c3,active,\nT1,Ms Li,teacher,,,active,2027-07-31\n")
    i = write(tmp_path, "i.csv", ITEMS + "B1,Matilda,Dahl,F DAH,04112233445566,978,library,available\n")
    assert run("import", "patrons", p, "--db", db_path).exit_code == 0
    result = run("import", "items", i, "--db", db_path)
    assert result.exit_code == 0 and "imported 1 items" in result.output
    db = store.open_db(db_path)
    assert store.patron_by_uid(db, "04A1B2C3").name == "Mia"
    assert store.item_by_uid(db, "04112233445566").title == "Matilda"
    assert store.item_by_barcode(db, "978").id == "B1"


def test_extra_columns_and_a_spreadsheet_bom_are_fine(tmp_path, db_path):
    p = write(tmp_path, "p.csv", "\ufeffid,name,type,class,card_uid,status,expires,notes\nS1,Mia,,3A,,,,likes cats\n")
    assert run("import", "patrons", p, "--db", db_path).exit_code == 0
    patron = store.patron_by_id(store.open_db(db_path), "S1")
    assert (patron.type, patron.status) == ("student", "active")


BAD_PATRON_ROWS = [
    (",Mia,student,3A,,active,", "line 2: id is missing"),
    ("S1,,student,3A,,active,", "line 2: name is missing"),
    ("S1,Mia,parent,3A,,active,", "line 2: type 'parent'"),
    ("S1,Mia,student,3A,,gone,", "line 2: status 'gone'"),
    ("S1,Mia,student,3A,,active,31/07/2027", "line 2: expires '31/07/2027'"),
    ("S1,Mia,student,3A,04A1B2,active,", "line 2: card_uid"),
    ("S1,Mia,student,3A,04A1B2C3D4,active,", "line 2: card_uid"),
    ("S1,Mia,student,3A,XYZ1B2C3,active,", "line 2: card_uid"),
]


@pytest.mark.parametrize("row, problem", BAD_PATRON_ROWS)
def test_a_bad_patron_row_rejects_the_whole_file(tmp_path, db_path, row, problem):
    before = snapshot(db_path)
    p = write(tmp_path, "p.csv", PATRONS + row + "\nS9,Good Row,student,3A,0A0B0C0D,active,\n")
    result = run("import", "patrons", p, "--db", db_path)
    assert result.exit_code != 0
    assert problem in result.output and "nothing imported" in result.output
    assert snapshot(db_path) == before


def test_every_bad_row_is_named(tmp_path, db_path):
    p = write(tmp_path, "p.csv", PATRONS + "S1,Mia,student,3A,04A1B2C3,active,\n"
              "S1,Ben,student,3A,0A0B0C0D,active,\n"      # duplicate id
              "S3,Zoe,student,3A,04a1b2c3,active,\n"      # duplicate UID, other case
              "S4,,pupil,3A,,active,\n")                  # two problems on one line
    result = run("import", "patrons", p, "--db", db_path)
    assert result.exit_code != 0
    for text in ("line 3: id S1 is also on line 2", "line 4: card_uid 04A1B2C3 is also on line 2",
                 "line 5: name is missing", "line 5: type 'pupil'"):
        assert text in result.output
    assert store.status(store.open_db(db_path))["patrons"] == 0


def test_a_uid_used_by_a_patron_cannot_tag_a_book(tmp_path, db_path):
    run("import", "patrons", write(tmp_path, "p.csv", PATRONS + "S1,Mia,student,3A,04A1B2C3,active,\n"), "--db", db_path)
    before = snapshot(db_path)
    i = write(tmp_path, "i.csv", ITEMS + "B1,Matilda,,,04a1b2c3,,library,available\n")
    result = run("import", "items", i, "--db", db_path)
    assert result.exit_code != 0 and "already the tag of patron S1" in result.output
    assert snapshot(db_path) == before


def test_a_uid_used_by_a_book_cannot_be_a_card(tmp_path, db_path):
    run("import", "items", write(tmp_path, "i.csv", ITEMS + "B1,Matilda,,,04112233445566,,library,\n"), "--db", db_path)
    p = write(tmp_path, "p.csv", PATRONS + "S1,Mia,student,3A,04112233445566,active,\n")
    result = run("import", "patrons", p, "--db", db_path)
    assert result.exit_code != 0 and "already the tag of item B1" in result.output


def test_bad_item_rows(tmp_path, db_path):
    i = write(tmp_path, "i.csv", ITEMS + ",No id,,,,,library,available\nB2,,,,,,library,available\n"
              "B3,Title,,,,,library,borrowed\nB4,Title,,,0411223344556,,library,available\n")
    result = run("import", "items", i, "--db", db_path)
    assert result.exit_code != 0
    for text in ("line 2: id is missing", "line 3: title is missing", "line 4: status 'borrowed'", "line 5: tag_uid"):
        assert text in result.output


def test_missing_header_column_and_non_utf8_are_named(tmp_path, db_path):
    result = run("import", "patrons", write(tmp_path, "p.csv", "id,name\nS1,Mia\n"), "--db", db_path)
    assert result.exit_code != 0 and "lacks column(s) type, class, card_uid, status, expires" in result.output
    result = run("import", "patrons", write(tmp_path, "q.csv", PATRONS + "S1,Zoë,student,,,,\n", "latin-1"),
                 "--db", db_path)
    assert result.exit_code != 0 and "not UTF-8" in result.output


def test_reimport_updates_rows_by_id(tmp_path, db_path):
    run("import", "patrons", write(tmp_path, "p.csv", PATRONS + "S1,Mia,student,3A,04A1B2C3,active,\n"
                                   "S2,Ben,student,3A,0A0B0C0D,active,\n"), "--db", db_path)
    # Mia moves to 4B and the two swap cards: one file, no clash.
    result = run("import", "patrons", write(tmp_path, "q.csv", PATRONS + "S1,Mia,student,4B,0A0B0C0D,active,\n"
                                            "S2,Ben,student,3A,04A1B2C3,blocked,\n"), "--db", db_path)
    assert result.exit_code == 0, result.output
    db = store.open_db(db_path)
    assert store.patron_by_uid(db, "0A0B0C0D").class_name == "4B"
    assert store.patron_by_uid(db, "04A1B2C3").status == "blocked"
    assert store.status(db)["patrons"] == 2


def test_a_card_already_taken_by_another_patron_is_refused(tmp_path, db_path):
    run("import", "patrons", write(tmp_path, "p.csv", PATRONS + "S1,Mia,student,3A,04A1B2C3,active,\n"), "--db", db_path)
    result = run("import", "patrons", write(tmp_path, "q.csv", PATRONS + "S2,Ben,student,3A,04a1b2c3,active,\n"),
                 "--db", db_path)
    assert result.exit_code != 0 and "already belongs to S1" in result.output


def test_import_into_a_missing_database_says_how_to_create_it(tmp_path):
    result = run("import", "patrons", write(tmp_path, "p.csv", PATRONS), "--db", tmp_path / "none.db")
    assert result.exit_code != 0 and "kiosk init" in result.output
