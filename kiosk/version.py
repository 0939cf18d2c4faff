"""The installed release of library-kiosk: the project's VERSION file, through the package's metadata."""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "library-kiosk"


def version() -> str:
    """The release this code was installed as, e.g. "0.2.0"; "unknown" when run from a bare checkout."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"
