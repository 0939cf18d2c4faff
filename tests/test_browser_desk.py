"""The librarian's desk in real headless Chromium: a card and a barcode typed as a scanner types them, a return,
a limit lifted once with a reason, a lost book that closes a loan and a payment that unblocks the student, one
class's overdue slips printed to PDF, the log in Chinese in the school's local time, a GBK import; and every page
at a phone's width (390x844) and a desk's (1280x900). Screenshots go to KIOSK_SCREENSHOTS (docs/pages/) when set.
"""

import re
from datetime import timedelta

import pytest

from playwright.sync_api import expect

from sync.server import db as store
from tests.servers import LATE_CHECKOUT, LATE_DUE, PASSWORD
from tests.test_browser import shots

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
pytestmark = pytest.mark.slow


@pytest.fixture
def school(pages_central):
    """The pages' central store (tests/conftest.py), with the school's name and time zone."""
    store.save_settings(pages_central.db, "wu", {"school_name": "Hope Primary School", "timezone": "Asia/Shanghai"})
    return pages_central


def logged_in(chromium, central, viewport=DESK, locale="en-GB"):
    context = chromium.new_context(viewport=viewport, locale=locale)
    page = context.new_page()
    page.goto(central.url + "/login")
    page.locator("input[name=name]").fill("wu")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action='/login'] button").click()
    expect(page.locator("h1")).to_be_visible()
    return page


def fits(page, width: int) -> None:
    """Nothing wider than the screen: no sideways scrolling of the whole page."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def test_a_desk_checkout_by_scanner_a_return_and_a_limit_lifted_once(chromium, school, tmp_path):
    out = shots(tmp_path)
    page = logged_in(chromium, school)
    page.get_by_role("link", name="Desk").click()
    expect(page.get_by_label("Card, id or name")).to_be_focused()
    page.keyboard.type("04A1B2C3")  # the card, typed by a reader that acts as a keyboard
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Mia Chen")).to_be_visible()
    expect(page.get_by_label("Book: scan its barcode")).to_be_focused()
    page.keyboard.type("9780142410370")  # a USB scanner types the barcode and Enter into the focused field
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Lent: Matilda to Mia Chen, due")
    assert store.loan_of(school.db, "B0002").patron_id == "S1001"
    page.screenshot(path=str(out / "desk.png"), full_page=True)

    row = page.locator("tr", has_text="Matilda")
    row.get_by_role("button", name="Take back").click()
    expect(page.get_by_role("status")).to_contain_text("Returned: Matilda from Mia Chen.")
    assert store.loan_of(school.db, "B0002") is None

    for item in ("B0003", "B0005"):  # three books: the student rule's limit
        store.desk_action(school.db, "checkout", "S1001", item, librarian="wu")
    page.get_by_label("Book: scan its barcode").fill("B0004")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("status")).to_contain_text("Not lent: already has 3 books.")
    page.get_by_label("Reason").fill("reading week project")
    page.screenshot(path=str(out / "desk-refused.png"), full_page=True)
    page.get_by_role("button", name="Lend once anyway").click()
    expect(page.get_by_role("status")).to_contain_text("Lent once over a block: Holes to Mia Chen")
    details = school.db.execute("SELECT details FROM log WHERE kiosk_id = 'desk' AND item_id = 'B0004'").fetchone()[0]
    assert '"override": "reading week project"' in details
    phone = logged_in(chromium, school, PHONE)
    phone.goto(school.url + "/desk?patron=S1001")
    fits(phone, PHONE["width"])
    phone.screenshot(path=str(out / "desk-390.png"), full_page=True)


def test_a_lost_book_closes_the_loan_and_the_student_borrows_again_after_paying(chromium, school, tmp_path):
    out = shots(tmp_path)
    month_ago = store.local_today(school.db) - timedelta(days=40)  # due 26 days ago, 28 if on a weekend
    store.desk_action(school.db, "checkout", "S1002", "B0002", librarian="wu", today=month_ago)
    page = logged_in(chromium, school)
    page.goto(school.url + "/desk?patron=S1002")
    expect(page.locator(".patron")).to_contain_text("May not borrow: a book more than 14 days late")

    page.get_by_role("link", name="Matilda").first.click()
    expect(page.get_by_role("heading", name="Matilda")).to_be_visible()
    expect(page.locator("main")).to_contain_text("On loan to Ben Okafor")
    page.get_by_role("button", name="Mark lost").click()
    expect(page.locator("main")).to_contain_text("lost")
    assert store.loan_of(school.db, "B0002") is None
    page.screenshot(path=str(out / "book.png"), full_page=True)

    page.get_by_role("link", name="Ben Okafor").first.click()
    expect(page.locator("main")).to_contain_text("May not borrow: unpaid charges of 19.50")
    page.screenshot(path=str(out / "student.png"), full_page=True)
    page.get_by_label("note for charge 1").fill("receipt 0042")
    page.get_by_role("button", name="Paid").click()
    expect(page.locator("main")).to_contain_text("May borrow.")
    page.goto(school.url + "/desk?patron=S1002")
    expect(page.get_by_label("Book: scan its barcode")).to_be_focused()  # ready for the scanner
    page.keyboard.type("9780440414803")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("Lent: Holes to Ben Okafor")
    page.goto(school.url + "/charges?status=paid")
    expect(page.locator("main")).to_contain_text("receipt 0042")
    page.screenshot(path=str(out / "charges.png"), full_page=True)


def test_one_class_s_overdue_list_and_slips_print(chromium, school, tmp_path):
    out = shots(tmp_path)
    long_ago = store.local_today(school.db) - timedelta(days=40)
    for patron, item in (("S1002", "B0003"), ("S1002", "B0005"), ("S1003", "B0006"), ("T2001", "B0007")):
        store.desk_action(school.db, "checkout", patron, item, librarian="wu", today=long_ago)
    page = logged_in(chromium, school)
    page.goto(school.url + "/loans?overdue=1&class=3a")
    expect(page.get_by_role("heading", name="Class 3A: overdue books")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("李小龙")  # 4B is not on 3A's list
    expect(page.locator("main")).to_contain_text("F TOL")  # call numbers
    page.emulate_media(media="print")
    expect(page.locator(".print-head").first).to_contain_text("Hope Primary School")
    page.screenshot(path=str(out / "overdue-3a-print.png"), full_page=True)
    page.pdf(path=str(out / "overdue-3a.pdf"), format="A4")
    page.emulate_media(media="screen")

    page.goto(school.url + "/slips?class=3A")
    slips = page.locator("article.slip")
    expect(slips).to_have_count(2)  # Mia and Ben, one slip each (their teacher's loans are on the staff register)
    due = page.locator(".slip td.date").first
    assert due.evaluate("e => e.getClientRects().length") == 1  # a date never wraps
    page.emulate_media(media="print")
    pdf = page.pdf(path=str(out / "slips-3a.pdf"), format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1  # four to a page
    page.screenshot(path=str(out / "slips-3a-print.png"), full_page=True)


def test_the_log_in_chinese_in_the_school_s_local_time(chromium, school, tmp_path):
    out = shots(tmp_path)
    for viewport, name in ((DESK, "log-zh.png"), (PHONE, "log-zh-390.png")):
        page = logged_in(chromium, school, viewport, locale="zh-CN")  # Accept-Language: zh-CN
        page.goto(school.url + "/log")
        expect(page.get_by_role("heading", name="日志")).to_be_visible()
        checkout = page.locator("tr", has_text="Charlotte")
        expect(checkout).to_contain_text(f"{LATE_CHECKOUT.date().isoformat()} 10:00:00")  # 02:00 UTC: 10:00 there
        expect(checkout).to_contain_text(f"借出，应还 {LATE_DUE}")
        expect(checkout).to_contain_text("Mia Chen")
        expect(page.locator("tr", has_text="04CAFE0000BEEF")).to_contain_text("未知标签 04CAFE0000BEEF")
        page.get_by_label("读者：姓名或编号").fill("mia chen")
        page.get_by_role("button", name="显示").click()
        expect(page.locator("tbody tr")).to_have_count(2)  # the header and Mia's one record
        fits(page, viewport["width"])
        page.screenshot(path=str(out / name), full_page=True)
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Log")).to_be_visible()


def test_a_gbk_file_from_excel_is_imported_and_said_to_be_gbk(chromium, school, tmp_path):
    out = shots(tmp_path)
    books = tmp_path / "books.csv"
    books.write_bytes("id,title,author,call_number,tag_uid,barcode,home,status,price\r\n"
                      "B8001,红楼梦,曹雪芹,I242.4 CAO,,9787020002207,library,available,59.70\r\n".encode("gbk"))
    page = logged_in(chromium, school, locale="zh-CN")
    page.get_by_role("link", name="导入").click()
    page.get_by_label("图书").check()
    page.locator("input[type=file]").set_input_files(str(books))
    page.get_by_role("button", name="导入").click()
    expect(page.get_by_role("status")).to_contain_text("已导入 1 条图书（按 GBK 读取）")
    assert school.db.execute("SELECT title FROM items WHERE id = 'B8001'").fetchone()[0] == "红楼梦"
    page.screenshot(path=str(out / "import-gbk.png"), full_page=True)


PAGES = ["/", "/desk", "/desk?patron=S1001", "/loans", "/loans?overdue=1", "/loans?who=staff", "/slips", "/log",
         "/flagged", "/charges", "/patrons", "/items", "/patrons/S1002", "/items/B0001", "/person/S1001",
         "/book/B0001", "/unknown-tags", "/stats", "/rules", "/settings", "/import"]


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["390x844", "1280x900"])
def test_every_page_fits_the_screen(chromium, school, tmp_path, viewport):
    out = shots(tmp_path)
    page = logged_in(chromium, school, viewport)
    for path in PAGES:
        response = page.goto(school.url + path)
        assert response.status == 200, path
        fits(page, viewport["width"])
    for path, name in (("/", "kiosks"), ("/loans?overdue=1", "overdue"), ("/person/S1001", "student"),
                       ("/flagged", "flagged"), ("/items/B0001", "edit-book")):
        page.goto(school.url + path)
        suffix = "-390" if viewport is PHONE else ""
        if viewport is PHONE or name in ("edit-book",):
            page.screenshot(path=str(out / f"{name}{suffix}.png"), full_page=True)
