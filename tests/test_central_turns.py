"""Pushes take turns at the central store: two at a time, in the order they came; other requests pass freely.

Forty kiosks pushing at one moment had all their bodies read and validated
at once, and the store's first second went to that rather than to storing.
"""

import asyncio
import concurrent.futures

from sync.protocol import HEALTH_PATH, records_path
from sync.server.turns import AT_ONCE, PushTurns


class Store:
    """An ASGI app that notes when each request starts reading its body and how many are inside at once."""

    def __init__(self):
        self.entered, self.inside, self.most = [], 0, 0
        self.release = asyncio.Event()

    async def __call__(self, scope, receive, send):
        self.entered.append(scope["path"])
        self.inside += 1
        self.most = max(self.most, self.inside)
        await receive()
        if scope["method"] == "POST":
            await self.release.wait()
        self.inside -= 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def request(app, method: str, path: str):
    async def receive():
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        pass

    return app({"type": "http", "method": method, "path": path, "headers": []}, receive, send)


def test_pushes_go_two_at_a_time_in_arrival_order_and_other_requests_do_not_wait():
    async def scenario():
        store = Store()
        app = PushTurns(store)
        kiosks = [f"cabinet-{n:02d}" for n in range(10)]
        pushes = []
        for kiosk in kiosks:
            pushes.append(asyncio.create_task(request(app, "POST", records_path(kiosk))))
            await asyncio.sleep(0)  # each arrives after the one before
        for _ in range(200):  # every task runs as far as it can: turns, not time, decide who is in
            await asyncio.sleep(0)
        assert store.entered == [records_path(k) for k in kiosks[:AT_ONCE]]
        await request(app, "GET", HEALTH_PATH)  # not a push: served while the pushes wait
        store.release.set()
        await asyncio.gather(*pushes)
        return store

    # Its own thread: a test before it (Playwright's sync API) may leave an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        store = thread.submit(asyncio.run, scenario()).result(timeout=60)
    assert [p for p in store.entered if p != HEALTH_PATH] == [records_path(f"cabinet-{n:02d}") for n in range(10)]
    assert store.most == AT_ONCE + 1  # two pushes, and the health check beside them
