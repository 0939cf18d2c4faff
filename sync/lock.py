"""At most one sync process per kiosk database, and how the screen asks it to sync now.

The sync process holds a POSIX lock on a file beside the database
(`kiosk.db.sync.lock`) and writes its pid there. The lock goes with the
process, however it ends (SIGKILL too), so a stale file never blocks a new
start. The staff screen's "sync now" asks the kernel which process holds the
lock (F_GETLK) and sends it SIGUSR1: never a second sync process, and never
a signal to a process that merely reused an old pid.
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
from pathlib import Path
from typing import Optional

from kiosk.domain.errors import KioskError

LOCK_SUFFIX = ".sync.lock"
# struct flock: l_type, l_whence, l_start, l_len, l_pid (native alignment,
# 64-bit offsets as Python is built with large-file support).
_FLOCK = "hhqqi"


class SyncRunning(KioskError):
    """Another sync process holds the database's sync lock."""

    def __init__(self, message: str, pid: Optional[int]):
        super().__init__(message)
        self.pid = pid


def lock_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}{LOCK_SUFFIX}")


class SyncLock:
    """The sync lock of one database, held from `acquire()` until `release()` or the process's end."""

    def __init__(self, db_path: str | Path):
        self.db_path = db_path
        self.path = lock_path(db_path)
        self.fd: Optional[int] = None

    def acquire(self) -> "SyncLock":
        """Take the lock, or raise `SyncRunning` naming the process that has it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            pid = holder(self.db_path)
            raise SyncRunning(f"{self.db_path}: another sync process (pid {pid}) is running for this database",
                              pid) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def release(self) -> None:
        """Let the lock go (closing the file releases it); safe twice."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "SyncLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def holder(db_path: str | Path) -> Optional[int]:
    """The pid of the process holding the database's sync lock, None when no sync process runs.

    Asked of another process: POSIX locks never conflict with the asking
    process's own.
    """
    try:
        fd = os.open(lock_path(db_path), os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        kind, _, _, _, pid = struct.unpack(_FLOCK, fcntl.fcntl(fd, fcntl.F_GETLK, query))
    finally:
        os.close(fd)
    return None if kind == fcntl.F_UNLCK else pid


def ask_sync_now(db_path: str | Path) -> Optional[int]:
    """Send SIGUSR1 ("sync now") to the database's sync process; its pid, or None when none runs."""
    pid = holder(db_path)
    if pid is not None:
        os.kill(pid, signal.SIGUSR1)
    return pid
