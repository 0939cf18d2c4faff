"""The dependency direction of STYLE.md: the domain loads no I/O library,
and `hardware/` knows nothing of the kiosk."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ["kiosk.domain.model", "kiosk.domain.rules", "kiosk.domain.machine", "kiosk.domain.events", "kiosk.domain.view"]
FORBIDDEN = ["pygame", "gpiozero", "requests", "sqlite_utils", "sqlite3", "mfrc522", "spidev"]


def test_importing_the_domain_loads_no_io_library():
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in DOMAIN)
        + f"print(','.join(m for m in {FORBIDDEN!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"the domain loaded: {out.stdout.strip()}"


def test_domain_reads_no_clock():
    """Time comes into the domain as an argument, never from the system."""
    for name in DOMAIN:
        source = (ROOT / (name.replace(".", "/") + ".py")).read_text()
        for call in ("datetime.now", "date.today", "time.time", "time.monotonic", "utcnow"):
            assert call not in source, f"{name} reads the clock with {call}"


def test_hardware_package_does_not_import_kiosk():
    for path in (ROOT / "hardware").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for n in names:
                assert n.split(".")[0] != "kiosk", f"{path.relative_to(ROOT)} imports {n}"
