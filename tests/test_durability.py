"""What the kiosk printed as done survives SIGKILL at any moment.

`kiosk simulate` runs as a real process on a long script and is killed with
SIGKILL at random moments, many times, each time continuing the script after
the last outcome it printed. Every printed outcome that names a record must
be in the log exactly once, and the database must open clean.
"""

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kiosk import store

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "kiosk" / "demo" / "files"
KIND = {"checkout": "checkout", "return": "return", "renew": "renew", "refused": "refused",
        "unknown_tag": "unknown_tag"}


def long_script(lines: int) -> list[str]:
    cards = ["04A1B2C3", "0A0B0C0D", "1B2C3D4E", "4E5F6071"]
    books = ["04112233445566", "04223344556677", "04334455667788", "04445566778899", "045566778899AA",
             "0466778899AABB", "04778899AABBCC", "04DDEEFF001122", "04EEFF00112233", "04DEADBEEF0001"]
    rng = random.Random(7)
    out = []
    for n in range(lines):
        if n % 6 == 0:
            out.append(f"tap {cards[(n // 6) % len(cards)]}")
        elif n % 6 == 5:
            out.append("press done")
        else:
            out.append(f"tap {rng.choice(books)}")
        out.append("wait 3")
    # Each line names its place, so a restart can continue after it.
    return [f"{line} # L{i}" for i, line in enumerate(out)]


def test_sigkill_never_loses_or_duplicates_a_printed_record(tmp_path):
    db_path = tmp_path / "kiosk.db"
    kiosk = [sys.executable, "-m", "kiosk.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["init", "--db", db_path, "--kiosk-id", "door-1"],
                 ["import", "patrons", DEMO / "patrons.csv", "--db", db_path],
                 ["import", "items", DEMO / "items.csv", "--db", db_path]):
        subprocess.run(kiosk + [str(a) for a in args], check=True, env=env, capture_output=True)

    script = long_script(3000)
    done = 0  # script lines whose outcome was printed
    printed: list[dict] = []
    rng = random.Random(11)
    kills = 0
    while done < len(script) and kills < 60:
        path = tmp_path / f"part{kills}.script"
        path.write_text("at 2026-11-23T09:00:00+08:00\n" + "\n".join(script[done:]) + "\n")
        proc = subprocess.Popen(kiosk + ["simulate", str(path), "--db", str(db_path)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, text=True)
        time.sleep(rng.uniform(0.25, 0.9))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        out, err = proc.communicate()
        for line in out.splitlines():
            try:
                outcome = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut off by the kill: never counted
            printed.append(outcome)
            tag = outcome["input"].split("# L")[-1]
            if tag.isdigit():
                done = max(done, int(tag) + 1)
        if proc.returncode == 0:
            break
    assert kills >= 5, "the process was never killed mid-script: make the script longer"

    raw = sqlite3.connect(db_path)
    assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    seqs = [r[0] for r in raw.execute("SELECT seq FROM log WHERE kiosk_id = 'door-1' ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1)), "sequence numbers have a gap or a repeat"
    db = store.open_db(db_path)
    log = {r["seq"]: r for r in store.iter_log(db)}
    with_record = [o for o in printed if o["record"] is not None]
    assert len(with_record) > 100
    claimed = [seq for o in with_record for seq in o["records"]]
    assert len(claimed) == len(set(claimed)), "two printed outcomes claim the same record"
    for outcome in with_record:
        record = log[outcome["record"]]
        assert record["kind"] == KIND.get(outcome["outcome"], record["kind"])
        assert record["item_id"] == outcome["item"]
    # Every current loan is explained by a checkout or renewal in the log.
    for loan in db.query("SELECT * FROM loans"):
        assert log[loan["seq"]]["item_id"] == loan["item_id"]
