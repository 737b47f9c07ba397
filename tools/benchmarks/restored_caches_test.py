"""The fresh runner's copy of Pants's local store, on real files, and the path the workflows cache."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from benchmarks import restored_caches
from pipeline_platform.repo_root import find_repo_root

ACTION = find_repo_root() / ".github" / "actions" / "pants-setup" / "action.yaml"


def make_store(store: Path) -> dict[str, bytes]:
    """A small store laid out as Pants 2.17 lays it out; two of its files name the store's own path."""
    contents = {
        "files/0/data.mdb": b"\0\x01lmdb page\0" + str(store).encode() + b"\0" * 64,
        "files/0/lock.mdb": b"\0" * 128,
        "directories/a/data.mdb": b"\x02" * 300,
        # A large file stored outside lmdb, read-only; small text naming the path, as a cached script might.
        "immutable/files/be/be6a965c": f"#!{store}/bin/python\nprint('cached')\n".encode(),
    }
    for name, data in contents.items():
        path = store / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (store / "immutable/files/be/be6a965c").chmod(0o555)
    return contents


def files_under(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def test_the_local_store_is_copied_byte_for_byte_over_an_older_copy(tmp_path: Path) -> None:
    cache_home = tmp_path / "user-cache"
    user_store = cache_home / "pants" / "lmdb_store"
    contents = make_store(user_store)
    caches = restored_caches.RestoredCaches(tmp_path / "runner")
    stale = caches.local_store / "files" / "0" / "stale.mdb"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"from an older run")

    copy = restored_caches.restore_local_store(caches, {"XDG_CACHE_HOME": str(cache_home)})

    # Not relocated: content-addressed files keep naming the user's store, and nothing else is left.
    assert files_under(caches.local_store) == contents
    assert str(user_store).encode() in (caches.local_store / "files/0/data.mdb").read_bytes()
    assert not stale.exists()
    assert stat.S_IMODE((caches.local_store / "immutable/files/be/be6a965c").stat().st_mode) == 0o555
    assert copy.size == sum(len(data) for data in contents.values())
    assert copy.seconds >= 0
    assert files_under(user_store) == contents  # the user's store is only read
    assert caches.env()["PANTS_LOCAL_STORE_DIR"] == str(caches.local_store)


def test_pants_local_store_dir_wins_and_no_store_restores_an_empty_one(tmp_path: Path) -> None:
    cache_home = tmp_path / "user-cache"
    make_store(cache_home / "pants" / "lmdb_store")
    caches = restored_caches.RestoredCaches(tmp_path / "runner")
    env = {"XDG_CACHE_HOME": str(cache_home), "PANTS_LOCAL_STORE_DIR": str(tmp_path / "nowhere")}

    copy = restored_caches.restore_local_store(caches, env)

    assert restored_caches.user_local_store(env) == tmp_path / "nowhere"
    assert caches.local_store.is_dir() and not any(caches.local_store.iterdir())
    assert copy.size == 0


def test_the_workflows_cache_the_store_the_benchmark_restores() -> None:
    action: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    cached = [
        step["with"]["path"] for step in action["runs"]["steps"] if "actions/cache" in step.get("uses", "")
    ]
    cache_home = Path("/cache-home")
    store = restored_caches.user_local_store({"XDG_CACHE_HOME": str(cache_home)})
    in_cache_home = store.relative_to(cache_home).as_posix()
    caches = restored_caches.RestoredCaches(Path("/runner"))

    assert in_cache_home == "pants/lmdb_store"
    assert caches.local_store.relative_to(caches.root).as_posix() == in_cache_home
    assert f"~/.cache/{in_cache_home}" in cached


def test_named_caches_keep_their_hard_links_and_are_relocated(tmp_path: Path) -> None:
    cache_home = tmp_path / "user-cache"
    named = cache_home / "pants" / "named_caches"
    wheel = named / "pex_root/installed_wheels/abc/pkg/module.py"
    wheel.parent.mkdir(parents=True)
    wheel.write_text("VALUE = 1\n")
    venv = named / "pex_root/venvs/s/1/lib/pkg/module.py"
    venv.parent.mkdir(parents=True)
    os.link(wheel, venv)
    script = named / "pex_root/venvs/s/1/bin/tool"
    script.parent.mkdir(parents=True)
    script.write_text(f"#!{named}/pex_root/venvs/s/1/bin/python\n")
    caches = restored_caches.RestoredCaches(tmp_path / "runner")

    restored_caches.restore_named_caches(caches, {"XDG_CACHE_HOME": str(cache_home)})

    copied_wheel = caches.named_caches / "pex_root/installed_wheels/abc/pkg/module.py"
    copied_venv = caches.named_caches / "pex_root/venvs/s/1/lib/pkg/module.py"
    assert copied_wheel.read_text() == "VALUE = 1\n"
    assert copied_venv.stat().st_ino == copied_wheel.stat().st_ino  # one file, two names, as in the source
    assert copied_wheel.stat().st_ino != wheel.stat().st_ino  # a copy, not the user's file
    relocated = (caches.named_caches / "pex_root/venvs/s/1/bin/tool").read_text()
    assert relocated == f"#!{caches.named_caches}/pex_root/venvs/s/1/bin/python\n"
