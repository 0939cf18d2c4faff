"""A school's SQLite store moved into a district's PostgreSQL store, its kiosks following: nothing lost, nothing twice."""

import re
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from kiosk import store
from sync.server import db as central_db
from sync.client import SyncClient
from sync.server.cli import main
from tests.servers import CentralServer
from tests.test_sync import Site

DEMO = Path(__file__).resolve().parent.parent / "kiosk" / "demo" / "files"
PASSWORD = "correct horse battery"
pytestmark = [pytest.mark.pg, pytest.mark.slow]


def ok(*args, **kwargs) -> str:
    done = CliRunner().invoke(main, [str(a) for a in args], **kwargs)
    assert done.exit_code == 0, done.output
    return done.stdout


class Central:
    """What `Site` needs of a central store: its URL and the kiosks' tokens."""

    def __init__(self, url, tokens):
        self.url, self.tokens = url, tokens


def held(db) -> dict:
    """Each kiosk's records held by the store: (how many, how many distinct, the highest seq)."""
    return {k: (n, d, top) for k, n, d, top in db.execute(
        "SELECT kiosk_id, COUNT(*), COUNT(DISTINCT seq), MAX(seq) FROM log GROUP BY kiosk_id")}


def login_sees(url, text) -> bool:
    client = httpx.Client(base_url=url)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"name": "wu", "password": PASSWORD, "csrf": csrf})
    return text in client.get("/").text


def test_a_school_moves_into_the_district_and_its_kiosks_push_on_and_pull(tmp_path, pg_cluster):
    school_db = tmp_path / "central.db"
    ok("init", "--db", school_db)
    tokens = {k: ok("add-kiosk", k, "--db", school_db).strip() for k in ("door", "cabinet-3a")}
    ok("import", "patrons", DEMO / "patrons.csv", "--db", school_db)
    ok("import", "items", DEMO / "items.csv", "--db", school_db)
    ok("add-librarian", "wu", "--db", school_db, "--password-stdin", input=PASSWORD)

    with CentralServer(school_db) as old:
        door, cab = (Site(tmp_path, Central(old.url, tokens), k) for k in ("door", "cabinet-3a"))
        for site in (door, cab):
            assert site.sync.run_once(), store.get_meta(site.db, "last_error")
        cab.run("at 2026-11-23T09:00:00+08:00\ntap 04A1B2C3\ntap 04112233445566\nwait 3\ntap 04223344556677\n"
                "press done")
        door.run("at 2026-11-23T09:30:00+08:00\ntap 0A0B0C0D\ntap 04334455667788\npress done")
        assert door.sync.run_once() and cab.sync.run_once() and door.sync.run_once()
    # While the store moves, Mia brings Charlotte's Web back to the door: a record waiting to be pushed.
    assert door.run("at 2026-11-23T11:00:00+08:00\ntap 04112233445566")[-1]["outcome"] == "return"
    before = held(central_db.open_db(school_db))

    district = pg_cluster.new_database()
    ok("init", "--db", district)
    ok("add-school", "south", "--db", district)
    ok("add-kiosk", "door", "--db", district, "--school", "south")  # another school's door: no clash
    moved = ok("move-to", district, "--school", "north", "--db", school_db)
    assert "school north: moved" in moved and "2 kiosks" in moved
    north = central_db.open_db(district, "north")
    assert held(north) == before

    with CentralServer(district) as new:
        for site in (door, cab):  # the kiosk's config now names the district's service; the token is the same
            site.config = replace(site.config, central=replace(site.config.central, url=new.url))
            site.sync = SyncClient(site.db, site.config)
        (tmp_path / "new.csv").write_text("id,name,type,class,card_uid,status,expires\n"
                                          "S2001,Ada New,student,3A,04ABCDEF,active,\n")
        ok("import", "patrons", tmp_path / "new.csv", "--db", district, "--school", "north")
        for site in (door, cab):  # the door's return goes; Ada comes
            assert site.sync.run_once(), store.get_meta(site.db, "last_error")
        lent = cab.run("at 2026-11-24T08:00:00+08:00\ntap 04ABCDEF\ntap 04445566778899\npress done")
        assert [o["outcome"] for o in lent][:2] == ["session_start", "checkout"]
        for site in (cab, door):
            assert site.sync.run_once(), store.get_meta(site.db, "last_error")
        assert login_sees(new.url, "cabinet-3a")

    after = held(north)
    for kiosk, site in (("door", door), ("cabinet-3a", cab)):
        last = site.db.execute("SELECT MAX(seq) FROM log").fetchone()[0]
        assert after[kiosk] == (last, last, last)  # every record of the kiosk, once each
        assert store.pending_count(site.db) == 0
    loans = dict(north.execute("SELECT item_id, patron_id FROM loans").fetchall())
    assert loans == {"B0002": "S1001", "B0003": "S1002", "B0004": "S2001"}
    assert door.loans() == cab.loans() == loans  # what the kiosks pulled from the new store
    assert store.patron_by_uid(door.db, "04ABCDEF").name == "Ada New"
    assert held(central_db.open_db(district, "south")) == {}  # the other school saw none of it
    again = CliRunner().invoke(main, ["move-to", district, "--school", "north", "--db", str(school_db)])
    assert again.exit_code == 1 and "moving it again would double them" in again.output
