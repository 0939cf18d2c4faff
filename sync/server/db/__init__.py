"""The central store's storage: all of its SQL, one module per subject.

Functions take the database and return dicts. `schema` holds the tables and
migrations; `kiosks`, `push`, `pull`, `catalog`, `reports`, `accounts`,
`audit` and `privacy` the statements of each subject. The names below are
the package's whole surface, so callers write `db.push(...)` wherever the
statement lives.
"""

from sync.server.db.accounts import end_session, librarian_hash, session, set_librarian, start_session
from sync.server.db.audit import audit, audit_now, register
from sync.server.db.catalog import (
    all_rows, attach_uid, find_rows, get_rules, import_csv, save_items, save_patrons, save_rules, set_rules,
    set_status, uids_in_use,
)
from sync.server.db.connection import Busy, connect, is_postgres, shown, write_lock
from sync.server.db.kiosks import add_kiosk, kiosk_for_token, kiosks
from sync.server.db.privacy import forget_returned
from sync.server.db.pull import changes
from sync.server.db.push import push, remerge_item
from sync.server.db.reports import (
    LOG_FILTERS, browse_log, current_loans, flagged, log_records, reading_statistics, resolve_flag, term_start,
    unknown_tags,
)
from sync.server.db.schema import CentralError, Conflict, iso, migrations, next_revs, open_db, utc_now

__all__ = [
    "end_session", "librarian_hash", "session", "set_librarian", "start_session", "audit", "audit_now", "register",
    "all_rows", "attach_uid", "find_rows", "get_rules", "import_csv", "save_items", "save_patrons", "save_rules",
    "set_rules", "set_status", "uids_in_use", "add_kiosk", "kiosk_for_token", "kiosks", "forget_returned", "changes",
    "push", "remerge_item", "LOG_FILTERS", "browse_log", "current_loans", "flagged", "log_records",
    "reading_statistics", "resolve_flag", "term_start", "unknown_tags", "CentralError", "Conflict", "iso",
    "migrations", "next_revs", "open_db", "utc_now", "Busy", "connect", "is_postgres", "shown", "write_lock",
]
