"""The librarian's pages in real headless Chromium (Debian's), driven by Playwright.

Logs in, imports a file with a bad row and then a good one, sees a hostile
title as text, attaches an unknown tag, resolves a flagged record and prints
the overdue list. Screenshots go to docs/pages/ when KIOSK_SCREENSHOTS names
a folder (the gallery), else to the test's temporary folder.
"""

import os
from pathlib import Path

import pytest

from playwright.sync_api import expect

from tests.servers import PASSWORD
from tests.test_schools import district  # noqa: F401  (the fixture)


@pytest.fixture
def browser(chromium):
    return chromium


@pytest.fixture
def central(pages_central):
    return pages_central


def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("KIOSK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def sign_in(page, name="wu") -> None:
    """The login form on `page` filled in and sent, as a librarian does."""
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_librarians_morning_in_the_browser(browser, central, tmp_path):
    out = shots(tmp_path)
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    alerts = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))

    page.goto(central.url + "/flagged")
    expect(page).to_have_url(central.url + "/login")  # nothing without a login
    sign_in(page)
    expect(page.get_by_role("heading", name="Kiosk health")).to_be_visible()
    page.screenshot(path=str(out / "kiosks.png"))

    # A file with a bad row: nothing imported, the row named.
    bad = tmp_path / "books.csv"
    bad.write_text("id,title,author,call_number,tag_uid,barcode,home,status\n"
                   "B9001,<script>alert(1)</script>,,,,,library,available\n"
                   "B9002,,,,,,library,available\n")
    page.get_by_role("link", name="Import").click()
    page.get_by_label("books").check()
    page.locator("input[type=file]").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("alert")).to_contain_text("line 3: title is missing")
    page.screenshot(path=str(out / "import-refused.png"))
    assert central.db.execute("SELECT COUNT(*) FROM items WHERE id LIKE 'B900%'").fetchone()[0] == 0
    # Fixed: both rows go in.
    bad.write_text(bad.read_text().replace("B9002,,", "B9002,The Lighthouse,"))
    page.get_by_label("books").check()
    page.locator("input[type=file]").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status")).to_contain_text("imported 2 items")

    # The hostile title is stored as it was typed (shown as text: the next test).
    assert central.db.execute("SELECT title FROM items WHERE id = 'B9001'").fetchone()[0] == "<script>alert(1)</script>"

    # An unknown tag becomes Ben's card in two clicks.
    page.get_by_role("link", name="Unknown tags").click()
    page.get_by_label("id for 04CAFE0000BEEF").fill("S1002")
    page.get_by_role("button", name="Attach").click()
    expect(page.get_by_text("No unknown tags.")).to_be_visible()
    assert central.db.execute("SELECT card_uid FROM patrons WHERE id = 'S1002'").fetchone()[0] == "04CAFE0000BEEF"

    # A return of a book never lent: the librarian marks the book lost.
    page.get_by_role("link", name="Flagged").click()
    page.screenshot(path=str(out / "flagged.png"))
    page.get_by_role("button", name="Mark the book lost").click()
    expect(page.get_by_role("cell", name="lost", exact=True)).to_be_visible()
    assert central.db.execute("SELECT status FROM items WHERE id = 'B0004'").fetchone()[0] == "lost"

    # The overdue list for homeroom teachers, printed: one page per class.
    page.get_by_role("link", name="Overdue").click()
    expect(page.get_by_role("heading", name="Class 3A: overdue books")).to_be_visible()
    page.emulate_media(media="print")
    page.screenshot(path=str(out / "overdue-print.png"))
    assert not page.get_by_role("link", name="Import").is_visible()  # navigation is not printed
    pdf = page.pdf(path=str(out / "overdue.pdf"))
    assert pdf.startswith(b"%PDF")
    page.emulate_media(media="screen")
    page.screenshot(path=str(out / "overdue.png"))

    # Reading against the goals, with its chart drawn by the server.
    page.get_by_role("link", name="Reading").click()
    expect(page.locator("svg[role=img]")).to_be_visible()
    page.screenshot(path=str(out / "reading.png"), full_page=True)
    page.get_by_role("link", name="Rules").click()
    page.screenshot(path=str(out / "rules.png"), full_page=True)
    assert alerts == []


def test_a_hostile_title_shows_as_text(browser, central):
    from kiosk.domain.catalog import parse_items
    from sync.server import db as store

    store.save_items(central.db, parse_items("id,title,author,call_number,tag_uid,barcode,home,status\n"
                                          "B0001,<script>alert(1)</script><b>bold</b>,,,,,library,available\n",
                                          "x.csv"))
    page = browser.new_page()
    alerts = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    page.goto(central.url + "/login")
    sign_in(page)
    page.goto(central.url + "/loans")
    expect(page.get_by_text("<script>alert(1)</script><b>bold</b>")).to_be_visible()
    assert page.locator("main b").count() == 0
    assert alerts == []


@pytest.mark.pg
@pytest.mark.slow
def test_a_district_account_reads_every_school_and_opens_one(browser, district, tmp_path):
    from tests.test_schools import checkout, push

    out = shots(tmp_path)
    for school, books in (("north", ["B0001", "B0002", "B0003"]), ("south", ["B0002"])):
        records = [checkout(100 + n, "S1001", book) for n, book in enumerate(books)]
        assert push(district.url, "door", district.tokens[school], records).status_code == 200
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    page.goto(district.url + "/login")
    sign_in(page, "zhang")
    page.get_by_role("link", name="District").click()
    expect(page.get_by_role("heading", name="The district's reading this term")).to_be_visible()
    expect(page.get_by_role("cell", name="north", exact=True)).to_be_visible()
    expect(page.locator("svg[role=img]")).to_be_visible()
    page.screenshot(path=str(out / "district.png"), full_page=True)
    page.get_by_role("button", name="Open south").click()
    expect(page.get_by_role("banner")).to_contain_text("south")
    page.get_by_role("link", name="Patrons").click()
    expect(page.get_by_text("Mia of south")).to_be_visible()
    assert page.get_by_text("Mia of north").count() == 0
