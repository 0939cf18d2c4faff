"""Fixtures shared by the tests, and the slow marker.

- `mock_pins`: gpiozero's MockFactory as the pin factory, reset after (never monkeypatch gpiozero).
- `emulated_chip`: the MFRC522 emulator (hardware.emulator) on SPI 0.0, reset pin 25.
- `emulated_pi`: both, as a Pi with a reader would be.
- `dummy_display`: pygame on SDL's dummy video driver, for one module.
- `demo_central`: a central store on loopback with the demo patrons and books and three kiosks.
- `pages_central`: the same with a librarian (`wu`, `tests.servers.PASSWORD`) and a few records, for the pages.
- `store_url`, `module_store_url`: a new central store's location, once a SQLite file and once a database on a
  throwaway PostgreSQL cluster (tests/postgres.py, `pg_cluster`), so that the central store's tests run on both;
  `demo_central` and `pages_central` are made at it. The PostgreSQL runs are marked `pg` and `slow`; with
  CI=true a missing PostgreSQL fails the run instead of skipping them.
- `chromium`: Debian's headless Chromium through Playwright (one per session).

`pytest -m "not slow"` is the quick set; `make test` runs everything.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.postgres import Cluster, binaries
from tests.servers import CentralServer, seed_demo, seed_pages

BACKENDS = ["sqlite", pytest.param("postgresql", marks=[pytest.mark.pg, pytest.mark.slow])]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Whole modules that start browsers, servers in subprocesses, pip, or thousands of taps.
SLOW_MODULES = {"test_browser", "test_deploy_install", "test_durability", "test_window", "test_central_schema",
                "test_install_split", "test_run_service", "test_hw_check", "test_pi_roots"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


# ------------------------------------------------------------ hardware


@pytest.fixture
def mock_pins():
    """gpiozero's MockFactory as every device's pin factory; `.pin(n)` drives and records a pin."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    before = Device.pin_factory
    Device.pin_factory = factory = MockFactory()
    yield factory
    factory.reset()
    Device.pin_factory = before


@pytest.fixture
def emulated_chip():
    """The MFRC522 emulator on SPI bus 0 device 0, with its reset line on BCM 25."""
    from hardware.emulator import MFRC522Chip, attach, detach, install

    install()
    chip = MFRC522Chip()
    attach(chip, 0, 0, reset_pin=25)
    yield chip
    chip.resume(power_cycled=False)
    detach(chip)


@pytest.fixture
def emulated_pi(emulated_chip, mock_pins):
    """A Pi with a reader: the emulated chip and the mock pins."""
    return emulated_chip, mock_pins


@pytest.fixture(scope="module")
def dummy_display():
    """pygame on SDL's dummy video driver for this module; the environment is restored after."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SDL_VIDEODRIVER", "dummy")
        import pygame

        pygame.display.init()
        pygame.font.init()
        yield pygame
        pygame.display.quit()


# ------------------------------------------------------------ the central store


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


@pytest.fixture
def demo_central(store_url):
    """A central store on loopback with the demo data; `.tokens`, `.db` and `.path` beside `.url`."""
    from sync.server import db as store

    path = store_url
    db = store.init_db(path)
    tokens = seed_demo(db)
    with CentralServer(path) as server:
        server.tokens, server.db, server.path = tokens, db, path
        yield server


@pytest.fixture
def pages_central(store_url):
    """`seed_pages` served on loopback; `.db` beside `.url`."""
    path = store_url
    db = seed_pages(path)
    with CentralServer(path) as server:
        server.db = db
        yield server


# ------------------------------------------------------------ the browser


def chromium_path() -> str | None:
    """Debian's Chromium; in CI its absence is an error, elsewhere the browser tests skip."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("CI") == "true":
        raise RuntimeError("CI needs Debian's chromium (docs/test-packages.txt)")
    return found


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium for the whole session (Playwright's `Browser`)."""
    path = chromium_path()
    if path is None:
        pytest.skip("no chromium here (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
