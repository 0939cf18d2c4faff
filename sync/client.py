"""The kiosk's sync process: push the log, pull changes, over a bad network.

A separate process from the screen, sharing the SQLite file through WAL. It
reads records in short read transactions and writes its checkpoints in short
write transactions, never while a request is in flight, so a tap never waits
on the network; a page of changes is applied in chunks of a few hundred
rows, each its own transaction. Every push is safe to repeat (records are
identified by kiosk id and sequence number), so POSTs are retried like GETs;
401, 403, 409 and 422 are never retried. The protocol is docs/sync-api.md.

Each round begins with a hello: the store answers its epoch (its identity,
changed by a restore) and the highest seq it holds of this kiosk. A store
restored from an older backup is noticed there, by an idle kiosk too: the
kiosk sends again from what the store holds and pulls from the start.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone
from importlib import metadata
from typing import Callable, Optional

import requests

from kiosk import store
from kiosk.clock import boot_id, system_clock_synced
from kiosk.config import Config
from kiosk.core.durable import describe
from kiosk.domain.errors import ConfigError, KioskError
from sync.protocol import CHANGE_TABLES, CHANGES_PATH, MAX_BATCH, PAGE, hello_body, hello_path, push_body, records_path
from sync.session import make_session

log = logging.getLogger("kiosk.sync")

BACKOFF_MAX = 300.0  # seconds between attempts at most, when the central store stays away
BACKOFF_RAMP = 10  # failures after which the wait stops doubling (it is capped by BACKOFF_MAX long before)
# Between two chunks of a page the write lock is left free as long as the
# chunk held it, within these bounds: a tap waiting on SQLite's busy handler,
# which sleeps 1, 2, 5, 10, 15, 20, then 25 ms between tries (about as long
# as it has waited), wakes inside the gap and gets its turn instead of
# finding the next chunk already begun (bench/sync_tap_wait.py).
CHUNK_PAUSE = (0.005, 0.025)
WHOLE_PAGE = 10**9  # rows per transaction when nothing waits: the page in one
# Why a connection failed, from the words deep inside urllib3's long message.
REASONS = (
    ("Connection refused", "connection refused"),
    ("Name or service not known", "its name could not be resolved"),
    ("Temporary failure in name resolution", "its name could not be resolved"),
    ("Failed to resolve", "its name could not be resolved"),
    ("Network is unreachable", "the network is unreachable"),
    ("No route to host", "no route to it"),
    ("Connection reset", "the connection was cut"),
    ("Connection aborted", "the connection was cut"),
    ("RemoteDisconnected", "the connection was cut"),
)


class SyncError(KioskError):
    """A sync step failed; `fatal` when retrying cannot help (a wrong token, a refused record)."""

    def __init__(self, message: str, fatal: bool = False):
        super().__init__(message)
        self.fatal = fatal


class StoreRestored(Exception):
    """The central store's epoch changed during a round: the round starts over."""


def version() -> str:
    try:
        return metadata.version("library-kiosk")
    except metadata.PackageNotFoundError:
        return "unknown"


def retry_delay(interval: float, failures: int, fatal: bool = False) -> float:
    """Seconds to wait before the next sync: `interval` after a success, then doubling up to BACKOFF_MAX.

    A fatal failure (a refused token, a refused record) waits the longest at
    once: only a person can fix it, and the process keeps saying so.
    """
    if fatal:
        return max(interval, BACKOFF_MAX)
    if failures <= 0:
        return interval
    return max(interval, min(BACKOFF_MAX, interval * 2 ** min(failures, BACKOFF_RAMP)))


def hide(text: str, secret: str) -> str:
    """`text` with `secret` replaced by *** wherever it stands as a whole word, never inside another word."""
    if not secret:
        return text
    return re.sub(rf"(?<![A-Za-z0-9_-]){re.escape(secret)}(?![A-Za-z0-9_-])", "***", text)


def waiting(count: int) -> str:
    return "no records wait" if count == 0 else "1 record waits" if count == 1 else f"{count} records wait"


def apply_paced(db, kiosk_id: str, page: dict, chunk: int = store.CHUNK,
                pause: tuple[float, float] = CHUNK_PAUSE) -> None:
    """Apply a page of changes chunk by chunk, leaving the write lock free after each for about as long as
    the chunk held it (`pause`: the least and the most)."""
    started = time.monotonic()
    for _ in store.apply_page(db, kiosk_id, page, page["cursor"], chunk=chunk):
        held = time.monotonic() - started
        if pause[1] > 0:
            time.sleep(min(pause[1], max(pause[0], held)))
        started = time.monotonic()


class SyncClient:
    """Push and pull for one kiosk database against one central store."""

    def __init__(self, db, config: Config, session: Optional[requests.Session] = None,
                 reader_ok: Optional[Callable[[], Optional[bool]]] = None):
        central = config.central
        if not central.url:
            raise ConfigError(f"{config.path}: [central] url is not set: nowhere to sync to")
        if not central.token:
            raise ConfigError(f"{config.path}: [central] token is not set (kiosk-central add-kiosk prints it)")
        self.db = db
        self.url = central.url.rstrip("/")
        self.timeout = (min(5.0, central.timeout), central.timeout)
        self.batch = min(central.batch_size, MAX_BATCH)
        # The database's kiosk id, once set, is the kiosk's identity; a config
        # naming another kiosk would push with that kiosk's token.
        held = store.get_meta(db, "kiosk_id")
        if held is not None and held != config.kiosk.id:
            raise ConfigError(f"{config.path}: [kiosk] id is {config.kiosk.id!r}, but this database belongs to "
                              f"kiosk {held!r}")
        self.kiosk_id = config.kiosk.id
        if held is None:
            store.set_meta(db, kiosk_id=self.kiosk_id)
        self.session = session or make_session(central.ca_file)
        self.session.headers["Authorization"] = f"Bearer {central.token}"
        self._token = central.token
        self.boot = boot_id()
        self.last_fatal = False  # whether the last failure needs a person (run_forever waits longest then)
        # The screen process notes the reader's health in the database.
        self.reader_ok = reader_ok or (lambda: {"1": True, "0": False}.get(store.get_meta(db, "reader_ok") or ""))

    # ------------------------------------------------------------ requests

    def request(self, method: str, path: str, **kwargs) -> dict:
        """One request to the central store; its answer, a JSON object, or a `SyncError` in one short line."""
        try:
            # verify is passed each time: requests lets REQUESTS_CA_BUNDLE in
            # the environment override a session's own CA file otherwise.
            response = self.session.request(method, self.url + path, timeout=self.timeout,
                                            verify=self.session.verify, **kwargs)
        except requests.exceptions.SSLError as exc:
            reason = "certificate verify failed" if "CERTIFICATE_VERIFY_FAILED" in str(exc) else "TLS failed"
            raise SyncError(f"the central store's certificate was refused ({reason}); "
                            "set [central] ca_file to the school's CA certificate") from None
        except requests.exceptions.RequestException as exc:
            raise SyncError(f"the central store at {self.url} did not answer ({self._reason(exc)}); "
                            f"{waiting(store.pending_count(self.db))}") from None
        if response.status_code in (401, 403):
            raise SyncError(f"the central store refused this kiosk's token ({response.status_code}: "
                            f"{self._detail(response)})", fatal=True)
        if response.status_code >= 400:
            raise SyncError(f"the central store answered {response.status_code}: {self._detail(response)}",
                            fatal=response.status_code in (409, 422))
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise SyncError(f"the central store's answer was not a JSON object ({len(response.content)} bytes)")
        return answer

    def _reason(self, exc: Exception) -> str:
        if isinstance(exc, requests.exceptions.Timeout):
            return f"timed out after {self.timeout[1]:g} s"
        text = str(exc)
        for words, reason in REASONS:
            if words in text:
                return reason
        return "timed out" if "timed out" in text else "the connection failed"

    def _detail(self, response: requests.Response) -> str:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        return hide(str(detail), self._token)[:300]

    def _body(self, records=None) -> dict:
        """A hello (no `records`) or a push, with the kiosk's clock and health."""
        # Pending as the kiosk will count it once this batch is held: its own count, not the one before.
        pending = store.pending_count(self.db) - len(records or [])
        facts = dict(sent_at=datetime.now(timezone.utc).astimezone(), boot_id=self.boot, monotonic=time.monotonic(),
                     clock_trusted=system_clock_synced(), status=self._status(max(0, pending)))
        return hello_body(**facts) if records is None else push_body(records, **facts)

    def _status(self, pending: int) -> dict:
        """The kiosk's health as each hello and push reports it; rules it refused count as its last problem."""
        refused = store.get_meta(self.db, "rules_error")
        problem = store.get_meta(self.db, "last_error") or (
            f"rules from the central store refused, the last good ones kept: {refused}" if refused else None)
        return {"pending": pending, "reader_ok": self.reader_ok(), "version": version(),
                "last_error": problem[:2000] if problem else None}

    # ------------------------------------------------------------ the round

    def hello(self) -> dict:
        """Tell the store this kiosk's health; compare its epoch and acknowledged seq with this database's."""
        started = time.time()
        answer = self.request("POST", hello_path(self.kiosk_id), json=self._body())
        self._note_clock(answer, started, time.time())
        self.reconcile(answer)
        return answer

    def reconcile(self, answer: dict) -> None:
        """Act on the store's epoch and acknowledged seq (from a hello, a push or a page of changes).

        Another epoch: the store was restored, so send again from what it
        holds and pull from the start. Less acknowledged than sent: send
        again. More acknowledged than this database holds: the database is
        older than the kiosk's log, and nothing more is sent from it.
        """
        try:
            acked, epoch = int(answer["acked_seq"]), str(answer["epoch"])
        except (KeyError, TypeError, ValueError):
            raise SyncError("the central store's answer has no acked_seq and epoch") from None
        held_epoch = store.get_meta(self.db, "central_epoch")
        pushed = int(store.get_meta(self.db, "pushed_seq", "0"))
        last = store.last_seq(self.db, self.kiosk_id)
        if acked > last:
            store.set_meta(self.db, central_acked_seq=acked)
            raise SyncError(f"the central store holds records of kiosk {self.kiosk_id} up to #{acked}, but this "
                            f"database only up to #{last}: it is older than the kiosk's log; rebuild it with "
                            "`kiosk restore`", fatal=True)
        if held_epoch is not None and epoch != held_epoch:
            log.warning("the central store was restored (epoch %s, was %s): it holds records up to #%d; sending "
                        "the rest again and pulling everything again", epoch, held_epoch, acked)
            store.set_meta(self.db, central_epoch=epoch, pushed_seq=acked, pull_cursor=0, central_acked_seq=acked)
            raise StoreRestored()
        if held_epoch is None or acked != pushed:
            if acked < pushed:
                log.warning("the central store holds records only up to #%d, not #%d: sending the rest again",
                            acked, pushed)
            store.set_meta(self.db, central_epoch=epoch, pushed_seq=acked, central_acked_seq=acked)

    def push(self) -> int:
        """Push every pending record in batches; returns how many were acknowledged."""
        acked_total = 0
        while True:
            records = store.records_to_push(self.db, self.kiosk_id, self.batch)
            if not records:
                return acked_total
            pushed = int(store.get_meta(self.db, "pushed_seq", "0"))
            started = time.time()
            answer = self.request("POST", records_path(self.kiosk_id), json=self._body(records))
            self._note_clock(answer, started, time.time())
            if "acked_seq" not in answer:
                raise SyncError("the central store's answer to a push has no acked_seq")
            self.reconcile(answer)
            acked = int(answer["acked_seq"])
            if acked == pushed:
                raise SyncError(f"the central store acknowledged nothing past #{pushed}")
            acked_total += max(0, acked - pushed)

    def _note_clock(self, answer: dict, started: float, ended: float) -> None:
        """The central store's clock minus this kiosk's, for this boot (SystemClock uses it)."""
        try:
            server = datetime.fromisoformat(answer["server_time"])
        except (KeyError, TypeError, ValueError):
            return
        middle = datetime.fromtimestamp((started + ended) / 2, timezone.utc)
        offset = (server - middle) / timedelta(seconds=1)
        store.set_meta(self.db, central_offset=round(offset, 3), central_offset_boot=self.boot)

    def pull(self) -> int:
        """Pull every page of changes since the checkpoint; returns the rows applied.

        Pages are applied in paced chunks, so that a tap meanwhile waits tens
        of milliseconds at most; a new kiosk's first pull (no book yet, so no
        tap to wait) applies each page in one go.
        """
        applied = 0
        paced = store.has_books(self.db)
        while True:
            since = store.get_meta(self.db, "pull_cursor", "0")
            started = time.time()
            page = self.request("GET", CHANGES_PATH, params={"since": since, "limit": PAGE})
            self._note_clock(page, started, time.time())
            if page.get("epoch") != store.get_meta(self.db, "central_epoch"):
                self.reconcile(page)
            try:
                if paced:
                    apply_paced(self.db, self.kiosk_id, page)
                else:  # one transaction a page, no pause
                    apply_paced(self.db, self.kiosk_id, page, chunk=WHOLE_PAGE, pause=(0.0, 0.0))
            except (KeyError, TypeError, ValueError, AttributeError, OverflowError, KioskError) as exc:
                raise SyncError(f"a page of changes after cursor {since} could not be applied: {exc}",
                                fatal=True) from None
            if page.get("rules") and store.get_meta(self.db, "rules_error"):
                log.error("rules from the central store refused, the last good ones kept: %s",
                          store.get_meta(self.db, "rules_error"))
            applied += sum(len(page.get(k) or []) for k in CHANGE_TABLES)
            if not page.get("more"):
                return applied

    def round(self) -> tuple[int, int]:
        """Hello, push, pull; once more from the hello if the store turns out restored. (pushed, pulled)."""
        for attempt in range(3):
            try:
                self.hello()
                return self.push(), self.pull()
            except StoreRestored:
                continue
        raise SyncError("the central store's epoch kept changing during the sync")

    def run_once(self) -> bool:
        """One round. True when it completed; the checkpoints say what happened."""
        self.last_fatal = False
        try:
            pushed, pulled = self.round()
        except SyncError as exc:
            self.last_fatal = exc.fatal
            # A fatal answer came from the central store, so it was reachable.
            self._note_failure(str(exc), online=exc.fatal)
            (log.error if exc.fatal else log.warning)("sync failed: %s", exc)
            return False
        except sqlite3.Error as exc:
            # The kiosk's own database is failing (full, read-only, damaged)
            # or was busy past its timeout: this round is lost, the process
            # lives on, and the health page hears of it if the store answers.
            text = f"the kiosk's database: {describe(exc)}"
            log.warning("sync failed: %s", text)
            self._note_failure(text, online=False)
            self._tell_store(text)
            return False
        store.set_meta(self.db, online=1, last_error="",
                       last_sync=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        if pushed or pulled:
            log.info("synced: %d records pushed, %d changes pulled", pushed, pulled)
        return True

    def _note_failure(self, text: str, online: bool) -> None:
        try:
            store.set_meta(self.db, online=1 if online else 0, last_error=text)
        except sqlite3.Error:
            pass  # the database is what fails: the log line has it

    def _tell_store(self, text: str) -> None:
        """A hello that carries a storage fault to the kiosk health page; best effort."""
        try:
            body = hello_body(sent_at=datetime.now(timezone.utc).astimezone(), boot_id=self.boot,
                              monotonic=time.monotonic(), clock_trusted=system_clock_synced(),
                              status={"version": version(), "last_error": text, "storage_ok": False})
            self.request("POST", hello_path(self.kiosk_id), json=body)
        except (SyncError, sqlite3.Error) as exc:
            log.info("the central store did not hear of it: %s", exc)

    def run_forever(self, interval: float, stop: threading.Event, wake: Optional[threading.Event] = None) -> None:
        """Sync every `interval` seconds until `stop`; after failures wait longer, up to BACKOFF_MAX.

        Setting `wake` (the staff screen's "sync now": SIGUSR1) ends a wait early.
        """
        wake = wake or threading.Event()
        failures = 0
        while not stop.is_set():
            ok = self.run_once()
            failures = 0 if ok else failures + 1
            wake.wait(retry_delay(interval, failures, fatal=self.last_fatal))
            wake.clear()
