"""The pages under their Content-Security-Policy in real Chromium: nothing refused, nothing fetched from elsewhere.

The style sheet and the one script (the Print button) are files of the
package; a page that broke the policy would show a "Refused to ..." line in
the console, and a request to any other host is a call out of the school.
"""

from playwright.sync_api import expect

from sync.server import db as store
from tests.test_browser import browser, shots, sign_in  # noqa: F401  (the fixture; skips without chromium)
from tests.test_pages import PASSWORD, central  # noqa: F401  (the fixture)

def log_in(page, central):  # noqa: F811
    page.goto(central.url + "/login")
    sign_in(page)
    page.wait_for_url(central.url + "/")


PAGES = ["/", "/log", "/loans", "/loans?overdue=1", "/import", "/unknown-tags", "/flagged", "/patrons", "/items",
         "/items/B0001", "/stats", "/rules", "/desk", "/desk?patron=S1001", "/slips", "/charges", "/person/S1001",
         "/book/B0001", "/settings"]


def test_every_page_keeps_its_policy_and_calls_nowhere_else(browser, central):  # noqa: F811
    page = browser.new_page()
    console, elsewhere = [], []
    page.on("console", lambda message: console.append(message.text))
    page.on("request", lambda request: None if request.url.startswith(central.url) else elsewhere.append(request.url))
    log_in(page, central)
    for path in PAGES:
        page.goto(central.url + path)
        # The style sheet applied: the header is the pages' dark blue, not the browser's default.
        assert page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == \
            "rgb(24, 48, 96)", path
    assert [line for line in console if "Content Security Policy" in line] == []
    assert elsewhere == []


def test_the_print_button_prints_through_the_pages_script(browser, central):  # noqa: F811
    page = browser.new_page()
    # Chromium's print dialog cannot be seen headless: count the calls instead.
    page.add_init_script("window.printed = 0; window.print = () => { window.printed += 1; };")
    log_in(page, central)
    page.goto(central.url + "/loans?overdue=1")
    page.get_by_role("button", name="Print (one page per class)").click()
    assert page.evaluate("window.printed") == 1


def test_a_session_that_ends_mid_form_comes_back_to_the_form(browser, central, tmp_path):  # noqa: F811
    out = shots(tmp_path)
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    log_in(page, central)
    page.goto(central.url + "/rules")
    page.get_by_label("student loan_days").fill("21")
    with central.db.atomic():  # eight hours later, say
        central.db.execute("UPDATE sessions SET expires = '2000-01-01T00:00:00+00:00'")
    page.get_by_role("button", name="Save the rules").click()
    expect(page.get_by_role("alert")).to_contain_text("Your session ended before this form was sent")
    page.screenshot(path=str(out / "session-ended.png"))
    sign_in(page)
    expect(page.get_by_role("heading", name="Logged in again")).to_be_visible()
    expect(page.get_by_role("cell", name="21", exact=True)).to_be_visible()
    page.screenshot(path=str(out / "session-resumed.png"), full_page=True)
    page.get_by_role("button", name="Send it now").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    assert store.get_rules(central.db).rule_for("student").loan_days == 21
