"""Fixtures shared by the test files: the central store on each backend.

`store_url` (one per test) and `module_store_url` (one per test file) are a
SQLite file and a database on a throwaway PostgreSQL cluster (tests/postgres.py),
so that every central-store test runs on both. The PostgreSQL runs are marked
`pg` and `slow`: `pytest -m 'not slow'` is the quick set, on SQLite. With
CI=true a missing PostgreSQL fails the run instead of skipping its tests.
"""

from __future__ import annotations

import os

import pytest

from tests.postgres import Cluster, binaries

BACKENDS = ["sqlite", pytest.param("postgresql", marks=[pytest.mark.pg, pytest.mark.slow])]


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL cluster for the whole run; each test file or test takes a fresh database in it."""
    if binaries() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: CI installs it from docs/test-packages.txt")
        pytest.skip("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    with Cluster() as cluster:
        yield cluster


def _store(request, folder) -> str:
    if request.param == "sqlite":
        return str(folder / "central.db")
    return request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture(params=BACKENDS)
def store_url(request, tmp_path) -> str:
    """A new, empty central store: a SQLite path, then a PostgreSQL URL."""
    return _store(request, tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def module_store_url(request, tmp_path_factory) -> str:
    """`store_url` shared by the tests of one file."""
    return _store(request, tmp_path_factory.mktemp("central"))
