"""The stocktake and rotation pages in real headless Chromium, as the librarian uses them.

Screenshots go to docs/pages/ when KIOSK_SCREENSHOTS names a folder (see
tests/test_browser.py), else to the test's temporary folder.
"""

from datetime import datetime, timezone

from playwright.sync_api import expect

from sync.server import db as store
from tests.test_browser import shots, sign_in
from tests.test_stocktake_pages import DAY, central, counted  # noqa: F401  (the fixture)


def more_counts(db):
    """Every state once: a book on loan found on the shelf, a withdrawn one, one counted at 4B's cabinet."""
    store.import_csv(db, "items", "id,title,author,call_number,tag_uid,barcode,home,status\n"
                                  "B0021,Old Atlas,,912 OLD,,,class-3a,withdrawn\n"
                                  "B0022,Stone Soup,,E MUT,,,class-3a,available\n", "more.csv")
    store.add_kiosk(db, "cabinet-4b")
    stamp = {"trusted": True, "boot_id": "b", "monotonic": 1.0}
    now = datetime.now(timezone.utc).isoformat()
    store.push(db, "cabinet-3a", {"sent_at": now, "boot_id": "b", "monotonic": 2.0, "records": [
        {"seq": 3, "kind": "checkout", "at": f"{DAY}T01:00:00+00:00", "patron_id": "S1001", "item_id": "B0009",
         "details": {"due": "2026-12-07"}, **stamp},
        dict(counted(4, "B0009", "class-3a", minute=5), details={"shelf": "class-3a", "status": "available",
                                                                 "on_loan": True, "seen_in_stocktake": True}),
        counted(5, "B0021", "class-3a", status="withdrawn", minute=6)]})
    store.push(db, "cabinet-4b", {"sent_at": now, "boot_id": "b", "monotonic": 2.0,
                                  "records": [counted(1, "B0022", "class-4b", minute=7)]})


def test_a_stocktake_closed_and_a_rotation_planned_in_the_browser(chromium, central, tmp_path):  # noqa: F811
    more_counts(central.db)
    out = shots(tmp_path)
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    page.goto(central.url + "/login")
    sign_in(page)

    page.get_by_role("link", name="Stocktake").click()
    page.get_by_label("Home").select_option("class-3a")
    page.get_by_label("Counted since").fill(DAY)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Stocktake: Class 3A")).to_be_visible()
    for heading in ("Missing (1)", "Misplaced (1)", "Seen at another home (1)", "On loan, found on the shelf (1)",
                    "Out of circulation, found on the shelf (1)"):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_role("heading", name="Missing (1)")).to_have_css("color", "rgb(160, 16, 16)")
    page.screenshot(path=str(out / "stocktake.png"), full_page=True)
    page.goto(central.url + f"/lang/zh_CN?back=/stocktake%3Fhome%3Dclass-3a%26since%3D{DAY}")
    expect(page.get_by_role("heading", name="盘点：Class 3A")).to_be_visible()
    expect(page.get_by_role("heading", name="缺失 (1)")).to_be_visible()
    page.screenshot(path=str(out / "stocktake-zh_CN.png"), full_page=True)
    page.goto(central.url + f"/lang/en?back=/stocktake%3Fhome%3Dclass-3a%26since%3D{DAY}")

    page.get_by_role("button", name="Close the stocktake").click()
    expect(page.get_by_role("alert")).to_contain_text("Tick the box")
    page.get_by_label("We looked for it: mark the 1 missing book lost").check()
    page.get_by_role("button", name="Close the stocktake").click()
    expect(page.get_by_role("status")).to_contain_text("1 missing book marked lost")
    assert central.db.execute("SELECT status FROM items WHERE id = 'B0020'").fetchone()[0] == "lost"

    page.get_by_role("link", name="Homes").click()
    page.get_by_label("name of class-4b").fill("三年级一班")
    page.get_by_label("class of class-4b").fill("4B")
    page.locator("tr", has_text="class-4b").get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("class-4b is now called 三年级一班")
    page.screenshot(path=str(out / "homes.png"), full_page=True)

    page.get_by_role("link", name="Rotation", exact=True).click()
    page.get_by_label("home 1").select_option("class-3a")
    page.get_by_label("home 2").select_option("class-4b")
    page.get_by_role("button", name="Plan the rotation").click()
    expect(page.get_by_role("heading", name="From Class 3A to 三年级一班: 3 books")).to_be_visible()
    page.screenshot(path=str(out / "packing.png"), full_page=True)
    page.pdf(path=str(out / "packing.pdf"))
