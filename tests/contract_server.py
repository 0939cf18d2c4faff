"""A small central store that speaks docs/sync-api.md, for the sync client's own tests.

Real HTTP on loopback, so the client's session, retries and timeouts are the
ones a kiosk uses; but its answers can be scripted: fail the next requests
with a status, store a batch and then drop the connection (the answer lost
after the commit), stall past the client's timeout, lose records as a
restore from an old backup would, serve hand-made pages of changes. Faults
scripted for "POST" meet pushes; a round's hello has its own key, "HELLO".
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class ContractServer:
    """`with ContractServer({"door": TOKEN}) as server:` ... `server.url`, `server.records`, `server.seen`."""

    def __init__(self, tokens: dict[str, str], clock_ahead: float = 0.0):
        self.kiosk_of = {token: kiosk_id for kiosk_id, token in tokens.items()}
        self.clock_ahead = clock_ahead
        self.epoch = "epoch-1"  # a restore gives the store another
        self.records: dict[tuple[str, int], dict] = {}
        self.pages: list[dict] = []  # pages[n] answers since=n (cursor "0" is the start)
        self.seen: list[dict] = []  # every request: method, path, query, auth, records
        self.faults: list[tuple[str, object]] = []  # (method, status code | "drop-after-commit" | "stall")
        self.stall = threading.Event()  # set at stop: stalled requests end
        self.changed = threading.Condition()
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    # ------------------------------------------------------------ scripting

    def fail(self, method: str, *faults) -> None:
        """The next requests with `method` meet these faults, in order."""
        with self.lock:
            self.faults.extend((method, f) for f in faults)

    def forget_after(self, kiosk_id: str, seq: int) -> None:
        """Lose this kiosk's records after `seq`, as a restore from an older backup would."""
        with self.lock:
            for key in [k for k in self.records if k[0] == kiosk_id and k[1] > seq]:
                del self.records[key]

    def held(self, kiosk_id: str) -> list[int]:
        with self.lock:
            return sorted(seq for k, seq in self.records if k == kiosk_id)

    def wait_for(self, predicate, timeout: float = 10.0) -> bool:
        """Wait until `predicate(self)` holds after some request; False on timeout."""
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self), timeout)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self.clock_ahead)

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> "ContractServer":
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.stall.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    # ------------------------------------------------------------ the protocol

    def _acked(self, kiosk_id: str) -> int:
        acked = 0
        while (kiosk_id, acked + 1) in self.records:
            acked += 1
        return acked

    def _push(self, kiosk_id: str, body: dict) -> tuple[int, dict]:
        stored = duplicates = 0
        with self.lock:
            for record in body["records"]:
                if (kiosk_id, record["seq"]) in self.records:
                    if self.records[(kiosk_id, record["seq"])] != record:
                        return 409, {"detail": f"records: seq {record['seq']} is held with other content"}
                    duplicates += 1
            for record in body["records"]:
                if (kiosk_id, record["seq"]) not in self.records:
                    self.records[(kiosk_id, record["seq"])] = record
                    stored += 1
            acked = self._acked(kiosk_id)
        sent = datetime.fromisoformat(body["sent_at"])
        return 200, {"acked_seq": acked, "stored": stored, "duplicates": duplicates, "epoch": self.epoch,
                     "server_time": self.now().isoformat(), "clock_offset": (self.now() - sent).total_seconds()}

    def _hello(self, kiosk_id: str, body: dict) -> tuple[int, dict]:
        sent = datetime.fromisoformat(body["sent_at"])
        with self.lock:
            acked = self._acked(kiosk_id)
        return 200, {"acked_seq": acked, "epoch": self.epoch, "server_time": self.now().isoformat(),
                     "clock_offset": (self.now() - sent).total_seconds()}

    def _changes(self, kiosk_id: str, since: str) -> tuple[int, object]:
        index = int(since or "0")
        with self.lock:
            ours = {"epoch": self.epoch, "acked_seq": self._acked(kiosk_id)}
        if index >= len(self.pages):
            return 200, {"cursor": str(index), "more": False, "server_time": self.now().isoformat(),
                         "patrons": [], "items": [], "loans": [], "loans_removed": [], "rules": None, **ours}
        if not isinstance(self.pages[index], dict):
            return 200, self.pages[index]  # a page as a test broke it
        page = {"patrons": [], "items": [], "loans": [], "loans_removed": [], "rules": None, **ours,
                **self.pages[index]}
        page.update(cursor=str(index + 1), more=index + 1 < len(self.pages), server_time=self.now().isoformat())
        return 200, page

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if status == 401:
                    self.send_header("WWW-Authenticate", "Bearer")
                self.end_headers()
                self.wfile.write(data)

            def _fault(self, method: str):
                with server.lock:
                    for n, (m, fault) in enumerate(server.faults):
                        if m == method:
                            del server.faults[n]
                            return fault
                return None

            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                auth = self.headers.get("Authorization", "")
                with server.changed:
                    server.seen.append({"method": method, "path": url.path, "query": parse_qs(url.query),
                                        "auth": auth, "records": [r["seq"] for r in (body or {}).get("records", [])]})
                try:
                    self._reply(method, url, body, auth)
                finally:
                    with server.changed:
                        server.changed.notify_all()

            def _reply(self, method, url, body, auth) -> None:
                hello = url.path.endswith("/hello")
                fault = self._fault("HELLO" if hello else method)
                if fault == "stall":
                    server.stall.wait(30)
                    self.close_connection = True
                    return
                if isinstance(fault, int):
                    self._answer(fault, {"detail": f"scripted {fault} for this test"})
                    return
                kiosk_id = server.kiosk_of.get(auth.removeprefix("Bearer "))
                if kiosk_id is None:
                    self._answer(401, {"detail": "no valid token"})
                    return
                if method == "POST":
                    path_kiosk = url.path.split("/")[-2]
                    if path_kiosk != kiosk_id:
                        self._answer(403, {"detail": f"this token is not kiosk {path_kiosk}'s"})
                        return
                    status, answer = (server._hello if hello else server._push)(kiosk_id, body)
                else:
                    status, answer = server._changes(kiosk_id, parse_qs(url.query).get("since", ["0"])[0])
                if fault == "drop-after-commit":
                    self.close_connection = True  # committed, but the kiosk never hears it
                    return
                self._answer(status, answer)

            def do_POST(self):
                self._serve("POST")

            def do_GET(self):
                self._serve("GET")

        return Handler
