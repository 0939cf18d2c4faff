"""The central store's web service: the kiosks' API of docs/sync-api.md.

`create_app(db_path, settings)` returns the FastAPI application; the
librarian's pages are mounted on it with `include_router`, and every answer
passes `headers.SecurityHeaders`. Each worker thread keeps its own
SQLite connection; writes are serialised by one lock, so a batch never waits
on SQLite's busy handler and two batches never interleave.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Callable

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from sync.protocol import CHANGES_PATH, HEALTH_PATH, MAX_BATCH, MAX_PAGE, hello_path, records_path
from sync.server import db as store
from sync.server.headers import SecurityHeaders
from sync.server.limits import BodyLimit
from sync.server.models import ChangesOut, HelloIn, HelloOut, PushIn, PushOut, RecordsOut
from sync.server.settings import Settings
from sync.server.throttle import LoginThrottle
from sync.server.turns import PushTurns

log = logging.getLogger("kiosk-central")
STATIC = FilePath(__file__).resolve().parent / "static"
MAX_CURSOR = 2**63 - 1  # SQLite's largest integer: change numbers never come near it


def own(kiosk_id: str, caller: str) -> None:
    """A kiosk's token is good for that kiosk's own paths only."""
    if caller != kiosk_id:
        raise HTTPException(403, f"this token belongs to kiosk {caller}, not {kiosk_id}")


def restore_routes(app: FastAPI, get_db, write_lock: threading.Lock, kiosk_from_token) -> None:
    """The hello that begins each round, and a kiosk's own records for `kiosk restore` (docs/sync-api.md)."""

    @app.post(hello_path("{kiosk_id}"), response_model=HelloOut,
              responses={401: {"description": "no or wrong token"}, 403: {"description": "another kiosk's path"}})
    def hello(body: HelloIn, kiosk_id: Annotated[str, Path(max_length=64)],
              caller: str = Depends(kiosk_from_token)) -> dict:
        """Note the kiosk's health; answer the store's epoch and the kiosk's acknowledged seq."""
        own(kiosk_id, caller)
        with write_lock:
            return store.hello(get_db(), kiosk_id, body.model_dump(mode="json"))

    @app.get(records_path("{kiosk_id}"), response_model=RecordsOut,
             responses={401: {"description": "no or wrong token"}, 403: {"description": "another kiosk's path"}})
    def records(kiosk_id: Annotated[str, Path(max_length=64)],
                after: Annotated[int, Query(ge=0, le=2**53)] = 0,
                limit: Annotated[int, Query(ge=1, le=MAX_BATCH)] = MAX_BATCH,
                caller: str = Depends(kiosk_from_token)) -> dict:
        """This kiosk's own records after seq `after`, as pushed (`kiosk restore` rebuilds from them)."""
        own(kiosk_id, caller)
        return store.kiosk_records(get_db(), kiosk_id, after, limit)


def prepare(db_path: str) -> None:
    """Refuse at once, in one line, a database that is missing, damaged or newer; fresh query statistics."""
    db = store.open_db(db_path)
    store.refresh_statistics(db)
    db.close()


def wrap(app: FastAPI, settings: Settings) -> None:
    """What every answer passes (pushes taking turns, the body limit, the security headers), what needs no
    database (the static files, the health check), and a 409 for a seq held with other content."""
    app.state.settings = settings
    app.state.throttle = LoginThrottle()
    app.add_middleware(PushTurns)
    app.add_middleware(BodyLimit, settings=settings)
    app.add_middleware(SecurityHeaders, settings=settings)  # added last, so outermost: it sees the real peer first
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.exception_handler(store.Conflict)
    async def conflict(request, exc):  # noqa: ARG001
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.get(HEALTH_PATH)
    def health() -> dict:
        """Whether the service runs, and its clock."""
        return {"ok": True, "server_time": store.iso(store.utc_now())}


def create_app(db_path: str, settings: Settings | None = None,
               clock: Callable[[], datetime] = store.utc_now) -> FastAPI:
    """The central store's application over the database at `db_path`, served as `settings` say.

    `clock` dates the reading counts.
    """
    settings = settings or Settings()
    prepare(db_path)
    local = threading.local()
    write_lock = threading.Lock()
    # No /docs: FastAPI's would load its scripts from a public CDN, which
    # school networks block and pages should not call. /openapi.json stays.
    app = FastAPI(title="Library kiosk central store", version="1", docs_url=None, redoc_url=None,
                  description="Takes the kiosks' logs, merges them and serves changes (docs/sync-api.md).")
    app.state.db_path = db_path
    app.state.write_lock = write_lock
    wrap(app, settings)

    def get_db():
        db = getattr(local, "db", None)
        if db is None:
            db = local.db = store.open_db(db_path, check=False)
        return db

    app.state.get_db = get_db

    # Sync dependencies and endpoints may run in different worker threads, so
    # each takes its own thread's connection with get_db(), never via Depends.
    def kiosk_from_token(request: Request) -> str:
        db = get_db()
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        kiosk_id = store.kiosk_for_token(db, token.strip()) if scheme.lower() == "bearer" and token.strip() else None
        if kiosk_id is None:
            raise HTTPException(401, "a valid kiosk token is needed (Authorization: Bearer TOKEN)",
                                headers={"WWW-Authenticate": "Bearer"})
        return kiosk_id

    restore_routes(app, get_db, write_lock, kiosk_from_token)

    @app.post(records_path("{kiosk_id}"), response_model=PushOut,
              responses={401: {"description": "no or wrong token"}, 403: {"description": "another kiosk's path"},
                         409: {"description": "a sequence number already held with other content"}})
    def push(body: PushIn, kiosk_id: Annotated[str, Path(max_length=64)],
             caller: str = Depends(kiosk_from_token)) -> dict:
        """Store a batch of this kiosk's records exactly once and merge them."""
        own(kiosk_id, caller)
        batch = body.model_dump(mode="json")
        with write_lock:
            answer = store.push(get_db(), kiosk_id, batch)
        log.info("kiosk %s pushed %d records (%d new), acked %d", kiosk_id, len(body.records), answer["stored"],
                 answer["acked_seq"])
        return answer

    @app.get(CHANGES_PATH, response_model=ChangesOut,
             responses={401: {"description": "no or wrong token"}})
    def changes(since: Annotated[str, Query(max_length=20)] = "0",
                limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1000,
                caller: str = Depends(kiosk_from_token)) -> dict:
        """What changed after `since` (circulation, reading counts, showcase); the epoch and the caller's acked seq."""
        if not (since.isascii() and since.isdigit()) or int(since) > MAX_CURSOR:
            raise HTTPException(422, f"since must be a cursor from an earlier answer (digits), not {since!r}")
        with write_lock:
            store.refresh_showcase(get_db(), clock())  # worked out again only after a change, or on a new day
        answer = store.changes(get_db(), int(since), limit)
        return {**answer, **store.round_facts(get_db(), caller), "server_time": store.iso(store.utc_now())}

    from sync.server import pages
    from sync.server.pages import problems

    app.include_router(pages.router(get_db, write_lock))
    problems.install(app, pages.Pages(get_db, write_lock))

    return app
