"""Pages of changes for the kiosks: every row changed after a cursor, in change order."""

from __future__ import annotations

import json
from typing import Any

from sync.protocol import HOME_FIELDS, ITEM_FIELDS, LOAN_FIELDS, PATRON_FIELDS, READING_TABLES

PATRON_SELECT = [f if f != "status" else "CASE WHEN owes_block = 1 THEN 'blocked' ELSE status END AS status"
                 for f in PATRON_FIELDS]


def changes(db, since: int, limit: int) -> dict:
    """Rows changed after change number `since`, at most `limit` in all."""
    queries = {
        # A patron owing more than the school allows is blocked at the kiosks (db/charges.py).
        "patrons": f"SELECT {', '.join(PATRON_SELECT)}, rev FROM patrons WHERE rev > ? ORDER BY rev LIMIT ?",
        "items": f"SELECT {', '.join(ITEM_FIELDS)}, rev FROM items WHERE rev > ? ORDER BY rev LIMIT ?",
        "homes": f"SELECT {', '.join(HOME_FIELDS)}, rev FROM homes WHERE rev > ? ORDER BY rev LIMIT ?",
        "loans": f"SELECT {', '.join(LOAN_FIELDS)}, rev FROM loans WHERE rev > ? ORDER BY rev LIMIT ?",
        "loans_removed": "SELECT item_id, rev FROM loans_removed WHERE rev > ? ORDER BY rev LIMIT ?",
        "rules": "SELECT key, value, rev FROM rules WHERE rev > ? ORDER BY rev LIMIT ?",
        **{table: f"SELECT {', '.join(fields)}, rev FROM {table} WHERE rev > ? ORDER BY rev LIMIT ?"
           for table, fields in READING_TABLES.items()},
    }
    found: list[tuple[int, str, dict]] = []
    with db.atomic(snapshot=True):  # one snapshot for every table
        for table, sql in queries.items():
            found.extend((row["rev"], table, row) for row in db.query(sql, [since, limit + 1]))
    found.sort(key=lambda t: t[0])
    more = len(found) > limit
    found = found[:limit]
    out: dict[str, Any] = {"patrons": [], "items": [], "homes": [], "loans": [], "loans_removed": [], "rules": None,
                           **{table: [] for table in READING_TABLES}}
    for rev, table, row in found:
        row.pop("rev")
        for column in ("entries", "also"):
            if column in row:
                row[column] = json.loads(row[column])
        if table == "loans_removed":
            out["loans_removed"].append(row["item_id"])
        elif table == "rules":
            out["rules"] = json.loads(row["value"])
        else:
            out[table].append(row)
    out["cursor"] = str(found[-1][0] if found else since)
    out["more"] = more
    return out
