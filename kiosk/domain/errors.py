"""One exception root for the kiosk; specific errors also subclass builtins."""


class KioskError(Exception):
    """Base of every error the kiosk raises on purpose."""


class BadUid(KioskError, ValueError):
    """A tag UID that is not 4 or 7 bytes of hex."""


class ConfigError(KioskError, ValueError):
    """A config file that cannot be used; the message names file and key."""


class ImportRejected(KioskError, ValueError):
    """A CSV import refused as a whole; `problems` lists the first bad rows, `more` counts the rest.

    A file of a million bad rows makes a message of 100 lines, not of a million.
    """

    LISTED = 100

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = list(problems[:self.LISTED])
        self.more = max(0, len(problems) - self.LISTED)
        lines = "\n".join(f"  {p}" for p in self.problems)
        rest = f"\n  and {self.more:,} more" if self.more else ""
        super().__init__(f"{source}: nothing imported, {len(problems):,} problem(s):\n{lines}{rest}")


class ScriptError(KioskError, ValueError):
    """A line of a simulate script that cannot be understood."""
