"""The central store's storage: all of its SQL, one module per subject.

Functions take the database and return dicts. `schema` holds the tables and
migrations; `kiosks`, `push`, `pull`, `catalog`, `staging`, `reports`,
`accounts`, `audit` and `privacy` the statements of each subject. The names below are
the package's whole surface, so callers write `db.push(...)` wherever the
statement lives.
"""

from sync.server.db.accounts import (
    end_session, librarian_hash, rehash_librarian, session, set_librarian, start_session,
)
from sync.server.db.audit import audit, audit_now, register
from sync.server.db.catalog import (
    all_rows, attach_uid, find_rows, get_rules, import_csv, parse_csv, rules_table, save_rules, set_rules, set_status,
    uid_owners, uids_in_use,
)
from sync.server.db.kiosks import add_kiosk, kiosk_for_token, kiosks
from sync.server.db.privacy import forget_returned
from sync.server.db.pull import changes
from sync.server.db.push import push, remerge_item
from sync.server.db.reports import (
    LOG_FILTERS, browse_log, current_loans, flagged, log_records, reading_statistics, resolve_flag, term_start,
    unknown_tags,
)
from sync.server.db.schema import CentralError, Conflict, iso, migrations, next_revs, open_db, utc_now
from sync.server.db.staging import apply_staged, save_items, save_patrons, stage

__all__ = [
    "end_session", "librarian_hash", "rehash_librarian", "session", "set_librarian", "start_session", "audit",
    "audit_now", "register", "all_rows", "attach_uid", "find_rows", "get_rules", "import_csv", "parse_csv",
    "rules_table", "save_rules", "set_rules", "set_status", "uid_owners", "uids_in_use", "add_kiosk",
    "kiosk_for_token", "kiosks", "forget_returned", "changes", "push", "remerge_item", "LOG_FILTERS", "browse_log",
    "current_loans", "flagged", "log_records", "reading_statistics", "resolve_flag", "term_start", "unknown_tags",
    "apply_staged", "save_items", "save_patrons", "stage", "CentralError", "Conflict", "iso", "migrations",
    "next_revs", "open_db", "utc_now",
]
