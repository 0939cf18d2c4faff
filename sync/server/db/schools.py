"""Schools: a store holds one or many, and each school's tables are its own.

A school's kiosks, patrons, items, loans, log, rules, librarians and
registers are the tables every other module here reads and writes,
unqualified. On PostgreSQL each school has them in a schema of its own
(`school_1`, `school_2`, ...), and a connection works in one school at a time
(`use_school` sets the search path to that schema alone): no statement can
reach another school's rows, however a page's SQL is written. The district's
own tables (`district_schools`, `district_accounts`: which school each
librarian belongs to) are in `public`; the district's accounts keep their
passwords, sessions and registers in a schema shaped like a school's,
`district`, whose catalogue stays empty.

A SQLite store holds one school, in its one file with the district's tables:
a district keeps its schools in PostgreSQL (`kiosk-central move-to`). A store
with one school looks as it always did: nothing asks which school.
"""

from __future__ import annotations

from typing import Optional

from sync.server.db.accounts import set_librarian
from sync.server.db.kiosks import DESK_ID
from sync.server.db.migrate import Migrations
from sync.server.db.schema import CentralError, epoch, iso, migrations, new_epoch, utc_now

DISTRICT = 0  # the scope of the district's own accounts
FIRST = "school"  # the name of a store's first school until it is given one

district_migrations = Migrations("district")


@district_migrations(name="district_0001_schools")
def _schools(db) -> None:
    db.executescript("""
    CREATE TABLE district_schools (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created TEXT NOT NULL);
    CREATE TABLE district_accounts (name TEXT PRIMARY KEY, school_id INTEGER NOT NULL);
    """)
    db.execute("INSERT INTO district_schools (id, name, created) VALUES (1, ?, ?)", [FIRST, iso(utc_now())])
    if db.dialect == "sqlite":  # a store made before schools: its librarians are its one school's
        db.execute("INSERT INTO district_accounts (name, school_id) SELECT name, 1 FROM librarians")


def registry(db, table: str) -> str:
    """The name of one of the district's own tables (`district_...`) as any school's connection reaches it."""
    return f"public.{table}" if db.dialect == "postgresql" else table


def schema_of(school_id: int) -> str:
    """The PostgreSQL schema holding a school's tables."""
    return "district" if school_id == DISTRICT else f"school_{int(school_id)}"


def use_school(db, school_id: int) -> None:
    """Work in one school (or the district's accounts) from now on; call it outside a transaction."""
    db.use_schema(schema_of(school_id))
    db.school_id = school_id


def schools(db) -> list[dict]:
    """Every school of the store: id and name, in the order they were added."""
    return list(db.query(f"SELECT id, name FROM {registry(db, 'district_schools')} ORDER BY id"))


def school_id(db, name: Optional[str] = None) -> int:
    """The school named `name`, or the store's only school; `CentralError` saying which names there are."""
    found = schools(db)
    if name is not None:
        for school in found:
            if school["name"] == name:
                return school["id"]
        raise CentralError(f"no school named {name!r} in this store (kiosk-central add-school adds one); it holds "
                           + ", ".join(s["name"] for s in found))
    if len(found) == 1:
        return found[0]["id"]
    raise CentralError(f"this store holds {len(found)} schools ({', '.join(s['name'] for s in found)}):"
                       " name one with --school")


def migrate_all(db) -> dict[str, list[str]]:
    """Apply every pending migration: the district's tables and each school's; the names applied, by place."""
    if db.dialect == "sqlite":
        done = {"store": migrations.apply(db)}
        done["store"] += district_migrations.apply(db)
        return done
    db.use_schema("public")
    done = {"district": district_migrations.apply(db)}
    for school in [{"id": DISTRICT, "name": "district accounts"}] + schools(db):
        db.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_of(school["id"])}"')
        db.use_schema(schema_of(school["id"]))
        done[school["name"]] = migrations.apply(db)
    db.use_schema("public")
    return done


def holds_nothing(db, school: int) -> bool:
    """Whether a school has no kiosk (but the librarian's desk), patron, book, record or librarian yet."""
    use_school(db, school)
    return not db.execute("SELECT 1 FROM kiosks WHERE id != ? LIMIT 1", [DESK_ID]).fetchone() and not any(
        db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() for table in ("patrons", "items", "log", "librarians"))


def add_school(db, name: str) -> int:
    """A new school (on PostgreSQL), or a name for the store's first school while it holds nothing; its id."""
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise CentralError(f"school name {name!r}: 1 to 64 printable characters")
    found = schools(db)
    if any(s["name"] == name for s in found):
        raise CentralError(f"school {name} is already in this store")
    if len(found) == 1 and found[0]["name"] == FIRST and holds_nothing(db, found[0]["id"]):
        with db.atomic():
            db.execute(f"UPDATE {registry(db, 'district_schools')} SET name = ? WHERE id = ?", [name, found[0]["id"]])
        return found[0]["id"]
    if db.dialect == "sqlite":
        raise CentralError("a SQLite store holds one school; a district keeps its schools in PostgreSQL"
                           " (kiosk-central move-to URL --school NAME moves this one there)")
    new = max(s["id"] for s in found) + 1
    with db.atomic():
        db.execute(f"INSERT INTO {registry(db, 'district_schools')} (id, name, created) VALUES (?, ?, ?)",
                   [new, name, iso(utc_now())])
    migrate_all(db)
    return new


def renew_epochs(db) -> dict[str, str]:
    """A new epoch (identity, `schema._epoch`) for every school, after a restore; the new ones by school name."""
    out = {}
    for school in schools(db):
        use_school(db, school["id"])
        with db.atomic():
            db.execute("UPDATE store SET value = ? WHERE key = 'epoch'", [new_epoch()])
        out[school["name"]] = epoch(db)
    return out


def account_school(db, name: str) -> Optional[int]:
    """The school whose librarian `name` is (`DISTRICT` for a district account), or None."""
    row = db.execute(f"SELECT school_id FROM {registry(db, 'district_accounts')} WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def add_librarian(db, name: str, password_hash: str, school: int) -> None:
    """A librarian of `school` (or a district account), or a new password (ending her sessions).

    Names are unique in the whole store: the login form asks no school.
    """
    held = account_school(db, name)
    if held is not None and held != school:
        where = "a district account" if held == DISTRICT else f"a librarian of {_name(db, held)}"
        raise CentralError(f"{name} is already {where}; choose another name")
    use_school(db, school)
    with db.atomic():
        if held is None:
            db.execute(f"INSERT INTO {registry(db, 'district_accounts')} (name, school_id) VALUES (?, ?)",
                       [name, school])
        set_librarian(db, name, password_hash)


def _name(db, school: int) -> str:
    return next((s["name"] for s in schools(db) if s["id"] == school), str(school))


def kiosk_anywhere(db, token_hash: str) -> Optional[tuple[int, str]]:
    """The school and id of the kiosk whose token has this hash, in whichever school it is."""
    if db.dialect == "sqlite":
        row = db.execute("SELECT id FROM kiosks WHERE token_hash = ?", [token_hash]).fetchone()
        return (1, row[0]) if row else None
    union = " UNION ALL ".join(f'SELECT {s["id"]} AS school, id FROM "{schema_of(s["id"])}".kiosks'
                               " WHERE token_hash = ?" for s in schools(db))
    row = db.execute(union, [token_hash] * union.count("?")).fetchone()
    return (row[0], row[1]) if row else None
