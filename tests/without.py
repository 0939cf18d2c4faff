"""Run a module as if some libraries were not installed: `python tests/without.py fastapi,uvicorn -m kiosk.cli ...`.

Shows which libraries a command really needs: importing a blocked one fails
as it would in an install without it.
"""

import importlib.abc
import runpy
import sys


class Blocker(importlib.abc.MetaPathFinder):
    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r} (not installed in this part's install)",
                                      name=fullname)
        return None


if __name__ == "__main__":
    blocked, flag, module, *args = sys.argv[1:]
    assert flag == "-m", "usage: without.py NAME,NAME -m MODULE ARGS..."
    sys.meta_path.insert(0, Blocker(blocked.split(",")))
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
