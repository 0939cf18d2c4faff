"""Logins under attack: a limit on failures, passwords at OWASP's cost, no weak passwords.

60 wrong passwords in 9 s, then the right one, was a login. Now after 10
failures for one account or one client address within 15 minutes every
login for it is a 429 with Retry-After, a right password included, until
the window passes; the kiosks page and the server's log show it.
"""

import hashlib
import logging
import secrets
from datetime import timedelta

import httpx
import pytest
from click.testing import CliRunner

from sync.server import db as store
from sync.server.auth import SCRYPT, check_password, hash_password, needs_rehash, password_problem, sid_hash
from sync.server.cli import main
from sync.server.settings import Settings
from sync.server.throttle import LoginThrottle
from tests.servers import CentralServer
from tests.test_pages import PASSWORD, central, csrf_of, login, seed  # noqa: F401  (the fixture)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_ten_failures_lock_an_account_for_the_rest_of_the_window():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for n in range(10):
        assert throttle.attempt("wu", f"10.0.0.{n}") == 0  # ten addresses, one account
        clock.now += 1
    assert throttle.attempt("wu", "10.0.0.99") == 15 * 60 - 10  # the first failure ages out then
    assert throttle.attempt("WU", "10.0.0.99") > 0  # the same account, however it is typed
    assert throttle.attempt("li", "10.0.0.99") == 0  # another account from a fresh address
    clock.now += 15 * 60 - 10
    assert throttle.attempt("wu", "10.0.0.98") == 0


def test_ten_failures_from_one_address_lock_it_for_every_account():
    clock = Clock()
    throttle = LoginThrottle(clock=clock)
    for n in range(10):
        assert throttle.attempt(f"name-{n}", "10.0.0.1") == 0
    assert throttle.attempt("wu", "10.0.0.1") == 15 * 60
    assert [(r["what"], r["who"], r["failures"]) for r in throttle.locked()] == [("address", "10.0.0.1", 10)]


def test_a_right_password_takes_its_attempt_back_and_clears_both_counts():
    throttle = LoginThrottle(clock=Clock())
    for _ in range(9):
        throttle.attempt("wu", "10.0.0.1")
    throttle.attempt("wu", "10.0.0.1")
    throttle.succeeded("wu", "10.0.0.1")
    assert throttle.attempt("wu", "10.0.0.1") == 0 and throttle.locked() == []


def wrong_login(client):
    form = client.get("/login")
    return client.post("/login", data={"name": "wu", "password": "not it", "csrf": csrf_of(form.text)})


def test_after_ten_wrong_passwords_even_the_right_one_is_a_429(central, caplog):  # noqa: F811
    caplog.set_level(logging.WARNING, logger="kiosk-central")
    client = httpx.Client(base_url=central.url)
    for _ in range(10):
        assert wrong_login(client).headers["location"] == "/login?failed=1"
    form = client.get("/login")
    refused = client.post("/login", data={"name": "wu", "password": PASSWORD, "csrf": csrf_of(form.text)})
    assert refused.status_code == 429 and "kiosk_session" not in client.cookies
    assert 14 * 60 < int(refused.headers["retry-after"]) <= 15 * 60
    assert "Too many failed logins" in refused.text and "try again in 15 minutes" in refused.text
    assert "login: 10 failures for account 'wu' within 15 minutes" in caplog.text
    # Another librarian, already logged in, sees it on the kiosks page.
    home = other_librarian_home(central)
    assert "Logins refused" in home and "name wu" in home and "address 127.0.0.1" in home


def other_librarian_home(central):  # noqa: F811
    store.set_librarian(central.db, "li", store.librarian_hash(central.db, "wu"))
    sid = secrets.token_urlsafe(32)
    store.start_session(central.db, sid_hash(sid), "li", "t", store.utc_now() + timedelta(hours=1))
    return httpx.get(central.url + "/", cookies={"kiosk_session": sid}).text


def test_the_address_counted_is_the_one_a_trusted_proxy_names(tmp_path):
    seed(tmp_path / "central.db")
    with CentralServer(tmp_path / "central.db", settings=Settings(trusted_proxies=("127.0.0.1",))) as server:
        attacker = httpx.Client(base_url=server.url, headers={"X-Forwarded-For": "198.51.100.7"})
        for n in range(10):
            form = attacker.get("/login")
            attacker.post("/login", data={"name": f"guess-{n}", "password": "x" * 10, "csrf": csrf_of(form.text)})
        assert wrong_login(attacker).status_code == 429
        librarian = httpx.Client(base_url=server.url, headers={"X-Forwarded-For": "192.0.2.20"})
        form = librarian.get("/login")
        ok = librarian.post("/login", data={"name": "wu", "password": PASSWORD, "csrf": csrf_of(form.text)})
        assert ok.status_code == 303 and ok.headers["location"] == "/"


def test_passwords_are_hashed_at_owasps_minimum_and_old_hashes_made_again_at_login(central):  # noqa: F811
    assert SCRYPT == {"n": 2**17, "r": 8, "p": 1}
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    old = f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"  # as stored before the cost was raised
    store.rehash_librarian(central.db, "wu", old)
    assert needs_rehash(old) and check_password(PASSWORD, old)
    client, response = login(central)
    assert response.headers["location"] == "/"
    stored = store.librarian_hash(central.db, "wu")
    assert stored.startswith("scrypt$131072$8$1$") and check_password(PASSWORD, stored) and not needs_rehash(stored)
    assert client.get("/").status_code == 200  # the session goes on


@pytest.mark.parametrize("password, problem", [
    ("short1!", "at least 10 characters"),
    ("123456789", "at least 10 characters"),
    ("1234567890", "one of the first that anyone would try"),
    ("Password123", "one of the first that anyone would try"),
    ("QWERTYUIOP", "one of the first that anyone would try"),
    ("woaini1314", "one of the first that anyone would try"),
    ("librarian-wu", "one of the first that anyone would try"),  # the account's own name
])
def test_a_weak_password_is_refused_and_no_account_is_made(tmp_path, password, problem):
    assert problem in password_problem(password, "librarian-wu")
    store.init_db(tmp_path / "c.db")  # a store is made with `kiosk-central init`; add-librarian never makes one
    result = CliRunner().invoke(main, ["add-librarian", "librarian-wu", "--db", str(tmp_path / "c.db"),
                                       "--password-stdin"], input=password + "\n")
    assert result.exit_code == 1 and problem in result.output
    assert store.open_db(tmp_path / "c.db").execute("SELECT COUNT(*) FROM librarians").fetchone()[0] == 0


def test_a_good_password_is_taken():
    assert password_problem("correct horse battery", "wu") is None
    assert hash_password("correct horse battery").startswith("scrypt$131072$")
