"""The librarian's log page at 1,000,000 records, over HTTP and logged in: p95 per filter (target: 200 ms).

    python bench/pages_log.py [--records N] [--repeat 40]

A school's year of records from 13 kiosks (1,200 patrons in 36 classes,
20,000 books) is written into a central store, which `kiosk-central serve`
then opens as it would after an upgrade or a restart: nobody runs ANALYZE,
the store keeps its query statistics itself. A librarian logs in (the login
form's CSRF token and cookie, as a browser does) and asks for /log pages:
single filters, combined ones (kind and class, kiosk and kind, class and a
date range), and deep pages, following "Older records" twenty pages down
and opening a page from the middle of the log. Each figure is the p95 of
whole requests (query, page rendered, answer read) against a baseline in the
same run: the newest 50 records with no filter.
"""

from __future__ import annotations

import argparse
import html
import random
import re
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from sync_common import central_db, central_store

from report import figure
from sync.server.auth import hash_password

TARGET = 0.200
KINDS = {"checkout": 30, "return": 29, "renew": 9, "refused": 14, "not_on_loan": 6, "unknown_tag": 2, "inventory": 10}
KIOSKS = [f"cabinet-{n}" for n in range(12)] + ["door"]
PATRONS, ITEMS, CLASSES = 1200, 20000, [f"{grade}{room}" for grade in range(1, 7) for room in "ABCDEF"]
START = datetime(2025, 9, 1, tzinfo=timezone.utc)
PASSWORD = "a librarian's long password"
DEPTH = 20  # "Older records" followed this many times
WARM_UP = 10
BASELINE = "newest 50, no filter"


def fill(records: int):
    """A `prepare` for `central_store`: the school, its librarian, `records` log records, some flagged."""
    def prepare(db) -> None:
        # Setting up only: a power cut here loses nothing anyone needs, and a
        # large cache keeps the log's indexes in memory while they fill.
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -262144")
        rng = random.Random(1)
        kinds = rng.choices(list(KINDS), weights=list(KINDS.values()), k=records)
        central_db.set_librarian(db, "bench", hash_password(PASSWORD))
        with db.atomic():
            db.conn.executemany("INSERT INTO patrons (id, name, type, class_name, status, rev) VALUES (?, ?, 'student',"
                                " ?, 'active', 0)", [(f"S{n:05d}", f"Student {n}", CLASSES[n % 36]) for n in range(PATRONS)])
            db.conn.executemany("INSERT INTO items (id, title, status, rev) VALUES (?, ?, 'available', 0)",
                                [(f"B{n:05d}", f"Book {n}") for n in range(ITEMS)])
        seqs = dict.fromkeys(KIOSKS, 0)
        step = 365 * 86400 / records
        for first in range(0, records, 50000):
            rows, flags = [], []
            for n in range(first, min(records, first + 50000)):
                kiosk = rng.choice(KIOSKS)
                seqs[kiosk] += 1
                at = (START + timedelta(seconds=n * step)).isoformat(timespec="milliseconds")
                patron = rng.randrange(PATRONS) if kinds[n] != "unknown_tag" else None
                flagged = rng.random() < 0.01
                rows.append((kiosk, seqs[kiosk], kinds[n], at, at, 1, None if patron is None else f"S{patron:05d}",
                             None if kinds[n] == "unknown_tag" else f"B{rng.randrange(ITEMS):05d}", "{}",
                             int(flagged), None if patron is None else CLASSES[patron % 36]))
                if flagged and kinds[n] == "checkout":
                    flags.append((kiosk, seqs[kiosk], rows[-1][7], "double_checkout", "bench"))
            with db.atomic():
                db.conn.executemany("INSERT INTO log (kiosk_id, seq, kind, at, corrected_at, trusted, patron_id,"
                                    " item_id, details, flagged, class_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                    rows)
                db.conn.executemany("INSERT INTO merge_flags (kiosk_id, seq, item_id, reason, detail)"
                                    " VALUES (?, ?, ?, ?, ?)", flags)
        db.execute("PRAGMA synchronous = FULL")
    return prepare


def login(url: str) -> requests.Session:
    """A logged-in librarian's browser session: the login form's token and cookie, then the password."""
    browser = requests.Session()
    form = browser.get(f"{url}/login", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    answer = browser.post(f"{url}/login", data={"name": "bench", "password": PASSWORD, "csrf": token}, timeout=30)
    if answer.status_code != 200 or "kiosk_session" not in browser.cookies:
        raise SystemExit(f"the librarian could not log in ({answer.status_code})")
    return browser


def page(browser: requests.Session, url: str, params: dict) -> tuple[float, str]:
    """Seconds for one whole /log request, and the key of its "Older records" link ('' on the last page)."""
    start = time.perf_counter()
    answer = browser.get(f"{url}/log", params=params, timeout=60)
    seconds = time.perf_counter() - start
    if answer.status_code != 200 or "<h1>Log</h1>" not in answer.text:
        raise SystemExit(f"/log {params} answered {answer.status_code}")
    older = re.findall(r"before=([^\"&]+)\"", answer.text)
    return seconds, html.unescape(requests.utils.unquote(older[-1])) if older else ""


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) > 1 else samples[0]


def requests_to_time(rng: random.Random) -> dict:
    """Name -> a function giving the parameters of one request of that kind."""
    def day(fraction: float) -> str:
        return (START + timedelta(days=365 * fraction)).date().isoformat()

    def kind():
        return rng.choice(list(KINDS))

    def klass():
        return rng.choice(CLASSES)

    return {
        "kind": lambda: {"kind": kind()},
        "class": lambda: {"klass": klass()},
        "kiosk": lambda: {"kiosk": rng.choice(KIOSKS)},
        "patron": lambda: {"patron": f"S{rng.randrange(PATRONS):05d}"},
        "book": lambda: {"item": f"B{rng.randrange(ITEMS):05d}"},
        "flagged": lambda: {"flagged": "1"},
        "kind + class": lambda: {"kind": kind(), "klass": klass()},
        "kiosk + kind": lambda: {"kiosk": rng.choice(KIOSKS), "kind": kind()},
        "class + a week": lambda: {"klass": klass(), "since": (d := day(rng.random() * 0.95)),
                                   "until": (datetime.fromisoformat(d) + timedelta(days=7)).date().isoformat()},
        "kind + class, mid-log page": lambda: {"kind": kind(), "klass": klass(),
                                              "before": f"{day(0.5)}T00:00:00.000+00:00|door|1"},
    }


def deep(browser, url: str, params: dict, pages: int) -> list[float]:
    """Follow "Older records" `pages` times from the first page; the seconds of each page after the first."""
    seconds, key = page(browser, url, params)
    times = []
    for _ in range(pages):
        if not key:
            break
        seconds, key = page(browser, url, {**params, "before": key})
        times.append(seconds)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=40, help="requests timed per filter")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with central_store(Path(tmp), [], prepare=fill(args.records)) as central:
            print(f"{args.records:,} log records written and the store started in {time.perf_counter() - t0:.1f} s;"
                  f" statistics it keeps: {statistics_held(central.db)}")
            base, results = measure(central.url, args.repeat)
        show(base, results)


def measure(url: str, repeat: int) -> tuple[float, dict[str, float]]:
    """Logged in to the store at `url`: the baseline's p95 and each request's (seconds)."""
    browser = login(url)
    for _ in range(WARM_UP):  # the server's worker threads open their connections
        page(browser, url, {})
    # Round after round through every request, so that a noisy neighbour hurts all alike.
    made = {BASELINE: lambda: {}, **requests_to_time(random.Random(2))}
    samples = {name: [] for name in made}
    for _ in range(repeat):
        for name, make in made.items():
            samples[name].append(page(browser, url, make())[0])
    results = {name: p95(times) for name, times in samples.items()}
    base = results.pop(BASELINE)
    deeper = [s for klass in ("3B", "5E") for s in deep(browser, url, {"kind": "checkout", "klass": klass}, DEPTH)]
    if deeper:  # a log too short has no second page
        results[f"kind + class, pages 2-{DEPTH + 1}"] = p95(deeper)
    return base, results


def show(base: float, results: dict[str, float], where: str = "") -> None:
    """Each p95 against the baseline and the target, printed and noted for the table (`where`: the store)."""
    print(f"  baseline: {BASELINE:<30} p95 {base * 1000:7.1f} ms")
    for name, value in results.items():
        print(f"  {name:<40} p95 {value * 1000:7.1f} ms   {value / base:5.1f} x baseline   "
              f"target <= {TARGET * 1000:.0f} ms")
        figure(f"/log p95{where}, {name}", value * 1000, "ms", baseline=base * 1000, baseline_is=BASELINE,
               at_most=TARGET * 1000)


def statistics_held(db) -> str:
    """Which of the log's indexes the query planner has statistics for."""
    found = db.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone()
    rows = db.execute("SELECT idx FROM sqlite_stat1 WHERE tbl = 'log'").fetchall() if found else []
    return ", ".join(sorted(r[0] for r in rows)) or "none"


if __name__ == "__main__":
    main()
