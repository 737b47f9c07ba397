"""What a fresh CI runner has: copies of the caches the workflows restore, and nothing else (fresh_runner.py).

.github/actions/pants-setup/action.yaml restores three caches: the launcher's (the Pants venv and the pex
tool, and whatever else ./pants keeps there), Pants's named caches (resolved distributions) and Pants's local
store (lmdb_store: built pexes, sources, dependency inference; saved after every job, so it is as the previous
deploy left it). Here they are copied from this machine's into a throwaway directory; the user's caches are
only read. Venvs are not relocatable (their scripts name the venv by absolute path), and a restored cache sits
where the workflow saved it, so the copy of the first two rewrites the old location to the new one in
symlinks and small text files. The local store is copied byte for byte: it is content-addressed (a rewritten
file would no longer match its digest) and does not refer to its own location.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

LAUNCHER_CACHE_NAME = "rio-pipelines-pants"  # ./pants: ${XDG_CACHE_HOME:-~/.cache}/rio-pipelines-pants
TEXT_LIMIT = 256 * 1024  # larger files are copied as they are (no script or venv config is that big)


def user_cache_home(env: Mapping[str, str]) -> Path:
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def user_launcher_cache(env: Mapping[str, str]) -> Path:
    return Path(env.get("PANTS_LAUNCHER_CACHE") or user_cache_home(env) / LAUNCHER_CACHE_NAME)


def user_named_caches(env: Mapping[str, str]) -> Path:
    return Path(env.get("PANTS_NAMED_CACHES_DIR") or user_cache_home(env) / "pants" / "named_caches")


def user_local_store(env: Mapping[str, str]) -> Path:
    return Path(env.get("PANTS_LOCAL_STORE_DIR") or user_cache_home(env) / "pants" / "lmdb_store")


@dataclass(frozen=True)
class RestoredCaches:
    root: Path

    @property
    def launcher(self) -> Path:
        return self.root / LAUNCHER_CACHE_NAME

    @property
    def named_caches(self) -> Path:
        return self.root / "pants" / "named_caches"

    @property
    def local_store(self) -> Path:
        return self.root / "pants" / "lmdb_store"

    def env(self) -> dict[str, str]:
        """Points ./pants and Pants at the copies (and anything else that caches under XDG at the root)."""
        return {
            "XDG_CACHE_HOME": str(self.root),
            "PANTS_LAUNCHER_CACHE": str(self.launcher),
            "PANTS_NAMED_CACHES_DIR": str(self.named_caches),
            "PANTS_LOCAL_STORE_DIR": str(self.local_store),
        }


def restore_named_caches(caches: RestoredCaches, env: Mapping[str, str]) -> None:
    """Copies the named caches of ``env``'s user (pex_root: resolved distributions) into ``caches``."""
    _restore(user_named_caches(env), caches.named_caches, copy_relocated)


def restore_launcher_cache(caches: RestoredCaches, env: Mapping[str, str]) -> None:
    """Copies the launcher cache of ``env``'s user (Pants venv, pex tool, lockfiles by pins digest)."""
    _restore(user_launcher_cache(env), caches.launcher, copy_relocated)


@dataclass(frozen=True)
class StoreCopy:
    size: int  # bytes of the files copied
    seconds: float


def restore_local_store(caches: RestoredCaches, env: Mapping[str, str]) -> StoreCopy:
    """Copies the local store of ``env``'s user (its lmdb databases and large immutable files) into ``caches``
    as it is, without relocating anything. Call it while no Pants process uses that store: lmdb files copied
    mid-write may be torn."""
    started = time.monotonic()
    _restore(user_local_store(env), caches.local_store, functools.partial(shutil.copytree, symlinks=True))
    return StoreCopy(tree_size(caches.local_store), time.monotonic() - started)


def tree_size(root: Path) -> int:
    """Bytes of the files under ``root`` (symlinks not followed)."""
    return sum(
        (Path(directory) / name).lstat().st_size for directory, _, files in os.walk(root) for name in files
    )


def _restore(source: Path, dest: Path, copy: Callable[[Path, Path], object]) -> None:
    """``dest`` replaced by a copy of ``source`` (by ``copy``), or by an empty directory if there is none."""
    if dest.exists():
        shutil.rmtree(dest)
    if source.is_dir():
        copy(source, dest)
    else:
        dest.mkdir(parents=True)


def copy_relocated(source: Path, dest: Path) -> None:
    """Copies ``source`` to ``dest`` as if it had been saved from ``dest``: ``source``'s absolute path becomes
    ``dest``'s in symlink targets and small text files (venv scripts' shebangs, interpreter records)."""
    old, new = str(source), str(dest)
    old_bytes, new_bytes = old.encode(), new.encode()
    # Hard links stay hard links (pex's venvs link the installed wheels' files): copied once, linked after.
    copied: dict[tuple[int, int], Path] = {}
    for directory, dirs, files in os.walk(source):
        target_dir = dest / Path(directory).relative_to(source)
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in [*dirs, *files]:
            path = Path(directory) / name
            target = target_dir / name
            try:
                if path.is_symlink():
                    link = os.readlink(path)
                    if link == old or link.startswith(old + os.sep):
                        link = new + link[len(old) :]
                    os.symlink(link, target)
                elif name in files:
                    status = path.stat()
                    first = copied.get((status.st_dev, status.st_ino)) if status.st_nlink > 1 else None
                    if first is not None:
                        os.link(first, target)
                        continue
                    _copy_file(path, target, old_bytes, new_bytes)
                    if status.st_nlink > 1:
                        copied[(status.st_dev, status.st_ino)] = target
            except FileNotFoundError:
                continue  # removed while copying (another Pants run replaced it): a cache may lack it


def _copy_file(path: Path, target: Path, old: bytes, new: bytes) -> None:
    if path.stat().st_size <= TEXT_LIMIT:
        data = path.read_bytes()
        if old in data and b"\0" not in data[:8192]:
            target.write_bytes(data.replace(old, new))
            shutil.copystat(path, target)
            return
    shutil.copy2(path, target)
