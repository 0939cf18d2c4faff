"""A throwaway PostgreSQL cluster for tests and benchmarks: initdb, pg_ctl, a unix socket in a temp folder.

Debian's `postgresql` package puts initdb and pg_ctl under
/usr/lib/postgresql/VERSION/bin. They refuse to run as root, so a root
process runs them as the `postgres` system user the package made. Nothing
listens on the network: clients connect through the socket in the folder,
which goes when the cluster stops.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional


def binaries() -> Optional[Path]:
    """The folder holding initdb and pg_ctl (the newest installed), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(folders[-1]).parent if folders else None


class Cluster:
    """A cluster of its own in a temp folder: start(), new_database() -> URL, stop().

    `durable=False` (tests) turns off fsync; a benchmark keeps PostgreSQL's
    defaults, as a district's server runs it.
    """

    def __init__(self, durable: bool = False, max_connections: int = 100):
        self.bin = binaries()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self.folder = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
        self.data, self.socket = self.folder / "data", self.folder / "socket"
        self.socket.mkdir()
        self.user = None if os.geteuid() != 0 else pwd.getpwnam("postgres")
        if self.user is not None:
            for path in (self.folder, self.socket):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        self.settings = {"listen_addresses": "''", "unix_socket_directories": f"'{self.socket}'",
                         "max_connections": str(max_connections), "shared_buffers": "'128MB'"}
        if not durable:
            self.settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        self.names = itertools.count(1)

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user is not None:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.folder)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> "Cluster":
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in self.settings.items())
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "start")
        return self

    def restart(self) -> None:
        """Stop the server at once (as a crash would) and start it again: every connection is broken."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-w", "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket}"

    def new_database(self) -> str:
        """A fresh empty database; its URL."""
        import psycopg

        name = f"store_{next(self.names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
