"""`make demo`: the whole system on demo data.

A central store on loopback holding the demo patrons and books, a kiosk that
pulls them from it, and its sync process. With a display the kiosk opens in
a window where keys stand for taps; without one the demo script runs through
the same kiosk in the terminal and prints what a student would see.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from kiosk import store
from kiosk.app import Kiosk, run_script
from kiosk.clock import ScriptClock
from kiosk.config import Config
from kiosk.demo import DATA
from kiosk.demo.history import HISTORY_KIOSK, push_history, term_history
from kiosk.i18n import translator

# The librarian's pages of the demo's central store (its database is made anew each time).
DEMO_LIBRARIAN, DEMO_PASSWORD = "demo", "demo-library"


def transcript(db_path: Path, out=sys.stdout) -> None:
    """Run the demo script and print each outcome as a person would read it."""
    db = store.open_db(db_path)
    clock = ScriptClock()
    kiosk = Kiosk(db, Config(), clock, translate=translator)

    def emit(outcome: dict) -> None:
        what = outcome["input"].split("#", 1)[-1].strip() if "#" in outcome["input"] else outcome["input"]
        mark = {"ok": "[green]", "error": "[red]  ", "fault": "[blink]"}.get(outcome["led"] or "", "       ")
        record = f"  (record {outcome['record']})" if outcome["record"] else ""
        progress = outcome.get("progress")
        read = f"  [{progress['term_books']} of {progress['term_goal']} books this term]" if progress else ""
        print(f"{mark} {outcome['screen']:8} {outcome['message']}{read}{record}   <- {what}", file=out)

    with open(DATA / "demo.script", encoding="utf-8") as lines:
        run_script(kiosk, clock, lines, emit, source="demo.script")
    print("\nThe kiosk's status:", json.dumps(store.status(db), ensure_ascii=False), file=out)


def script_start() -> datetime:
    """The time the demo script starts at (its first `at` line)."""
    with open(DATA / "demo.script", encoding="utf-8") as lines:
        return next(datetime.fromisoformat(line.split()[1]) for line in lines if line.startswith("at "))


def start_central(folder: Path, now: datetime) -> tuple[subprocess.Popen, str, str]:
    """A central store on loopback holding the demo patrons and items, and the term's reading before `now`;
    returns it, its URL and a kiosk token."""
    from sync.server import db as central_db
    from sync.server.auth import hash_password

    path = folder / "central.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = central_db.init_db(path)
    central_db.import_csv(db, "patrons", (DATA / "patrons.csv").read_text(encoding="utf-8"), "patrons.csv")
    central_db.import_csv(db, "items", (DATA / "items.csv").read_text(encoding="utf-8"), "items.csv")
    token = central_db.add_kiosk(db, "demo-door", "Library door")
    # The term so far: the demo students have read some books, so My reading shows their progress.
    central_db.add_kiosk(db, *HISTORY_KIOSK)
    push_history(db, HISTORY_KIOSK[0], term_history(now, central_db.get_rules(db)), now)
    central_db.save_settings(db, "demo", {"school_name": "Demo Primary School", "timezone": "Asia/Shanghai"})
    central_db.set_librarian(db, DEMO_LIBRARIAN, hash_password(DEMO_PASSWORD))
    db.conn.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "sync.server.cli", "serve", "--db", str(path),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server, url, token
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("the demo's central store did not start")


def write_config(folder: Path, url: str, token: str) -> Path:
    path = folder / "kiosk.toml"
    path.write_text(f'''# The demo kiosk: fake hardware, a window, the central store on loopback.
[kiosk]
id = "demo-door"
name = "Library door"
[hardware]
driver = "fake"
[screen]
fullscreen = false
[central]
url = "{url}"
token = "{token}"
interval = 5
''', encoding="utf-8")
    return path


def main() -> None:
    from kiosk.config import load_config
    from kiosk.demo.keys import DemoKeys
    from kiosk.run import display_available
    from sync.client import SyncClient

    folder = Path("demo-data")
    folder.mkdir(exist_ok=True)
    ok, why = display_available()
    # The reading so far ends now in the window, where the kiosk's clock is the real one; in the terminal
    # it ends where the demo script's morning starts.
    server, url, token = start_central(folder, datetime.now(timezone.utc).astimezone() if ok else script_start())
    processes = [server]
    try:
        config_path = write_config(folder, url, token)
        config = load_config(config_path)
        db_path = folder / "kiosk.db"
        store.remove_db(db_path)  # the demo starts over on purpose
        db = store.init_db(db_path, "demo-door")
        SyncClient(db, config).run_once()  # the catalog comes from the central store
        print(f"Central store at {url} (its database: {folder / 'central.db'}); "
              f"the kiosk pulled {store.status(db)['patrons']} patrons and {store.status(db)['items']} items.")
        print(f"The librarian's pages: {url}/desk (log in as {DEMO_LIBRARIAN}, password {DEMO_PASSWORD}).")
        if ok:
            processes.append(subprocess.Popen([sys.executable, "-m", "kiosk.cli", "sync", "--db", str(db_path),
                                               "--config", str(config_path)], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
            print("The kiosk opens in a window; keys stand for taps (the window's bottom line has a legend). "
                  "A librarian card (L) offers Exit; Ctrl+C here ends the demo.")
            print(DemoKeys().describe())
            kiosk = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", "--db", str(db_path), "--config",
                                      str(config_path), "--window", "--demo"])
            try:
                kiosk.wait()
            except KeyboardInterrupt:
                kiosk.send_signal(signal.SIGINT)  # a windowed kiosk stops cleanly on SIGINT
                kiosk.wait(15)
                print("\nDemo ended.")
        else:
            print(f"No kiosk window: {why}. Running the demo script in the terminal instead.\n")
            transcript(db_path)
            client = SyncClient(store.open_db(db_path), config)
            print("\nSyncing with the central store:", "done" if client.run_once() else "failed")
            subprocess.run([sys.executable, "-m", "sync.server.cli", "report", "loans", "--db",
                            str(folder / "central.db")])
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
