"""Schools: one store, many schools (PostgreSQL), each seeing only its own; a store with one looks as it always did."""

import re
from datetime import date, datetime, timezone
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from sync.server import db as store
from sync.server.cli import main
from tests.servers import CentralServer

DEMO = Path(__file__).resolve().parent.parent / "kiosk" / "demo" / "files"
PASSWORD = "correct horse battery"


def run(*args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def ok(*args, **kwargs) -> str:
    done = run(*args, **kwargs)
    assert done.exit_code == 0, done.output
    return done.stdout


def patrons_csv(tmp_path, school: str) -> Path:
    """The same ids in every school, with the school's own names."""
    path = tmp_path / f"{school}-patrons.csv"
    path.write_text("id,name,type,class,card_uid,status,expires\n"
                    f"S1001,Mia of {school},student,3A,04A1B2{len(school):02X},active,\n"
                    f"S1002,Ben of {school},student,3A,0A0B0C{len(school):02X},active,\n")
    return path


def push(url, kiosk_id, token, records):
    body = {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "b", "monotonic": 5.0, "records": records}
    return httpx.post(f"{url}/api/v1/kiosks/{kiosk_id}/records", json=body,
                      headers={"Authorization": f"Bearer {token}"})


def checkout(seq, patron, item, day=None):
    day = day or date.today().isoformat()
    return {"seq": seq, "kind": "checkout", "at": f"{day}T01:00:00+00:00", "trusted": True, "patron_id": patron,
            "item_id": item, "details": {"due": "2027-01-04"}}


def login(url, name):
    client = httpx.Client(base_url=url)
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    done = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf})
    assert done.headers["location"] == "/", f"{name} could not log in"
    return client


@pytest.fixture(scope="module")
def district(pg_cluster, tmp_path_factory):
    """A district store with two schools, both with a kiosk `door` and patrons S1001 and S1002 of their own."""
    url, folder = pg_cluster.new_database(), tmp_path_factory.mktemp("district")
    ok("init", "--db", url)
    tokens = {}
    for school in ("north", "south"):
        ok("add-school", school, "--db", url)
        tokens[school] = ok("add-kiosk", "door", "--db", url, "--school", school).strip()
        ok("import", "patrons", patrons_csv(folder, school), "--db", url, "--school", school)
        ok("import", "items", DEMO / "items.csv", "--db", url, "--school", school)
        ok("add-librarian", f"wu-{school}", "--db", url, "--school", school, "--password-stdin", input=PASSWORD)
    ok("add-librarian", "zhang", "--db", url, "--district", "--password-stdin", input=PASSWORD)
    with CentralServer(url) as server:
        server.tokens, server.db_url = tokens, url
        yield server


@pytest.mark.pg
@pytest.mark.slow
def test_each_school_keeps_its_own_kiosks_patrons_and_log(district):
    assert push(district.url, "door", district.tokens["north"], [checkout(1, "S1001", "B0001")]).status_code == 200
    assert push(district.url, "door", district.tokens["south"], [checkout(1, "S1002", "B0002"),
                                                                 checkout(2, "S1001", "B0003")]).json()["stored"] == 2
    north, south = store.open_db(district.db_url, "north"), store.open_db(district.db_url, "south")
    assert north.execute("SELECT seq, patron_id, item_id FROM log").fetchall() == [(1, "S1001", "B0001")]
    assert dict(south.execute("SELECT item_id, patron_id FROM loans").fetchall()) == {"B0002": "S1002",
                                                                                      "B0003": "S1001"}
    pulled = httpx.get(f"{district.url}/api/v1/changes", params={"since": "0", "limit": 5000},
                       headers={"Authorization": f"Bearer {district.tokens['north']}"}).json()
    assert {p["name"] for p in pulled["patrons"]} == {"Mia of north", "Ben of north"}
    assert {(loan["item_id"], loan["patron_id"]) for loan in pulled["loans"]} == {("B0001", "S1001")}


@pytest.mark.pg
@pytest.mark.slow
def test_a_librarian_sees_only_her_school_and_the_district_account_sees_all(district):
    north = login(district.url, "wu-north")
    page = north.get("/patrons").text
    assert "Mia of north" in page and "of south" not in page
    assert north.get("/district").headers["location"] == "/"  # not hers to see
    zhang = login(district.url, "zhang")
    overview = zhang.get("/district").text
    assert "north" in overview and "south" in overview and "Most borrowed across the district" in overview
    csrf = re.search(r'name="csrf" value="([^"]+)"', overview).group(1)
    school_ids = {s["name"]: s["id"] for s in store.schools(store.connect(district.db_url))}
    zhang.post("/district/school", data={"school": school_ids["south"], "csrf": csrf})
    page = zhang.get("/patrons").text
    assert "Mia of south" in page and "of north" not in page


@pytest.mark.pg
@pytest.mark.slow
def test_every_page_of_a_district_store_needs_a_login(district):
    for path in ("/", "/log", "/loans", "/rules", "/stats", "/patrons", "/unknown-tags", "/flagged", "/import",
                 "/district", "/export/log.csv"):
        response = httpx.get(district.url + path)
        assert (response.status_code, response.headers.get("location")) == (303, "/login"), path


@pytest.mark.pg
@pytest.mark.slow
def test_the_district_statistics_count_each_school_and_the_books_across_them(district):
    def facts():
        found = store.district_statistics(store.open_db(district.db_url, district=True), date.today())
        return ({s["name"]: s["books"] for s in found["schools"]}, {b["title"]: b for b in found["popular"]},
                found)

    books, _, before = facts()
    assert [(s["name"], s["students"]) for s in before["schools"]] == [("north", 2), ("south", 2)]
    for school in ("north", "south"):  # Holes, borrowed once in each school
        assert push(district.url, "door", district.tokens[school], [checkout(20, "S1002", "B0004")]).status_code == 200
    after, popular, totals = facts()
    assert after == {name: count + 1 for name, count in books.items()}
    assert popular["Holes"] == {"title": "Holes", "author": "Louis Sachar", "loans": 2, "schools": 2}
    assert totals["books"] == sum(after.values()) and totals["per_student"] == round(totals["books"] / 4, 2)


@pytest.mark.pg
@pytest.mark.slow
def test_commands_name_the_school_when_there_are_several_and_names_stay_unique(district):
    done = run("add-kiosk", "cabinet", "--db", district.db_url)
    assert done.exit_code == 1
    assert "this store holds 2 schools (north, south): name one with --school" in done.output
    done = run("add-librarian", "wu-north", "--db", district.db_url, "--school", "south", "--password-stdin",
               input=PASSWORD)
    assert done.exit_code == 1 and "wu-north is already a librarian of north" in done.output
    done = run("add-kiosk", "cabinet", "--db", district.db_url, "--school", "east")
    assert done.exit_code == 1 and "no school named 'east'" in done.output


def test_a_store_with_one_school_asks_for_none(store_url):
    ok("init", "--db", store_url)
    ok("add-kiosk", "door", "--db", store_url)
    ok("add-librarian", "wu", "--db", store_url, "--password-stdin", input=PASSWORD)
    assert [s["name"] for s in store.schools(store.connect(store_url))] == ["school"]
    with CentralServer(store_url) as server:
        page = login(server.url, "wu").get("/").text
    assert "door" in page and "District" not in page and "· school" not in page


def test_the_first_school_takes_its_name_while_empty_and_sqlite_holds_one(store_url):
    ok("init", "--db", store_url)
    assert "the store's school is called north now" in ok("add-school", "north", "--db", store_url)
    ok("add-kiosk", "door", "--db", store_url)  # still one school: no --school needed
    second = run("add-school", "south", "--db", store_url)
    if store.is_postgres(store_url):
        assert second.exit_code == 0 and "south: added" in second.output
        assert [s["name"] for s in store.schools(store.connect(store_url))] == ["north", "south"]
    else:
        assert second.exit_code == 1 and "a SQLite store holds one school" in second.output
        assert [s["name"] for s in store.schools(store.connect(store_url))] == ["north"]


def test_migrate_makes_no_store_and_finds_a_new_one_up_to_date(store_url):
    missing = run("migrate", "--db", store_url)
    assert missing.exit_code == 1 and ("no such database" in missing.output or "no central store" in missing.output)
    ok("init", "--db", store_url)
    assert set(ok("migrate", "--db", store_url).splitlines()) <= {"store: up to date", "district: up to date",
                                                                   "district accounts: up to date",
                                                                   "school: up to date"}


def test_a_store_made_before_schools_keeps_its_librarian_and_kiosks(tmp_path):
    from sync.server.auth import hash_password

    path = tmp_path / "central.db"
    old = store.connect(path)
    store.migrations.apply(old)  # the tables as the previous version left them
    store.set_librarian(old, "wu", hash_password(PASSWORD))
    token = store.add_kiosk(old, "door")
    assert "district_0001_schools" in ok("migrate", "--db", path)
    db = store.open_db(path)
    assert store.account_school(db, "wu") == 1 and store.kiosk_for_token(db, token) == "door"
    with CentralServer(path) as server:
        assert "door" in login(server.url, "wu").get("/").text
