"""The central store's storage: all of its SQL, one module per subject.

Functions take the database and return dicts. `connection` is the one
surface both backends offer (SQLite, PostgreSQL), `dialect` what PostgreSQL
is told instead of SQLite's spelling, `migrate` the runner; `schema` holds
the tables and migrations, `opening` opening and creating a store, `schools`
the district's tables and which school a connection works in; `kiosks`, `push`,
`remerge`, `pull`, `catalog`, `staging`, `reports`, `accounts`, `audit`, `privacy`,
`showcase`, `homes`, `stocktake`, `district` and `move` the statements of each subject; `desk`,
`charges`, `people` and `settings` the librarian's desk, what lost books
cost, finding people and books, the school's settings; `backup` copies and
restores the whole database. The names below are the package's whole
surface, so callers write `db.push(...)` wherever the statement lives.
"""

from sync.server.db.accounts import (
    end_session, librarian_hash, rehash_librarian, session, set_librarian, start_session,
)
from sync.server.db.audit import audit, audit_now, register
from sync.server.db.backup import backup, restore
from sync.server.db.homes import (
    HOME_REPORT_KEYS, corner_reading, create_rotation, home_history, home_names, homes_list, homes_report, known_home,
    packing_lists, parse_day, rotations, set_home,
)
from sync.server.db.stocktake import (
    REPORT_KEYS, STATES, close_stocktake, reconcile, reconcile_rows, still_missing, stocktake_lists, stocktakes,
)
from sync.server.db.catalog import (
    all_rows, attach_uid, find_rows, get_rules, import_csv, parse_csv, rules_table, save_rules, set_rules, set_status,
    stored_rules, uid_owners, uids_in_use,
)
from sync.server.db.charges import charges_facts, charges_report, list_charges, owed, settle
from sync.server.db.connection import Busy, connect, is_postgres, shown, write_lock
from sync.server.db.desk import (
    change_due_date, close_as, desk_action, find_item, find_patron, loan_of, loans_of, local_today, set_item_status,
)
from sync.server.db.district import district_statistics
from sync.server.db.kiosks import (
    DESK_ID, add_kiosk, hello, kiosk_for_token, kiosk_records, kiosks, round_facts, token_hash,
)
from sync.server.db.move import move_school
from sync.server.db.people import (
    book, classes_matching, item_ids_matching, kiosk_ids_matching, names, patron_ids_matching, person, search_patrons,
)
from sync.server.db.privacy import forget_returned
from sync.server.db.pull import changes
from sync.server.db.push import push
from sync.server.db.remerge import remerge_item
from sync.server.db.reports import (
    LOG_FILTERS, browse_log, current_loans, flagged, log_records, reading_statistics, resolve_flag, term_start,
    unknown_tags,
)
from sync.server.db.schema import CentralError, Conflict, epoch, iso, migrations, next_revs, refresh_statistics, utc_now
from sync.server.db.opening import init_db, migrate, open_db
from sync.server.db.schools import (
    DISTRICT, account_school, add_librarian, add_school, kiosk_anywhere, migrate_all, renew_epochs, school_id, schools,
    use_school,
)
from sync.server.db.settings import get_settings, save_settings, zone
from sync.server.db.showcase import refresh as refresh_showcase
from sync.server.db.staging import apply_staged, save_items, save_patrons, stage

__all__ = [
    "end_session", "librarian_hash", "rehash_librarian", "session", "set_librarian", "start_session", "audit",
    "audit_now", "register", "backup", "restore", "hello", "kiosk_records", "round_facts", "epoch", "init_db",
    "all_rows", "attach_uid", "find_rows", "get_rules", "import_csv", "parse_csv", "rules_table", "stored_rules", "save_rules",
    "set_rules", "set_status", "uid_owners", "uids_in_use", "add_kiosk", "kiosk_for_token", "kiosks",
    "forget_returned", "changes", "push", "remerge_item", "LOG_FILTERS", "browse_log", "current_loans", "flagged",
    "log_records", "reading_statistics", "resolve_flag", "term_start", "unknown_tags", "apply_staged",
    "save_items", "save_patrons", "stage", "CentralError", "Conflict", "iso", "migrations", "next_revs", "open_db",
    "utc_now", "refresh_showcase", "charges_facts", "charges_report", "list_charges", "owed", "settle",
    "change_due_date", "close_as", "desk_action", "find_item", "find_patron", "loan_of", "loans_of", "local_today",
    "set_item_status", "DESK_ID", "get_settings", "save_settings", "zone", "book", "classes_matching",
    "item_ids_matching", "kiosk_ids_matching", "names", "patron_ids_matching", "person", "search_patrons",
    "refresh_statistics", "HOME_REPORT_KEYS", "corner_reading",
    "Busy", "connect", "is_postgres", "shown", "write_lock",
    "token_hash", "DISTRICT", "account_school", "add_librarian", "add_school", "kiosk_anywhere", "migrate_all",
    "school_id", "schools", "use_school", "district_statistics", "move_school", "migrate", "renew_epochs",
    "create_rotation", "home_history", "home_names", "homes_list", "homes_report", "known_home", "packing_lists",
    "parse_day", "rotations", "set_home", "REPORT_KEYS", "STATES", "close_stocktake", "reconcile", "reconcile_rows", "still_missing",
    "stocktake_lists", "stocktakes",
]
