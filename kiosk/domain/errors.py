"""One exception root for the kiosk; specific errors also subclass builtins."""


class KioskError(Exception):
    """Base of every error the kiosk raises on purpose."""


class BadUid(KioskError, ValueError):
    """A tag UID that is not 4 or 7 bytes of hex."""


class ConfigError(KioskError, ValueError):
    """A config file that cannot be used; the message names file and key."""


class ImportRejected(KioskError, ValueError):
    """A CSV import refused as a whole; `problems` lists every bad row."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{source}: nothing imported, {len(self.problems)} problem(s):\n{lines}")


class ScriptError(KioskError, ValueError):
    """A line of a simulate script that cannot be understood."""
