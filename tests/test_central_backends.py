"""The central store on SQLite and on PostgreSQL: the same merge under concurrent pushes, clear connection errors.

The other central-store tests run on both backends through `store_url`
(tests/conftest.py); these are about what differs between them.
"""

import asyncio
import random
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from sync.server import db as store
from tests.postgres import Cluster
from tests.servers import CentralServer

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)
ITEMS = [f"B{n:03d}" for n in range(12)]


def loan_batches(kiosk_id: str, seed: int, batches: int = 8, size: int = 15) -> list[list[dict]]:
    """Checkouts, renewals and returns of a few shared books, at times that interleave with other kiosks'."""
    rng, seq, out = random.Random(seed), 0, []
    for _ in range(batches):
        batch = []
        for _ in range(size):
            seq += 1
            kind = rng.choice(["checkout", "checkout", "return", "renew"])
            at = T0 + timedelta(minutes=rng.randrange(10000), seconds=seed)
            patron = f"S{rng.randrange(5)}" if kind != "return" else None
            details = {"due": (at + timedelta(days=14)).date().isoformat()} if kind != "return" else {}
            batch.append({"seq": seq, "kind": kind, "at": at.isoformat(), "trusted": True, "boot_id": "b",
                          "monotonic": 1.0, "patron_id": patron, "item_id": rng.choice(ITEMS), "details": details})
        out.append(batch)
    return out


def merged_state(db) -> tuple[dict, dict]:
    loans = {r["item_id"]: (r["patron_id"], r["kiosk_id"], r["seq"], r["due"], r["renewals"])
             for r in db.query("SELECT item_id, patron_id, kiosk_id, seq, due, renewals FROM loans")}
    flags = {(r["kiosk_id"], r["seq"]): r["reason"]
             for r in db.query("SELECT kiosk_id, seq, reason FROM merge_flags WHERE resolution IS NULL")}
    return loans, flags


def test_kiosks_merging_the_same_books_at_once_end_as_one_merge_of_everything(store_url):
    """Eight kiosks push loans of twelve shared books at the same moment; replaying every book afterwards,
    one at a time, changes nothing: no batch merged a book without the records another batch had stored."""
    db = store.init_db(store_url)
    kiosks = [f"cabinet-{n}" for n in range(8)]
    tokens = {k: store.add_kiosk(db, k) for k in kiosks}
    answers, start = [], threading.Barrier(len(kiosks))
    with CentralServer(store_url) as server:
        def push_all(n: int, kiosk_id: str) -> None:
            headers = {"Authorization": f"Bearer {tokens[kiosk_id]}"}
            start.wait()
            with httpx.Client(timeout=60) as client:
                for batch in loan_batches(kiosk_id, n):
                    body = {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "b", "monotonic": 2.0,
                            "records": batch}
                    answers.append(client.post(f"{server.url}/api/v1/kiosks/{kiosk_id}/records", json=body,
                                               headers=headers).status_code)

        threads = [threading.Thread(target=push_all, args=(n, k)) for n, k in enumerate(kiosks)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert answers == [200] * 64
    assert db.execute("SELECT COUNT(*) FROM log").fetchone()[0] == 8 * 8 * 15
    concurrent = merged_state(db)
    assert concurrent[0], "some books end on loan"
    for item_id in ITEMS:
        with db.atomic():
            store.remerge_item(db, item_id)
    assert merged_state(db) == concurrent


@pytest.mark.pg
@pytest.mark.slow
def test_a_restarted_postgresql_server_costs_one_answer_and_the_kiosk_sends_again():
    with Cluster(durable=True) as cluster:  # a batch answered 200 survives the crash
        url = cluster.new_database()
        token = store.add_kiosk(store.init_db(url), "door")
        batches = loan_batches("door", 1, batches=3)
        with CentralServer(url) as server, httpx.Client(timeout=30) as client:
            def push(batch):
                body = {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "b", "monotonic": 2.0,
                        "records": batch}
                return client.post(f"{server.url}/api/v1/kiosks/door/records", json=body,
                                   headers={"Authorization": f"Bearer {token}"})

            assert push(batches[0]).status_code == 200
            cluster.restart()
            answer = push(batches[1])
            assert answer.status_code in (200, 503)
            if answer.status_code == 503:
                assert answer.headers["retry-after"] == "1"
                answer = push(batches[1])
            assert answer.status_code == 200 and push(batches[2]).json()["acked_seq"] == 45
        assert store.open_db(url).execute("SELECT COUNT(*), COUNT(DISTINCT seq) FROM log").fetchone() == (45, 45)


def test_a_batch_that_cannot_begin_in_time_on_sqlite_is_refused_at_once_and_stored_when_sent_again(tmp_path):
    path = tmp_path / "central.db"
    token = store.add_kiosk(store.init_db(path), "door")
    body = {"sent_at": datetime.now(timezone.utc).isoformat(), "boot_id": "b", "monotonic": 2.0,
            "records": loan_batches("door", 1, batches=1)[0]}
    with CentralServer(path) as server, httpx.Client(timeout=30) as client:
        def push():
            return client.post(f"{server.url}/api/v1/kiosks/door/records", json=body,
                               headers={"Authorization": f"Bearer {token}"})

        with server.app.state.write_lock:  # another batch (or a librarian's import) is being written
            refused = push()
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert store.open_db(path).execute("SELECT COUNT(*) FROM log").fetchone()[0] == 0
        assert push().json()["stored"] == 15


def test_a_request_that_waited_longer_than_its_kiosk_waits_is_answered_busy_without_being_worked_on():
    from starlette.requests import Request

    from sync.server.admission import PATIENCE, still_awaited

    def request(waited):
        return Request({"type": "http", "method": "POST", "path": "/", "headers": [],
                        "arrived": time.monotonic() - waited})

    still_awaited(request(PATIENCE / 2))
    with pytest.raises(store.Busy):
        still_awaited(request(PATIENCE + 1))


def held_store(release, parsed):
    """An ASGI app that works on each request until `release` is set, noting the paths that reached it."""
    async def store_app(scope, receive, send):
        parsed.append(scope["path"])
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})
    return store_app


async def asgi_call(middleware, path, method="POST"):
    """One request with a body in two chunks through `middleware`: its status and headers."""
    sent = []
    chunks = iter([{"type": "http.request", "body": b"x" * 10, "more_body": True},
                   {"type": "http.request", "body": b"", "more_body": False}])

    async def receive():
        return next(chunks)

    async def send(message):
        sent.append(message)

    await middleware({"type": "http", "method": method, "path": path, "headers": []}, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"])


def in_own_thread(scenario):
    """asyncio.run(scenario()) in a thread of its own: a browser test before may have left this thread's event
    loop running."""
    results = []
    runner = threading.Thread(target=lambda: results.append(asyncio.run(scenario())))
    runner.start()
    runner.join(30)
    return results[0]


def test_past_the_requests_in_hand_a_kiosk_is_answered_busy_before_its_records_are_read():
    from sync.server.admission import Admission

    async def scenario():
        release, parsed = asyncio.Event(), []
        middleware = Admission(held_store(release, parsed), limit=1)
        first = asyncio.create_task(asgi_call(middleware, "/api/v1/kiosks/door/records"))
        await asyncio.sleep(0)
        second = await asgi_call(middleware, "/api/v1/kiosks/cab/records")
        health = asyncio.create_task(asgi_call(middleware, "/api/v1/health"))  # not a kiosk's request: not counted
        await asyncio.sleep(0)
        release.set()
        return (await first)[0], second, (await health)[0], parsed

    first, second, health, parsed = in_own_thread(scenario)
    assert first == 200 and health == 200 and second == (503, {b"content-type": b"application/json",
                                                             b"retry-after": b"1"})
    assert parsed == ["/api/v1/kiosks/door/records", "/api/v1/health"]  # the second push never reached the store


def test_pages_of_changes_leave_room_for_a_kiosks_hello_and_records():
    from sync.server.admission import Admission

    async def scenario():
        release, parsed = asyncio.Event(), []
        middleware = Admission(held_store(release, parsed), limit=3, push_room=1)
        pulls = [asyncio.create_task(asgi_call(middleware, "/api/v1/changes", "GET")) for _ in range(2)]
        await asyncio.sleep(0)
        third_pull = await asgi_call(middleware, "/api/v1/changes", "GET")  # two pulls in hand: the last place waits
        push = asyncio.create_task(asgi_call(middleware, "/api/v1/kiosks/cab/records"))  # for a kiosk's records
        await asyncio.sleep(0)
        hello = await asgi_call(middleware, "/api/v1/kiosks/door/hello")  # the house is full now
        release.set()
        return [(await p)[0] for p in pulls], third_pull[0], (await push)[0], hello[0], parsed

    pulls, third_pull, push, hello, parsed = in_own_thread(scenario)
    assert pulls == [200, 200] and third_pull == 503 and push == 200 and hello == 503
    assert parsed == ["/api/v1/changes", "/api/v1/changes", "/api/v1/kiosks/cab/records"]


def test_a_sqlite_store_needs_no_postgresql_library(tmp_path):
    blocked = [sys.executable, str(ROOT / "tests" / "without.py"), "psycopg", "-m", "sync.server.cli"]
    assert subprocess.run([*blocked, "init", "--db", str(tmp_path / "central.db")], cwd=ROOT, capture_output=True,
                          timeout=60).returncode == 0
    made = subprocess.run([*blocked, "add-kiosk", "door", "--db", str(tmp_path / "central.db")], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    refused = subprocess.run([*blocked, "add-kiosk", "door", "--db", "postgresql://wu@localhost/district"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.strip() == "kiosk-central: a PostgreSQL store needs psycopg: pip install 'psycopg[binary]'"


def test_a_store_that_cannot_be_reached_is_named_without_its_password(tmp_path):
    url = f"postgresql://wu:s3cret@/district?host={tmp_path}&connect_timeout=2"
    done = subprocess.run([sys.executable, "-m", "sync.server.cli", "add-kiosk", "door", "--db", url], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    line = done.stderr.strip()
    assert line.startswith("kiosk-central: postgresql://wu:***@/district?host=") and "cannot connect" in line
    assert "s3cret" not in done.stderr and "\n" not in line
