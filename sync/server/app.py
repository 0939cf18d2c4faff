"""The central store's web service: the kiosks' API of docs/sync-api.md.

`create_app(db_path)` returns the FastAPI application over a SQLite file or a
PostgreSQL URL; the librarian's pages are mounted on it with `include_router`.
Each worker thread keeps its own connection. On SQLite, writes are serialised
by one lock, so a batch never waits on SQLite's busy handler and two batches
never interleave; on PostgreSQL there is no such lock: batches of different
kiosks are stored side by side, held apart by row and item locks
(`db/push.py`), and a transaction the server gave up on (a deadlock) is
answered 503 so that the kiosk sends the batch again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from datetime import datetime
from typing import Annotated, Any, Callable, Optional

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from kiosk.domain.records import RecordKind
from sync.protocol import API, CHANGES_PATH, HEALTH_PATH, MAX_BATCH, MAX_PAGE, hello_path, records_path
from sync.server import db as store
from sync.server.turns import AT_ONCE, PushTurns

log = logging.getLogger("kiosk-central")

ID = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
TEXT = Annotated[str, Field(max_length=200)]
MAX_MONOTONIC = 1e10  # seconds since boot: three centuries
DB_VARIABLE = "KIOSK_CENTRAL_DB"  # the store of `kiosk-central serve --workers N`, for each worker process
# A kiosk waits 10 s for an answer (its [central] timeout). Under more
# kiosks than the store can answer, it answers 503 at once rather than work
# on requests their kiosks may have given up on: past IN_HAND requests of the
# kiosks in hand (a push's records are read and checked before any worker
# thread takes it), and for a request that waited PATIENCE seconds for a
# worker. The kiosk sends it again after its backoff.
IN_HAND = 16
PATIENCE = 5.0
BUSY = {"detail": "the store is busy: send it again"}


class Admission:
    """ASGI middleware for the kiosks' requests: at most `IN_HAND` at once, each stamped with when it arrived."""

    def __init__(self, app, limit: int = IN_HAND):
        self.app, self.limit, self.in_hand = app, limit, 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith((f"{API}/kiosks/", CHANGES_PATH)):
            return await self.app(scope, receive, send)
        scope["arrived"] = time.monotonic()
        if self.in_hand >= self.limit:
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
        raise store.Busy(f"the request waited {waited:.1f} s for a worker")


def plausible(value: datetime) -> datetime:
    """A kiosk without a real-time clock may believe 1970, never year 1 or 9999."""
    if not 1970 <= value.year <= 9000:
        raise ValueError(f"{value.isoformat()} is not a time a kiosk can have believed")
    return value


KIOSK_TIME = Annotated[AwareDatetime, AfterValidator(plausible)]


class RecordIn(BaseModel):
    """One log record as the kiosk holds it."""

    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1, le=2**53)
    kind: RecordKind
    at: KIOSK_TIME
    trusted: bool
    boot_id: Optional[TEXT] = None
    monotonic: Optional[float] = Field(default=None, ge=0, le=MAX_MONOTONIC, allow_inf_nan=False)
    patron_id: Optional[TEXT] = None
    item_id: Optional[TEXT] = None
    details: dict[str, Any] = Field(default_factory=dict)
    flagged: bool = False

    @model_validator(mode="after")
    def _loan_records_name_their_item(self):
        if self.kind in ("checkout", "return", "renew") and not self.item_id:
            raise ValueError(f"record {self.seq}: a {self.kind} needs an item_id")
        home = self.details.get("to")
        if self.kind == "rehome" and not (self.item_id and isinstance(home, str) and 0 < len(home) <= 64):
            raise ValueError(f"record {self.seq}: a rehome needs an item_id and details.to, its new home")
        if self.kind in ("checkout", "renew"):
            if not self.patron_id:
                raise ValueError(f"record {self.seq}: a {self.kind} needs a patron_id")
            due = self.details.get("due")
            try:
                datetime.strptime(str(due), "%Y-%m-%d")
            except ValueError:
                raise ValueError(f"record {self.seq}: details.due must be a date like 2026-12-07, not {due!r}")
        return self


class Status(BaseModel):
    """Health facts a kiosk reports with each push (all optional)."""

    model_config = ConfigDict(extra="allow")

    pending: Optional[int] = Field(default=None, ge=0, le=2**53)
    reader_ok: Optional[bool] = None
    version: Optional[TEXT] = None
    last_error: Optional[Annotated[str, Field(max_length=2000)]] = None


class HelloIn(BaseModel):
    """The start of a kiosk's round: its clock reading and its health, no records."""

    model_config = ConfigDict(extra="forbid")

    sent_at: KIOSK_TIME
    boot_id: TEXT
    monotonic: float = Field(ge=0, le=MAX_MONOTONIC, allow_inf_nan=False)
    clock_trusted: bool = False
    status: Status = Field(default_factory=Status)


class PushIn(HelloIn):
    """A batch of one kiosk's records with its clock reading."""

    records: list[RecordIn] = Field(min_length=1, max_length=MAX_BATCH)


class HelloOut(BaseModel):
    epoch: str
    acked_seq: int
    server_time: str
    clock_offset: float


class PushOut(BaseModel):
    acked_seq: int
    stored: int
    duplicates: int
    server_time: str
    clock_offset: float
    epoch: str


class RecordsOut(BaseModel):
    epoch: str
    acked_seq: int
    more: bool
    records: list[dict[str, Any]]


class ChangesOut(BaseModel):
    cursor: str
    more: bool
    server_time: str
    epoch: str
    acked_seq: int
    patrons: list[dict[str, Any]]
    items: list[dict[str, Any]]
    homes: list[dict[str, Any]] = []
    loans: list[dict[str, Any]]
    loans_removed: list[str]
    rules: Optional[dict[str, Any]]
    reading: list[dict[str, Any]] = []
    class_reading: list[dict[str, Any]] = []
    showcase: list[dict[str, Any]] = []
    recommendations: list[dict[str, Any]] = []


def own(kiosk_id: str, caller: tuple[int, str]) -> int:
    """A kiosk's token is good for that kiosk's own paths only; the school it is in."""
    school, caller_id = caller
    if caller_id != kiosk_id:
        raise HTTPException(403, f"this token belongs to kiosk {caller_id}, not {kiosk_id}")
    return school


def restore_routes(app: FastAPI, get_db, write_lock: threading.Lock, kiosk_from_token) -> None:
    """The hello that begins each round, and a kiosk's own records for `kiosk restore` (docs/sync-api.md)."""

    @app.post(hello_path("{kiosk_id}"), response_model=HelloOut,
              responses={401: {"description": "no or wrong token"}, 403: {"description": "another kiosk's path"}})
    def hello(body: HelloIn, kiosk_id: Annotated[str, Path(max_length=64)],
              caller: tuple[int, str] = Depends(kiosk_from_token)) -> dict:
        """Note the kiosk's health; answer the store's epoch and the kiosk's acknowledged seq."""
        school = own(kiosk_id, caller)
        with write_lock:
            return store.hello(get_db(school), kiosk_id, body.model_dump(mode="json"))

    @app.get(records_path("{kiosk_id}"), response_model=RecordsOut,
             responses={401: {"description": "no or wrong token"}, 403: {"description": "another kiosk's path"}})
    def records(kiosk_id: Annotated[str, Path(max_length=64)],
                after: Annotated[int, Query(ge=0, le=2**53)] = 0,
                limit: Annotated[int, Query(ge=1, le=MAX_BATCH)] = MAX_BATCH,
                caller: tuple[int, str] = Depends(kiosk_from_token)) -> dict:
        """This kiosk's own records after seq `after`, as pushed (`kiosk restore` rebuilds from them)."""
        return store.kiosk_records(get_db(own(kiosk_id, caller)), kiosk_id, after, limit)


def prepare(db_path: str) -> None:
    """Refuse at once, in one line, a database that is missing, damaged or newer; fresh query statistics."""
    db = store.open_db(db_path, district=True)
    store.refresh_statistics(db)
    db.close()


def create_app(db_path: str, clock: Callable[[], datetime] = store.utc_now) -> FastAPI:
    """The central store's application over the store at `db_path` (a file, or a PostgreSQL URL); `clock` dates
    the reading counts."""
    prepare(db_path)
    local = threading.local()
    write_lock = store.write_lock(db_path)
    app = FastAPI(title="Library kiosk central store", version="1",
                  description="Takes the kiosks' logs, merges them and serves changes (docs/sync-api.md).")
    app.state.db_path = db_path
    app.state.write_lock = write_lock
    # Pushes take turns in arrival order (turns.py): on SQLite two at a time, one stored while the next is read;
    # on PostgreSQL as many as a process takes in hand. Past that many in hand, 503 at once (Admission).
    app.add_middleware(PushTurns, at_once=IN_HAND if store.is_postgres(db_path) else AT_ONCE)
    app.add_middleware(Admission)

    lost = [0]  # how often the PostgreSQL server was found gone: every thread connects again after that

    def get_db(school: Optional[int] = None):
        """This thread's connection, working in `school` (by default the store's only one)."""
        db = getattr(local, "db", None)
        if db is None or db.broken or local.lost != lost[0]:
            if db is not None:
                db.close()
            db = local.db = store.connect(db_path)
            local.lost = lost[0]
        store.use_school(db, school if school is not None else store.school_id(db))
        return db

    app.state.get_db = get_db

    # Sync dependencies and endpoints may run in different worker threads, so
    # each takes its own thread's connection with get_db(), never via Depends.
    def kiosk_from_token(request: Request) -> tuple[int, str]:
        """The school and id of the kiosk whose token the request carries."""
        still_awaited(request)
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        found = None
        if scheme.lower() == "bearer" and token.strip():
            found = store.kiosk_anywhere(get_db(store.DISTRICT), store.token_hash(token.strip()))
        if found is None:
            raise HTTPException(401, "a valid kiosk token is needed (Authorization: Bearer TOKEN)",
                                headers={"WWW-Authenticate": "Bearer"})
        return found

    @app.get(HEALTH_PATH)
    def health() -> dict:
        """Whether the service runs, and its clock."""
        return {"ok": True, "server_time": store.iso(store.utc_now())}

    restore_routes(app, get_db, write_lock, kiosk_from_token)

    sync_routes(app, get_db, write_lock, kiosk_from_token, clock)

    from sync.server import pages

    app.include_router(pages.router(get_db, write_lock))
    _answers_to_errors(app)
    if store.is_postgres(db_path):
        import psycopg

        async def server_gone(request, exc):
            # The server went away (restarted, failed over): this request is
            # lost, the next ones connect again (get_db), the kiosk sends again.
            lost[0] += 1
            return await app.exception_handlers[store.Busy](request, exc)

        app.add_exception_handler(psycopg.OperationalError, server_gone)
    return app


def sync_routes(app: FastAPI, get_db, write_lock, kiosk_from_token, clock: Callable[[], datetime]) -> None:
    """The kiosks' push and pull (docs/sync-api.md)."""

    @app.post(records_path("{kiosk_id}"), response_model=PushOut,
              responses={401: {"description": "no or wrong token"}, 403: {"description": "another kiosk's path"},
                         409: {"description": "a sequence number already held with other content"}})
    def push(body: PushIn, kiosk_id: Annotated[str, Path(max_length=64)], request: Request,
             caller: tuple[int, str] = Depends(kiosk_from_token)) -> dict:
        """Store a batch of this kiosk's records exactly once and merge them."""
        still_awaited(request)
        school = own(kiosk_id, caller)
        batch = body.model_dump(mode="json")
        with write_lock:
            answer = store.push(get_db(school), kiosk_id, batch)
        log.info("kiosk %s pushed %d records (%d new), acked %d", kiosk_id, len(body.records), answer["stored"],
                 answer["acked_seq"])
        return answer

    @app.get(CHANGES_PATH, response_model=ChangesOut,
             responses={401: {"description": "no or wrong token"}})
    def changes(request: Request, since: Annotated[str, Query(max_length=20)] = "0",
                limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
                caller: tuple[int, str] = Depends(kiosk_from_token)) -> dict:
        """What changed after `since` (circulation, reading counts, showcase); the epoch and the caller's acked seq."""
        still_awaited(request)
        if not (since.isascii() and since.isdigit()):
            raise HTTPException(422, f"since must be a cursor from an earlier answer (digits), not {since!r}")
        school, kiosk_id = caller
        with write_lock:
            store.refresh_showcase(get_db(school), clock())  # worked out again only after a change, or on a new day
        answer = store.changes(get_db(school), int(since), limit)
        return {**answer, **store.round_facts(get_db(school), kiosk_id), "server_time": store.iso(store.utc_now())}



def app_from_environment() -> FastAPI:
    """The application over the store named in `DB_VARIABLE` (a worker of `kiosk-central serve --workers`)."""
    return create_app(os.environ[DB_VARIABLE])


def _answers_to_errors(app: FastAPI) -> None:
    """What a kiosk or a browser is answered when the store refuses or gives up."""
    from sync.server.pages import LoginNeeded

    @app.exception_handler(store.Conflict)
    async def conflict(request, exc):  # noqa: ARG001
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(store.Busy)
    async def busy(request, exc):
        # PostgreSQL broke a deadlock, or SQLite stayed locked: nothing of the
        # transaction was kept, and the kiosk sends the batch again.
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(status_code=503, content=BUSY, headers={"Retry-After": "1"})

    @app.exception_handler(LoginNeeded)
    async def login_needed(request, exc):  # noqa: ARG001
        if request.method == "GET":
            return RedirectResponse("/login", status_code=303)
        return JSONResponse(status_code=403, content={"detail": "log in again: this form's session has ended"})
