"""Reading statistics against the goals, the SVG chart, and privacy: forgotten loans stay only as counts."""

from datetime import date, datetime, timezone
from pathlib import Path

from click.testing import CliRunner

from sync.server import db as store
from sync.server.pages.reading import bar_chart
from sync.server.cli import main as central

DEMO = Path(__file__).resolve().parent.parent / "kiosk" / "demo" / "files"
TODAY = date(2026, 11, 23)


def seeded(url):
    db = store.init_db(url)
    store.import_csv(db, "patrons", (DEMO / "patrons.csv").read_text(), "patrons.csv")
    store.import_csv(db, "items", (DEMO / "items.csv").read_text(), "items.csv")
    store.add_kiosk(db, "door")
    records, seq = [], 0

    def add(kind, day, patron, item, **details):
        nonlocal seq
        seq += 1
        records.append({"seq": seq, "kind": kind, "at": f"{day}T01:00:00+00:00", "trusted": True,
                        "patron_id": patron, "item_id": item, "details": details})

    # Last term: Mia read two books, Ben one; all returned.
    add("checkout", "2026-05-04", "S1001", "B0001", due="2026-05-18")
    add("return", "2026-05-10", None, "B0001", from_patron="S1001")
    add("checkout", "2026-05-11", "S1001", "B0002", due="2026-05-25")
    add("return", "2026-05-20", None, "B0002", from_patron="S1001")
    add("checkout", "2026-06-01", "S1002", "B0001", due="2026-06-15")
    add("return", "2026-06-05", None, "B0001", from_patron="S1002")
    # This term: Mia two more (one still out), Ben one.
    add("checkout", "2026-10-05", "S1001", "B0003", due="2026-10-19")
    add("return", "2026-10-12", None, "B0003", from_patron="S1001")
    add("checkout", "2026-11-02", "S1001", "B0004", due="2026-11-16")
    add("checkout", "2026-11-03", "S1002", "B0003", due="2026-11-17")
    store.push(db, "door", {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "b", "monotonic": 1.0,
                            "records": records})
    return db


def test_statistics_against_the_reading_goals(store_url):
    db = seeded(store_url)
    facts = store.reading_statistics(db, store.term_start(db, TODAY), TODAY)
    assert facts["since"] == "2026-09-01"
    books = {s["id"]: s["books"] for s in facts["students"]}
    assert (books["S1001"], books["S1002"], books["S1003"]) == (2, 1, 0)
    per_class = {(r["class_name"], r["month"]): (r["books"], r["per_student"]) for r in facts["per_class"]}
    assert per_class[("3A", "2026-11")] == (2, 1.0)  # class 3A has two students
    assert facts["popular"][0]["id"] == "B0001" and facts["popular"][0]["loans"] == 2
    never = {b["id"] for b in facts["never"]}
    assert "B0005" in never and "B0001" not in never
    assert facts["total_loans"] == 6


def test_forgotten_loans_lose_the_student_but_the_statistics_still_add_up(store_url):
    db = seeded(store_url)
    before = store.reading_statistics(db, date(2026, 1, 1), TODAY)
    result = CliRunner().invoke(central, ["forget", "--db", store_url, "--before", "2026-09-01"])
    assert result.exit_code == 0 and "3 returned loans" in result.output
    old = db.execute("SELECT patron_id, details FROM log WHERE corrected_at < '2026-09-01'").fetchall()
    assert all(patron is None and "from_patron" not in details for patron, details in old)  # the link is gone
    assert db.execute("SELECT COUNT(*) FROM log WHERE patron_id = 'S1002'").fetchone()[0] == 1  # this term's stays
    after = store.reading_statistics(db, date(2026, 1, 1), TODAY)
    assert after["total_loans"] == before["total_loans"] == 6
    assert after["per_class"] == before["per_class"]
    assert [(b["id"], b["loans"]) for b in after["popular"]] == [(b["id"], b["loans"]) for b in before["popular"]]
    assert {b["id"] for b in after["never"]} == {b["id"] for b in before["never"]}
    # Forgetting again changes nothing.
    assert store.forget_returned(db, date(2026, 9, 1)) == 0
    assert store.reading_statistics(db, date(2026, 1, 1), TODAY)["total_loans"] == 6


def test_an_open_loan_keeps_its_student(store_url):
    db = seeded(store_url)
    store.forget_returned(db, date(2026, 12, 31))
    assert db.execute("SELECT patron_id FROM log WHERE item_id = 'B0004' AND kind = 'checkout'").fetchone()[0] \
        == "S1001"


def test_the_chart_is_svg_with_the_goal_and_escaped_labels():
    svg = bar_chart([("3A 2026-11", 1.0), ("<b>4B</b> 2026-11", 2.5)], goal=2, unit="books per student")
    assert svg.startswith("<svg") and "goal 2" in svg and "stroke-dasharray" in svg
    assert "&lt;b&gt;4B&lt;/b&gt;" in svg and "<b>" not in svg
    assert svg.count("<rect") == 2


def test_the_goals_and_terms_set_in_the_rules_are_the_ones_the_pages_count_by(tmp_path):
    from kiosk.domain.policy import parse_policy
    from tests.test_pages import login

    db = store.init_db(tmp_path / "central.db")
    assert store.term_start(db, TODAY) == date(2026, 9, 1)  # no terms set: 1 September
    store.set_rules(db, parse_policy({"term_goal": 20, "class_month_goal": 3, "term_starts": ["2026-11-02"]}))
    assert store.term_start(db, TODAY) == date(2026, 11, 2)
    from tests.servers import CentralServer, seed_pages

    path = tmp_path / "pages.db"
    seeded_db = seed_pages(path)
    store.set_rules(seeded_db, parse_policy({"term_goal": 20, "class_month_goal": 3}))
    with CentralServer(path) as server:
        client, _ = login(server)
        stats = client.get("/stats").text
        exported = client.get("/export/stats.csv").text
    assert "goal 3" in stats and "20" in stats
    assert exported.splitlines()[1].endswith(",20")
