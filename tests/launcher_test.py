"""The ./pants launcher fails early, clearly and cleanly on a broken machine or cache."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from repo_testing.workspace import REPO_ROOT, copy_repo, pants


def _launcher_copy(tmp_path: Path) -> Path:
    for name in ("pants", "pants.toml"):
        shutil.copy2(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def _run(repo: Path, env: dict[str, str]) -> tuple[int, str]:
    """Runs the launcher; returns its exit code and its stderr with line wrapping undone."""
    result = subprocess.run(
        ["./pants", "--version"], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )
    return result.returncode, " ".join(result.stderr.split())


def _launcher_cache() -> Path:
    """Where ./pants keeps its venv and pex tool, by the same rule as the launcher."""
    if override := os.environ.get("PANTS_LAUNCHER_CACHE"):
        return Path(override)
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path(os.environ["HOME"]) / ".cache")
    return Path(cache_home) / "rio-pipelines-pants"


def _pex_tool_name() -> tuple[str, int]:
    known = next(
        line for line in (REPO_ROOT / "pants.toml").read_text().splitlines() if "linux_x86_64|" in line
    )
    version, _, sha256, size = known.split('"')[1].split("|")
    return f"pex-{version}-{sha256[:12]}.pex", int(size)


def test_missing_python39_is_reported_and_nothing_is_installed(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    repo = _launcher_copy(tmp_path / "repo")
    cache = tmp_path / "cache"
    code, stderr = _run(
        repo, {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PANTS_LAUNCHER_CACHE": str(cache)}
    )
    assert code == 1
    assert "needs CPython 3.9 and none was found" in stderr
    assert "PANTS_PYTHON" in stderr
    assert not any(path.name.startswith("pants-") for path in cache.iterdir())


@pytest.mark.parametrize("corruption", ["same-size", "truncated"])
def test_corrupt_pex_tool_is_refused(tmp_path: Path, corruption: str) -> None:
    real_cache = _launcher_cache()
    pants_version = next(
        line.split('"')[1]
        for line in (REPO_ROOT / "pants.toml").read_text().splitlines()
        if line.startswith("pants_version")
    )
    real_venv = real_cache / f"pants-{pants_version}"
    if not (real_venv / ".ready").exists():
        pytest.fail(f"{real_venv} is not bootstrapped: run ./pants once before the tests")
    repo = tmp_path / "repo"
    repo.mkdir()
    _launcher_copy(repo)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / real_venv.name).symlink_to(real_venv)
    tool_name, size = _pex_tool_name()
    (cache / tool_name).write_bytes(b"\0" * (size if corruption == "same-size" else size // 2))

    code, stderr = _run(repo, {**os.environ, "PANTS_LAUNCHER_CACHE": str(cache)})

    assert code == 1, stderr
    assert "does not match the sha256/size in pants.toml" in stderr
    assert "Refusing to run" in stderr
    assert "pantsd" not in stderr


def test_bad_pin_is_reported_and_no_lockfile_is_kept(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    pin_file = repo / "3rdparty/python/pins/pyarrow.txt"
    pin_file.write_text(re.sub(r"^pyarrow==\S+$", "pyarrow==0.0.404", pin_file.read_text(), flags=re.M))

    result = pants(repo, "list", "pipelines/common:")

    stderr = " ".join(result.stderr.split())
    assert result.returncode == 1
    assert "pyarrow" in stderr
    assert "Could not derive 3rdparty/python/default.lock" in stderr
    assert "refresh_pins.py" in stderr
    assert not (repo / "3rdparty/python/default.lock").exists()
    assert not (repo / "3rdparty/python/default.lock.inputs").exists()
