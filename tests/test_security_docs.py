"""docs/security.md names the test of each promise: every test it names exists."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")


def test_every_test_named_in_docs_security_exists():
    named = set(re.findall(r"`(tests/test_\w+\.py)::(test_\w+)`", DOC))
    assert len(named) >= 40
    missing = []
    for path, name in sorted(named):
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        if name not in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}:
            missing.append(f"{path}::{name}")
    assert missing == []


def test_every_security_test_file_is_named_in_docs_security():
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").glob("test_security_*.py")}
    files.discard("tests/test_security_docs.py")
    assert [f for f in sorted(files) if f not in DOC] == []
