"""A fault-injecting TCP proxy on loopback: what a bad school network does.

Between the kiosk's sync process and the central store it refuses some
connections outright, delays traffic, and cuts some answers after the
server has sent them, that is after the server committed the batch. Seeded,
so a failing run can be repeated; `cut_answers(n)` cuts the next answers for
a test that needs it to happen for certain.
"""

from __future__ import annotations

import random
import socket
import threading
import time


class FaultProxy:
    """Listen on 127.0.0.1:`port`, forward to `upstream` (host, port), misbehave as told."""

    def __init__(self, upstream: tuple[str, int], *, drop: float = 0.0, cut: float = 0.0, delay: float = 0.0,
                 seed: int = 1):
        self.upstream = upstream
        self.drop, self.cut, self.delay = drop, cut, delay
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.counts = {"connections": 0, "dropped": 0, "cut": 0, "delayed": 0}
        self.cuts_due = 0
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def chance(self, p: float) -> bool:
        with self.lock:
            return self.random.random() < p

    def cut_answers(self, n: int = 1) -> None:
        """Cut the next `n` answers after the server has sent them, whatever the odds."""
        with self.lock:
            self.cuts_due += n

    def _cut_now(self) -> bool:
        with self.lock:
            if self.cuts_due:
                self.cuts_due -= 1
                return True
        return self.chance(self.cut)

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def start(self) -> "FaultProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.running = False
        self.listener.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.count("connections")
            if self.chance(self.drop):
                self.count("dropped")
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()  # a reset: the request never reached the server
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.upstream, timeout=30)
        except OSError:
            client.close()
            return
        done = threading.Event()

        def close_both():
            done.set()
            for s in (client, server):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

        def pump(source, sink, answers: bool):
            try:
                while not done.is_set():
                    data = source.recv(65536)
                    if not data:
                        break
                    if self.delay and self.chance(0.3):
                        self.count("delayed")
                        time.sleep(self.random.uniform(0, self.delay))
                    if not answers and self.chance(self.drop):
                        # The connection dies with the request on the way:
                        # the server never sees it.
                        self.count("dropped")
                        break
                    if answers and self._cut_now():
                        # The server has answered, so it has committed: the
                        # kiosk never hears it and must send the batch again.
                        self.count("cut")
                        break
                    sink.sendall(data)
            except OSError:
                pass
            close_both()

        threading.Thread(target=pump, args=(client, server, False), daemon=True).start()
        pump(server, client, True)
