"""How much work SQLite does for a call, in virtual machine steps: the same on any machine, under any load.

Tests that a query does not grow with a table count these instead of timing it.
"""

from typing import Callable


def vm_steps(db, work: Callable[[], object], every: int = 100) -> int:
    """The virtual machine steps (by `every`) that `work()` makes SQLite take on `db`'s connection."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0  # go on

    db.conn.set_progress_handler(count, every)
    try:
        work()
    finally:
        db.conn.set_progress_handler(None, every)
    return steps[0]
