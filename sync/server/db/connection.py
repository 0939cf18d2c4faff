"""One connection surface on SQLite and on PostgreSQL: the sqlite-utils `Database` the store's SQL is written for.

`connect(url)` takes a file path (SQLite, the default) or a
`postgresql://user@host/dbname` URL (psycopg 3, imported only then, so a
SQLite store needs no PostgreSQL library). Both connections offer what the
store's modules use: `execute(sql, params)` (a cursor: fetchone, fetchall,
iteration, description), `executemany`, `executescript`, `query(sql, params)`
(dicts), `atomic()` (a transaction; nested ones are savepoints) and
`db[table]` with `insert`, `insert_all` and `upsert_all(rows, pk=...)`.
Statements are written in SQLite's spelling; `sync.server.db.dialect` says
what PostgreSQL is told instead. The named helpers cover what has no SQLite
spelling: `lock(key)` (an item's merge, one at a time), `for_update` (a row
lock), `atomic(snapshot=True)` (one snapshot for several reads).

Why not SQLAlchemy Core: every module of the store, and the ones being
written beside them, already speak this surface; a layer of ~300 lines keeps
them unchanged, keeps the SQL readable as SQL, and puts every difference
between the two databases in one file. SQLAlchemy would mean rewriting each
statement in its expression language, or passing text() through it anyway.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Iterable, Iterator, Optional
from urllib.parse import urlsplit, urlunsplit

import sqlite_utils

from kiosk.domain.errors import KioskError
from sync.server.db.dialect import Translator

URL_SCHEMES = ("postgresql://", "postgres://")


class Busy(KioskError):
    """The database gave up on a transaction to let another through (a deadlock, a lock wait); try again."""


def is_postgres(url: str | Path) -> bool:
    """Whether `url` names a PostgreSQL database rather than a SQLite file."""
    return str(url).startswith(URL_SCHEMES)


def shown(url: str | Path) -> str:
    """`url` as it may be printed: without a password."""
    text = str(url)
    if not is_postgres(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class WriteLock:
    """One writer at a time, who waits for the lock `patience` seconds at most and then gives up with `Busy`.

    A kiosk waits 10 s for an answer (its [central] timeout): a batch that
    could not even begin by then would be stored after its kiosk stopped
    listening and sent again, work done twice while the queue grows. Refused
    at once (503), the kiosk sends it again after its backoff instead.
    """

    def __init__(self, patience: float = 5.0):
        self.patience = patience
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        if not self._lock.acquire(timeout=self.patience):
            raise Busy(f"other batches kept the store busy for {self.patience:g} s")

    def __exit__(self, *exc) -> None:
        self._lock.release()


def write_lock(url: str | Path):
    """What a process holds while it writes: a `WriteLock` on SQLite (one writer at a time anyway, and none left
    waiting on the busy handler), nothing on PostgreSQL, whose row and item locks keep writers apart."""
    return nullcontext() if is_postgres(url) else WriteLock()


def connect(url: str | Path, busy_ms: int = 10000):
    """Another connection to the store at `url`, which `opening.open_db` checked and migrated (a worker thread's)."""
    if is_postgres(url):
        return PostgresStore(str(url))
    db = SqliteStore(url)
    db.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    return db


class SqliteStore(sqlite_utils.Database):
    """A SQLite file in WAL with `synchronous=FULL`: sqlite-utils' `Database` and the named helpers."""

    dialect = "sqlite"
    for_update = ""  # SQLite has one writer at a time: a row read in a write transaction stays as read

    def __init__(self, path: str | Path):
        super().__init__(str(path))
        self.url = str(path)

    @contextmanager
    def atomic(self, snapshot: bool = False) -> Iterator["SqliteStore"]:
        """A transaction (a savepoint inside one); a SQLite transaction reads one snapshot already."""
        try:
            with super().atomic():
                yield self
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise Busy(f"{self.url}: {exc}") from exc
            raise

    def executemany(self, sql: str, rows: Iterable) -> None:
        self.conn.executemany(sql, rows)

    def lock(self, keys: Iterable[str]) -> None:
        """Nothing to take: SQLite lets one writer at a time through."""

    def try_lock(self, key: str) -> bool:
        """Always had: SQLite lets one writer at a time through."""
        return True

    def use_schema(self, name: str) -> None:
        """Nothing to choose: a SQLite store's tables are all in its one file (`schools.py`)."""

    def copy_in(self, table: str, columns: list[str], rows: Iterable) -> None:
        """Insert many rows of `columns` as they are (a move between stores)."""
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                              rows)

    @property
    def broken(self) -> bool:
        """A SQLite file does not go away under its connection."""
        return False


class NulInText(KioskError):
    """A value with a NUL character (U+0000), which PostgreSQL's text cannot hold (SQLite's can)."""


def _without_nul(params: Iterable) -> list:
    """`params` as a list; `NulInText` when a text among them holds a NUL (refused before the server sees it)."""
    params = list(params)
    if any(isinstance(p, str) and "\x00" in p for p in params):
        raise NulInText("a value holds a NUL character (U+0000), which no text in the store can hold")
    return params


class PostgresStore:
    """A PostgreSQL database through psycopg 3, offering the surface of `SqliteStore`."""

    dialect = "postgresql"
    for_update = " FOR UPDATE"

    def __init__(self, url: str):
        try:
            import psycopg
        except ImportError:
            raise KioskError("a PostgreSQL store needs psycopg: pip install 'psycopg[binary]'") from None
        self.url = url
        try:
            self.conn = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise KioskError(f"{shown(url)}: cannot connect: {reason}") from None
        self.conn.adapters.register_loader("numeric", _number_loader())
        self.sql = Translator(self._primary_key)
        self._keys: dict[str, list[str]] = {}
        self.schema = "public"

    def execute(self, sql: str, params: Optional[Iterable] = None):
        """Run one statement; the cursor, as sqlite3's: fetchone, fetchall, iteration, description."""
        return self.conn.execute(self.sql.translate(sql), _without_nul(params or []))

    def executemany(self, sql: str, rows: Iterable) -> None:
        rows = [_without_nul(r) for r in rows]
        if rows:
            with self.conn.cursor() as cursor:
                cursor.executemany(self.sql.translate(sql), rows)

    def executescript(self, script: str) -> None:
        self.conn.execute(self.sql.script(script))
        self.forget_tables()

    def query(self, sql: str, params: Optional[Iterable] = None) -> Iterator[dict]:
        """Rows as dicts (fetched at once, so the connection is free for the caller's next statement)."""
        from psycopg.rows import dict_row

        with self.conn.cursor(row_factory=dict_row) as cursor:
            cursor.execute(self.sql.translate(sql), _without_nul(params or []))
            rows = cursor.fetchall()
        return iter(rows)

    @contextmanager
    def atomic(self, snapshot: bool = False) -> Iterator["PostgresStore"]:
        """A transaction (a savepoint inside one); `snapshot`: every read sees the same moment."""
        from psycopg import errors
        from psycopg.pq import TransactionStatus

        outermost = self.conn.info.transaction_status == TransactionStatus.IDLE
        try:
            with self.conn.transaction():
                if snapshot and outermost:
                    self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield self
        except (errors.DeadlockDetected, errors.SerializationFailure, errors.LockNotAvailable) as exc:
            raise Busy(f"{shown(self.url)}: {str(exc).splitlines()[0]}") from exc

    def lock(self, keys: Iterable[str]) -> None:
        """Hold each of `keys` until the transaction ends (advisory locks): another transaction locking one waits.

        They are taken in one order, byte by byte, so that two transactions
        never each hold a key the other waits for.
        """
        keys = sorted(set(keys))
        if keys:
            self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM (SELECT k FROM"
                              ' unnest(%s::text[]) AS u(k) ORDER BY k COLLATE "C") AS ordered', [keys]).fetchall()

    def try_lock(self, key: str) -> bool:
        """`key` held until the transaction ends, if no other transaction holds it now; whether it was had."""
        return self.conn.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [key]).fetchone()[0]

    @property
    def broken(self) -> bool:
        """Whether the server closed this connection (restarted, say): a new one is needed."""
        return self.conn.broken or self.conn.closed

    def use_schema(self, name: str) -> None:
        """Work in schema `name` from now on: unqualified tables are its own and no other's (the search path)."""
        if name != self.schema:
            self.conn.execute(f'SET search_path TO "{name}"')
            self.schema = name

    def copy_in(self, table: str, columns: list[str], rows: Iterable) -> None:
        """Insert many rows of `columns` as they are, by COPY; an identity column then counts on from the largest."""
        with self.conn.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            for (column,) in cursor.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
                    " AND table_name = %s AND is_identity = 'YES'", [table]).fetchall():
                cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, %s), COALESCE(MAX({column}), 0) + 1, false)"
                               f" FROM {table}", [table, column])

    def __getitem__(self, table: str) -> "PostgresTable":
        return PostgresTable(self, table)

    def table_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " ORDER BY table_name")]

    def forget_tables(self) -> None:
        """The tables changed (a migration): translations and keys are looked up again."""
        self.sql.forget()
        self._keys.clear()

    def _primary_key(self, table: str) -> list[str]:
        if table not in self._keys:
            rows = self.conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(%s) AND i.indisprimary"
                " ORDER BY array_position(i.indkey, a.attnum)", [table]).fetchall()
            if not rows:
                raise KioskError(f"table {table} has no primary key to replace rows by")
            self._keys[table] = [r[0] for r in rows]
        return self._keys[table]

    def close(self) -> None:
        self.conn.close()


class PostgresTable:
    """`db[table]` on PostgreSQL: the inserts and upserts of sqlite-utils' `Table` the store uses."""

    def __init__(self, db: PostgresStore, name: str):
        self.db, self.name = db, name

    def insert(self, row: dict) -> None:
        self.insert_all([row])

    def insert_all(self, rows: Iterable[dict]) -> None:
        """Insert `rows` (dicts with the same keys) in one COPY."""
        rows = list(rows)
        if rows:
            columns = list(rows[0])
            with self.db.conn.cursor() as cursor:
                with cursor.copy(f"COPY {self.name} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([row[c] for c in columns])

    def upsert_all(self, rows: Iterable[dict], pk: str | Iterable[str]) -> None:
        """Insert `rows`, or update the columns they carry where the key `pk` is already held."""
        key = [pk] if isinstance(pk, str) else list(pk)
        rows = list(rows)
        if rows:
            updates = [f"{c} = EXCLUDED.{c}" for c in rows[0] if c not in key]
            self._write(rows, f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(updates)}")

    def exists(self) -> bool:
        return self.db.conn.execute("SELECT to_regclass(%s) IS NOT NULL", [self.name]).fetchone()[0]

    @property
    def count(self) -> int:
        return self.db.conn.execute(f"SELECT COUNT(*) FROM {self.name}").fetchone()[0]

    def _write(self, rows: list[dict], conflict: str) -> None:
        columns = list(rows[0])
        sql = (f"INSERT INTO {self.name} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
               + conflict)
        with self.db.conn.cursor() as cursor:
            cursor.executemany(sql, [[row[c] for c in columns] for row in rows])


def _number_loader():
    """PostgreSQL's numeric (a SUM of integers) read as int or float, as SQLite gives them, not Decimal."""
    from psycopg.types.numeric import NumericLoader

    class Number(NumericLoader):
        def load(self, data):
            value = super().load(data)
            return int(value) if value == value.to_integral_value() else float(value)

    return Number
