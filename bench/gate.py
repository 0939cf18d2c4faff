"""A starting gate for kiosks: a loopback TCP relay that lets their first requests go at one moment.

On a bench machine, forty `kiosk sync` processes take seconds to start (each
imports its libraries), so without a gate they would reach the central store
one after another. The gate holds each connection, with the first bytes it
sent, until `expected` connections are waiting (or `hold_limit` seconds have
passed since the first: the kiosks' read timeout counts the wait), then
relays them all at once and every later byte both ways as it comes.
`opened_at` is that moment (time.monotonic(), as is `first_at`, when the
first arrived); `together` how many went
through at it; `connections` how many it relayed in all (more than the
kiosks when some timed out and reconnected).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Optional

CHUNK = 1 << 16


class StartingGate:
    """Relay 127.0.0.1:`port` to 127.0.0.1:`upstream`, holding the first `expected` connections."""

    def __init__(self, upstream: int, expected: int, hold_limit: float = 8.0):
        self.upstream, self.expected, self.hold_limit = upstream, expected, hold_limit
        self.first_at: Optional[float] = None
        self.opened_at: Optional[float] = None
        self.together = 0
        self.connections = 0
        self._waiting = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="starting-gate", daemon=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    def __enter__(self) -> "StartingGate":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the starting gate did not open its port")
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._open = asyncio.Event()
        server = self._loop.run_until_complete(
            asyncio.start_server(self._relay, "127.0.0.1", self.port, backlog=1024))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()
            self._loop.close()

    def _release(self) -> None:
        if not self._open.is_set():
            self.opened_at = time.monotonic()
            self.together = self._waiting
            self._open.set()

    async def _relay(self, client_reader, client_writer) -> None:
        first = await client_reader.read(CHUNK)
        if not first:
            client_writer.close()
            return
        self.connections += 1
        if not self._open.is_set():
            self._waiting += 1
            if self._waiting == 1:
                self.first_at = time.monotonic()
                self._loop.call_later(self.hold_limit, self._release)
            if self._waiting >= self.expected:
                self._release()
            await self._open.wait()
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        up_writer.write(first)
        await asyncio.gather(self._pipe(client_reader, up_writer), self._pipe(up_reader, client_writer))

    @staticmethod
    async def _pipe(reader, writer) -> None:
        try:
            while data := await reader.read(CHUNK):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
