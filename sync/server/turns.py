"""Pushes take turns: two at a time, the others waiting in arrival order before their bodies are read.

The central store stores one batch at a time (SQLite has one writer). When
forty kiosks pushed at one moment, all forty bodies (20,000 records at the
default batch size) were read and validated together, and the first second
went more to validating than to storing. Taking turns, one batch is stored
while the next is read and validated, in the order the kiosks came: the
first second is like the others.
"""

from __future__ import annotations

import asyncio

from sync.protocol import API

AT_ONCE = 2  # one batch being stored, the next being read and validated


def is_push(scope: dict) -> bool:
    """Whether an ASGI request is a kiosk's push (POST .../kiosks/ID/records)."""
    path = scope.get("path", "")
    return (scope["type"] == "http" and scope.get("method") == "POST" and path.startswith(f"{API}/kiosks/")
            and path.endswith("/records"))


class PushTurns:
    """ASGI middleware: pushes go through `at_once` at a time, first come first served; the rest pass freely."""

    def __init__(self, app, at_once: int = AT_ONCE):
        self.app = app
        self.at_once = at_once
        self._turns: asyncio.Semaphore | None = None

    async def __call__(self, scope, receive, send) -> None:
        if not is_push(scope):
            await self.app(scope, receive, send)
            return
        if self._turns is None:
            self._turns = asyncio.Semaphore(self.at_once)  # made in the server's own event loop, at first use
        async with self._turns:
            await self.app(scope, receive, send)
