"""The central store's web service: the kiosks' API of docs/sync-api.md.

`create_app(db_path, settings)` returns the FastAPI application over a SQLite
file or a PostgreSQL URL; the librarian's pages are mounted on it with
`include_router`, and every answer passes `headers.SecurityHeaders`. Each
worker thread keeps its own connection. On SQLite, writes are serialised by
one lock, so a batch never waits on SQLite's busy handler and two batches
never interleave; on PostgreSQL there is no such lock: batches of different
kiosks are stored side by side, held apart by row and item locks
(`db/push.py`), and a transaction the server gave up on (a deadlock) is
answered 503 so that the kiosk sends the batch again.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Callable, Optional

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from sync.protocol import CHANGES_PATH, HEALTH_PATH, MAX_BATCH, MAX_PAGE, hello_path, records_path
from sync.server import db as store
from sync.server.admission import BUSY, IN_HAND, Admission, still_awaited
from sync.server.headers import SecurityHeaders
from sync.server.limits import BodyLimit
from sync.server.models import ChangesOut, HelloIn, HelloOut, PushIn, PushOut, RecordsOut
from sync.server.settings import Settings
from sync.server.throttle import LoginThrottle
from sync.server.turns import AT_ONCE, PushTurns

log = logging.getLogger("kiosk-central")
STATIC = FilePath(__file__).resolve().parent / "static"
MAX_CURSOR = 2**63 - 1  # the largest integer of both databases: change numbers never come near it
DB_VARIABLE = "KIOSK_CENTRAL_DB"  # the store of `kiosk-central serve --workers N`, for each worker process
SETTINGS_VARIABLE = "KIOSK_CENTRAL_SETTINGS"  # and its settings, as JSON


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


def wrap(app: FastAPI, settings: Settings, postgres: bool) -> None:
    """What every answer passes (pushes taking turns, admission, the body limit, the security headers), what
    needs no database (the static files, the health check), and the answers to a store that refuses or gives up."""
    app.state.settings = settings
    app.state.throttle = LoginThrottle()
    # Pushes take turns in arrival order (turns.py): on SQLite two at a time, one stored while the next is read;
    # on PostgreSQL as many as a process takes in hand. Past that many in hand, 503 at once (Admission).
    app.add_middleware(PushTurns, at_once=IN_HAND if postgres else AT_ONCE)
    app.add_middleware(Admission)
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(SecurityHeaders, settings=settings)  # added last, so outermost: it sees the real peer first
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.exception_handler(store.Conflict)
    async def conflict(request, exc):  # noqa: ARG001
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(store.Busy)
    async def busy(request, exc):
        # PostgreSQL broke a deadlock, or SQLite stayed locked: nothing of the
        # transaction was kept, and the kiosk sends the batch again.
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(status_code=503, content=BUSY, headers={"Retry-After": "1"})

    @app.get(HEALTH_PATH)
    def health() -> dict:
        """Whether the service runs, and its clock."""
        return {"ok": True, "server_time": store.iso(store.utc_now())}


def create_app(db_path: str, settings: Settings | None = None,
               clock: Callable[[], datetime] = store.utc_now) -> FastAPI:
    """The central store's application over the store at `db_path` (a file, or a PostgreSQL URL), served as
    `settings` say; `clock` dates the reading counts."""
    prepare(db_path)
    local = threading.local()
    write_lock = store.write_lock(db_path)
    # No /docs: FastAPI's would load its scripts from a public CDN, which
    # school networks block and pages should not call. /openapi.json stays.
    app = FastAPI(title="Library kiosk central store", version="1", docs_url=None, redoc_url=None,
                  description="Takes the kiosks' logs, merges them and serves changes (docs/sync-api.md).")
    app.state.db_path = db_path
    app.state.write_lock = write_lock
    wrap(app, settings or Settings(), store.is_postgres(db_path))
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

    restore_routes(app, get_db, write_lock, kiosk_from_token)
    sync_routes(app, get_db, write_lock, kiosk_from_token, clock)

    from sync.server import pages
    from sync.server.pages import problems

    app.include_router(pages.router(get_db, write_lock))
    problems.install(app, pages.Pages(get_db, write_lock))
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
        if not (since.isascii() and since.isdigit()) or int(since) > MAX_CURSOR:
            raise HTTPException(422, f"since must be a cursor from an earlier answer (digits), not {since!r}")
        school, kiosk_id = caller
        with write_lock:
            store.refresh_showcase(get_db(school), clock())  # worked out again only after a change, or on a new day
        answer = store.changes(get_db(school), int(since), limit)
        return {**answer, **store.round_facts(get_db(school), kiosk_id), "server_time": store.iso(store.utc_now())}


def app_from_environment() -> FastAPI:
    """The application over the store named in `DB_VARIABLE`, served as `SETTINGS_VARIABLE` says (a worker of
    `kiosk-central serve --workers`)."""
    settings = json.loads(os.environ.get(SETTINGS_VARIABLE, "{}"))
    settings["trusted_proxies"] = tuple(settings.get("trusted_proxies", ()))
    return create_app(os.environ[DB_VARIABLE], Settings(**settings))


def settings_for_workers(settings: Settings) -> str:
    """`settings` as `app_from_environment` reads them."""
    return json.dumps(dataclasses.asdict(settings))
