"""Write requirements/constraints.txt: the exact version of every package install.sh takes from PyPI.

Run `make constraints` after changing a dependency in pyproject.toml (or to
move to newer releases), then `make pi-check`, which installs exactly these
versions in arm64 Debian 12 and 13 roots, and commit the file with the
VERSION it belongs to. Every kiosk of one version then runs the same code.

pip resolves the project's kiosk and central extras and the GPIO libraries
in a throwaway venv (`pip install --dry-run --report`), ignoring this
machine's pip settings; mfrc522 is resolved on its own, without the
RPi.GPIO it declares, which a kiosk never installs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import venv
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "requirements" / "constraints.txt"
GPIO = ["lgpio", "rpi-lgpio", "spidev"]
# The project itself; the RPi.GPIO package, which a kiosk never installs; and
# pip and setuptools, which sqlite-utils names but a kiosk never runs: the
# venv's own are kept (a newer pip would be reinstalled and byte-compiled on
# every kiosk for nothing).
NEVER = {"library-kiosk", "rpi-gpio", "pip", "setuptools"}


def resolve(python: str, report: Path, *args: str) -> dict[str, str]:
    """{name: version} of what `pip install *args` would install into an empty venv."""
    cert = ["--cert", os.environ["PIP_CERT"]] if os.environ.get("PIP_CERT") else []
    subprocess.run([python, "-m", "pip", "--isolated", "--disable-pip-version-check", "install", "-q", *cert, "--dry-run", "--ignore-installed",
                    "--report", str(report), *args], check=True)
    data = json.loads(report.read_text())
    return {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
            for item in data["install"]}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        venv.create(tmp, with_pip=True)
        python = str(Path(tmp) / "bin" / "python")
        found = resolve(python, Path(tmp) / "all.json", f"{REPO}[kiosk,central]", *GPIO)
        found.update(resolve(python, Path(tmp) / "mfrc522.json", "--no-deps", "mfrc522"))
    pins = sorted((name, version) for name, version in found.items() if name not in NEVER)
    major, minor = sys.version_info[:2]
    lines = [
        "# Exact versions of every package systemd/install.sh takes from PyPI (pip install -c).",
        f"# Made by `make constraints` (requirements/make_constraints.py) on {date.today()} with Python",
        f"# {major}.{minor}; checked on arm64 Debian 12 and 13 by `make pi-check`. Do not edit by hand.",
        *[f"{name}=={version}" for name, version in pins],
    ]
    OUT.write_text("\n".join(lines) + "\n")
    print(f"{OUT.relative_to(REPO)}: {len(pins)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
