"""The kiosk's sync process: push the log, pull changes, over a bad network.

A separate process from the screen, sharing the SQLite file through WAL. It
reads records in short read transactions and writes its checkpoints in short
write transactions, never while a request is in flight, so a tap never waits
on the network. Every push is safe to repeat (records are identified by
kiosk id and sequence number), so POSTs are retried like GETs; 401, 403,
409 and 422 are never retried. The protocol is docs/sync-api.md.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from importlib import metadata
from typing import Callable, Optional

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from kiosk import store
from kiosk.clock import boot_id, system_clock_synced
from kiosk.config import Config
from kiosk.domain.errors import ConfigError, KioskError
from sync.protocol import CHANGE_TABLES, CHANGES_PATH, MAX_BATCH, PAGE, push_body, records_path

log = logging.getLogger("kiosk.sync")

BACKOFF_MAX = 300.0  # seconds between attempts at most, when the central store stays away
BACKOFF_RAMP = 10  # failures after which the wait stops doubling (it is capped by BACKOFF_MAX long before)


class SyncError(KioskError):
    """A sync step failed; `fatal` when retrying cannot help (a wrong token, a refused record)."""

    def __init__(self, message: str, fatal: bool = False):
        super().__init__(message)
        self.fatal = fatal


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


@contextmanager
def write_transaction(db):
    """A transaction that takes the write lock at its start (BEGIN IMMEDIATE).

    A deferred transaction that reads first and writes later fails at once
    with "database is locked" if a tap committed in between (SQLite cannot
    upgrade a stale WAL snapshot); taking the lock first makes it wait its
    turn under the busy timeout instead. Nested `db.atomic()` blocks inside
    become savepoints of this transaction.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def make_session(ca_file: str = "", retries: int = 4, backoff: float = 0.5) -> requests.Session:
    """A session that retries connection errors, lost answers and 5xx with capped exponential backoff."""
    retry = Retry(
        total=retries, connect=retries, read=retries, status=retries, other=retries,
        backoff_factor=backoff, backoff_max=10.0, backoff_jitter=0.2,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,  # POST too: every push is idempotent
        # A Retry-After from a proxy could stall the process for hours: the
        # wait stays capped by backoff_max instead.
        raise_on_status=False, respect_retry_after_header=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.verify = ca_file or True
    return session


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

    def _request(self, method: str, path: str, **kwargs) -> dict:
        try:
            # verify is passed each time: requests lets REQUESTS_CA_BUNDLE in
            # the environment override a session's own CA file otherwise.
            response = self.session.request(method, self.url + path, timeout=self.timeout,
                                            verify=self.session.verify, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise SyncError(f"the central store's certificate was refused ({self._clean(exc)}); "
                            "set [central] ca_file to the school's CA certificate") from None
        except requests.exceptions.RequestException as exc:
            raise SyncError(f"cannot reach the central store at {self.url}: {self._clean(exc)}") from None
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

    def _clean(self, exc: Exception) -> str:
        """An error's text without the token, whatever the library put in it."""
        text = str(exc).replace(self._token, "***") if self._token else str(exc)
        return text[:300]

    def _detail(self, response: requests.Response) -> str:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        return self._clean(Exception(str(detail)))

    # ------------------------------------------------------------ push and pull

    def push(self) -> int:
        """Push every pending record in batches; returns how many were acknowledged."""
        acked_total = 0
        while True:
            records = store.records_to_push(self.db, self.kiosk_id, self.batch)
            if not records:
                return acked_total
            pushed = int(store.get_meta(self.db, "pushed_seq", "0"))
            # Pending as the kiosk will count it once this batch is held: its own count, not the one before.
            answer = self._send(records, store.pending_count(self.db) - len(records))
            try:
                acked = int(answer["acked_seq"])
            except (KeyError, TypeError, ValueError):
                raise SyncError("the central store's answer to a push has no acked_seq") from None
            if acked < pushed:
                # The central store lost records it had acknowledged (restored
                # from an older backup): send them again from where it is.
                log.warning("the central store holds records only up to #%d, not #%d: sending the rest again",
                            acked, pushed)
                store.set_meta(self.db, pushed_seq=acked)
                continue
            if acked == pushed:
                raise SyncError(f"the central store acknowledged nothing past #{pushed}")
            store.set_meta(self.db, pushed_seq=acked)
            acked_total += acked - pushed

    def _send(self, records: list[dict], pending: int) -> dict:
        """One push of `records` (none: a report of health alone) with the kiosk's clock and status."""
        body = push_body(records, sent_at=datetime.now(timezone.utc).astimezone(), boot_id=self.boot,
                         monotonic=time.monotonic(), clock_trusted=system_clock_synced(),
                         status=self._status(max(0, pending)))
        started = time.time()
        answer = self._request("POST", records_path(self.kiosk_id), json=body)
        self._note_clock(answer, started, time.time())
        return answer

    def report(self) -> None:
        """Tell the central store this kiosk's health in a push of no records (a round with nothing to push)."""
        self._send([], store.pending_count(self.db))

    def _status(self, pending: int) -> dict:
        """The kiosk's health as each push reports it; rules it refused count as its last problem."""
        refused = store.get_meta(self.db, "rules_error")
        problem = store.get_meta(self.db, "last_error") or (
            f"rules from the central store refused, the last good ones kept: {refused}" if refused else None)
        return {"pending": pending, "reader_ok": self.reader_ok(), "version": version(),
                "last_error": problem[:2000] if problem else None}

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
        """Pull every page of changes since the checkpoint; returns the rows applied."""
        applied = 0
        while True:
            since = store.get_meta(self.db, "pull_cursor", "0")
            started = time.time()
            page = self._request("GET", CHANGES_PATH, params={"since": since, "limit": PAGE})
            self._note_clock(page, started, time.time())
            try:
                with write_transaction(self.db):
                    store.apply_changes(self.db, self.kiosk_id, page, page["cursor"])
            except (KeyError, TypeError, ValueError, AttributeError, OverflowError, KioskError) as exc:
                raise SyncError(f"a page of changes after cursor {since} could not be applied: {exc}",
                                fatal=True) from None
            if page.get("rules") and store.get_meta(self.db, "rules_error"):
                log.error("rules from the central store refused, the last good ones kept: %s",
                          store.get_meta(self.db, "rules_error"))
            applied += sum(len(page.get(k) or []) for k in CHANGE_TABLES)
            if not page.get("more"):
                return applied

    def run_once(self) -> bool:
        """Push everything, then pull. True when both completed; the checkpoints say what happened."""
        self.last_fatal = False
        try:
            pushed = self.push()
            pulled = self.pull()
            if not pushed:
                self.report()  # every round is seen, and with the kiosk's own pending count
        except SyncError as exc:
            self.last_fatal = exc.fatal
            # A fatal answer came from the central store, so it was reachable.
            store.set_meta(self.db, online=1 if exc.fatal else 0, last_error=str(exc))
            (log.error if exc.fatal else log.warning)("sync failed: %s", exc)
            return False
        except sqlite3.Error as exc:
            # The kiosk's own database was busy beyond its timeout (an import,
            # say) or failing: this round is lost, the process lives on.
            log.warning("sync failed: the kiosk's database: %s", exc)
            try:
                store.set_meta(self.db, last_error=f"the kiosk's database: {exc}")
            except sqlite3.Error:
                pass
            return False
        store.set_meta(self.db, online=1, last_error="",
                       last_sync=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        if pushed or pulled:
            log.info("synced: %d records pushed, %d changes pulled", pushed, pulled)
        return True

    def run_forever(self, interval: float, stop: threading.Event, wake: Optional[threading.Event] = None) -> None:
        """Sync every `interval` seconds until `stop`; after failures wait longer, up to BACKOFF_MAX.

        Setting `wake` (the staff screen's "sync now") ends a wait early.
        """
        wake = wake or threading.Event()
        failures = 0
        while not stop.is_set():
            ok = self.run_once()
            failures = 0 if ok else failures + 1
            wake.wait(retry_delay(interval, failures, fatal=self.last_fatal))
            wake.clear()
