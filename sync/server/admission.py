"""The kiosks' requests under more kiosks than the store can answer: 503 at once rather than work given up on.

A kiosk waits 10 s for an answer (its [central] timeout). Under more kiosks
than the store can answer, it answers 503 at once rather than work on
requests their kiosks may have given up on: past IN_HAND requests of the
kiosks in hand (a push's records are read and checked before any worker
thread takes it), and for a request that waited PATIENCE seconds for a
worker. The kiosk sends it again after its backoff.
"""

from __future__ import annotations

import json
import time

from fastapi import Request

from sync.protocol import API, CHANGES_PATH
from sync.server.db import Busy

IN_HAND = 16
PUSH_ROOM = 4  # of IN_HAND, places a page of changes never takes
PATIENCE = 5.0
BUSY = {"detail": "the store is busy: send it again"}


class Admission:
    """ASGI middleware for the kiosks' requests: at most `IN_HAND` at once (pages of changes leaving `PUSH_ROOM`
    of them free), each stamped with when it arrived."""

    def __init__(self, app, limit: int = IN_HAND, push_room: int = PUSH_ROOM):
        self.app, self.limit, self.in_hand = app, limit, 0
        self.pull_limit = max(1, limit - push_room)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith((f"{API}/kiosks/", CHANGES_PATH)):
            return await self.app(scope, receive, send)
        scope["arrived"] = time.monotonic()
        limit = self.pull_limit if scope["path"].startswith(CHANGES_PATH) else self.limit
        if self.in_hand >= limit:
            while (await receive()).get("more_body"):
                pass  # the body is read, not parsed: the connection stays usable
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1")]})
            await send({"type": "http.response.body", "body": json.dumps(BUSY).encode()})
            return
        self.in_hand += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_hand -= 1


def still_awaited(request: Request) -> None:
    """`Busy` (503) for a kiosk's request that waited longer than `PATIENCE` to be worked on."""
    waited = time.monotonic() - request.scope.get("arrived", time.monotonic())
    if waited > PATIENCE:
        raise Busy(f"the request waited {waited:.1f} s for a worker")
