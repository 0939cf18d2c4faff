"""The dependency direction of docs/architecture.md, checked on every import statement of the tree.

The domain loads no I/O library and reads no clock; what may import what is
one table (ARROWS), and a test walks every module's imports against it.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ["pygame", "gpiozero", "requests", "sqlite_utils", "sqlite3", "mfrc522", "spidev"]

# Part (a package prefix) -> the prefixes it must never import.
ARROWS = {
    "kiosk.domain": ["kiosk.store", "kiosk.screen", "kiosk.core", "kiosk.app", "kiosk.run", "kiosk.cli",
                     "kiosk.clock", "kiosk.config", "kiosk.demo", "hardware", "sync"],
    "kiosk.screen": ["kiosk.store", "kiosk.app", "kiosk.run", "kiosk.cli", "kiosk.demo", "hardware", "sync"],
    "kiosk.store": ["kiosk.screen", "kiosk.app", "kiosk.run", "kiosk.cli", "kiosk.demo", "hardware", "sync.client",
                    "sync.server"],
    "kiosk.core": ["kiosk.store", "kiosk.screen", "kiosk.app", "kiosk.run", "kiosk.cli", "kiosk.config",
                   "kiosk.demo", "hardware", "sync"],
    "hardware": ["kiosk", "sync"],
    "sync.protocol": ["kiosk.store", "kiosk.screen", "kiosk.core", "kiosk.app", "kiosk.run", "kiosk.cli",
                      "kiosk.config", "hardware", "sync.client", "sync.server"],
    "sync.server": ["kiosk.store", "kiosk.screen", "kiosk.app", "kiosk.run", "kiosk.cli", "kiosk.clock",
                    "kiosk.config", "kiosk.demo", "kiosk.script", "kiosk.hwtest", "kiosk.i18n", "hardware",
                    "sync.client"],
    "sync.client": ["kiosk.screen", "kiosk.app", "kiosk.run", "sync.server", "hardware"],
    "sync.session": ["kiosk", "sync.client", "sync.server", "hardware"],
}


def modules():
    for top in ("kiosk", "hardware", "sync"):
        for path in sorted((ROOT / top).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            yield name, path


def imports_of(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_no_module_imports_against_the_arrows():
    wrong = []
    for name, path in modules():
        for part, never in ARROWS.items():
            if not within(name, part):
                continue
            for imported in imports_of(path):
                wrong += [f"{name} imports {imported}" for n in never if within(imported, n)]
    assert sorted(set(wrong)) == []


@pytest.mark.parametrize("arrow", [("kiosk.domain.machine", "kiosk.store"), ("sync.server.db.push", "kiosk.app")])
def test_the_arrow_check_sees_a_wrong_import(arrow, tmp_path):
    # The check itself: a module of one part importing a forbidden part is named.
    name, imported = arrow
    part = next(p for p in ARROWS if within(name, p))
    probe = tmp_path / "probe.py"
    probe.write_text(f"import {imported}\n")
    assert any(within(i, n) for i in imports_of(probe) for n in ARROWS[part])


def test_importing_the_domain_loads_no_io_library():
    domain = [name for name, _ in modules() if within(name, "kiosk.domain")]
    code = ("import sys\n" + "".join(f"import {m}\n" for m in domain)
            + f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"the domain loaded: {out.stdout.strip()}"


def test_domain_reads_no_clock():
    """Time comes into the domain as an argument, never from the system."""
    for name, path in modules():
        if within(name, "kiosk.domain"):
            source = path.read_text()
            for call in ("datetime.now", "date.today", "time.time", "time.monotonic", "utcnow"):
                assert call not in source, f"{name} reads the clock with {call}"


def test_no_file_is_long_without_a_reason_at_its_top():
    long = []
    for name, path in modules():
        lines = path.read_text().splitlines()
        if len(lines) > 400 and "Longer than 400 lines because" not in "\n".join(lines[:30]):
            long.append(f"{path.relative_to(ROOT)}: {len(lines)} lines")
    assert long == []


def test_no_function_is_longer_than_80_lines():
    long = []
    for name, path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                if size > 80:
                    long.append(f"{name}.{node.name}: {size} lines")
    assert long == []
