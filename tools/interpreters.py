"""This machine's CPython interpreters, found at run time (no committed file names a path of a machine).

Standard library only: refresh_pins.py imports it when run as ``python3 tools/refresh_pins.py``, outside
Pants. The workflow runner's stand-in for actions/setup-python uses it too.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path


def pyenv_pythons(version: str) -> list[str]:
    """pyenv's installs of CPython ``version`` ("X.Y"), newest first."""
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    if shutil.which("pyenv"):
        found = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=False)
        root = found.stdout.strip() or root
    return sorted(glob.glob(f"{root}/versions/{version}*/bin/python{version}"), reverse=True)


def find_python(version: str, *, modules: Sequence[str] = (), first: Sequence[str] = ()) -> str | None:
    """An executable of CPython ``version`` ("X.Y") that imports ``modules``: ``first``, then
    ``python<X.Y>`` on the PATH (not a pyenv shim: shims refuse a version that is not activated), then
    pyenv's installs."""
    on_path = shutil.which(f"python{version}") or ""
    candidates = [*first, "" if "/shims/" in on_path else on_path, *pyenv_pythons(version)]
    wanted = tuple(int(part) for part in version.split("."))
    imports = "".join(f", {module}" for module in modules)
    probe = f"import sys{imports}; sys.exit(sys.version_info[:2] != {wanted!r})"
    for candidate in filter(None, candidates):
        try:
            if subprocess.run([candidate, "-c", probe], capture_output=True, check=False).returncode == 0:
                return candidate
        except OSError:
            continue
    return None
