"""The central store on loopback for tests: a real uvicorn server in a thread."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn

from sync.server.app import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CentralServer:
    """`kiosk-central serve` in-process: start(), .url, stop()."""

    def __init__(self, db_path, port: int | None = None, settings=None, **ssl):
        self.db_path = str(db_path)
        self.port = port or free_port()
        self.app = create_app(self.db_path, settings)
        # As `kiosk-central serve` runs it: the app itself decides which proxy's headers to believe.
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", proxy_headers=False, **ssl))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        scheme = "https" if ssl else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> "CentralServer":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the central store did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
