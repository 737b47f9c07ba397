"""Reproducible image layers, made in a build stage and copied in with `COPY --from=<stage> <dir>/ /`.

    python3 image_layers.py base PEX OUT      # OUT/users, OUT/tools, OUT/venv: the base image's layers
    python3 image_layers.py deps PEX OUT      # OUT/deps: the distributions a pipeline adds to the base
    python3 image_layers.py srcs PEX OUT      # OUT/srcs: a pipeline's sources, from its pex

Runs inside the image build (the OS image's python3, standard library only). Each layer is a directory tree
under OUT that mirrors the root file system. Every file and directory in it gets the modification time 0
and the owner and mode of the path it lands on, so the same inputs give the same layer digest on any engine,
any day: Docker keeps the times and owners of what `COPY --from` copies, and a layer whose bytes are the
same is neither pushed nor stored twice. Compiled `.pyc` files are hash-based (SOURCE_DATE_EPOCH).

A pipeline's deps layer holds only the distributions the base venv lacks (same name and version means the
same files: both come from one lockfile), so an image carries the base venv once.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
from pathlib import Path

VENV = Path("/opt/venv")
WORKDIR = Path("/opt/prefect")
TOOLS = Path("/opt/image-tools")
PEX_ROOT = Path("/tmp/pex-root")
USER, UID = "prefect", 1000
# Files of /etc that groupadd/useradd write (the backups they leave, `passwd-` etc., are not copied).
USER_FILES = ("passwd", "group", "shadow", "gshadow", "subuid", "subgid")
# A packed pex's own files, next to the user code at its top level.
PEX_INTERNALS = frozenset({"__main__.py", "__pex__", "PEX-INFO"})
# What a deps layer adds to the base, one distribution per line. The layer always holds it: a layer that adds
# nothing (every requirement already in the base) would make `COPY --from=deps / /` an empty diff, after which
# the classic builder fails the next COPY with "layer does not exist" (moby/moby#37965).
DEPS_RECORD = VENV / "deps-layer.txt"


def run_pex_venv(pex: Path, scope: str, destination: Path, *, compile_all: bool = True) -> None:
    env = {
        **os.environ,
        "PEX_TOOLS": "1",
        "PEX_ROOT": str(PEX_ROOT),
        # Hash-based .pyc files: the same sources compile to the same bytes.
        "SOURCE_DATE_EPOCH": "0",
    }
    compile_flag = ["--compile"] if compile_all else []
    command = [sys.executable, str(pex), "venv", f"--scope={scope}", *compile_flag, str(destination)]
    subprocess.run(command, env=env, check=True)


def place(source: Path, layer: Path, target: Path) -> None:
    """Moves ``source`` to ``layer/<target>``, creating the parents with the metadata of the live ones."""
    destination = layer / target.relative_to("/")
    mirror_parents(layer, target)
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(destination))


def mirror_parents(layer: Path, target: Path) -> None:
    """Creates ``layer/<parents of target>`` owned and moded like the live parents (they replace them)."""
    layer.mkdir(parents=True, exist_ok=True)
    for parent in reversed(target.parents):
        if parent == Path("/"):
            continue
        mirrored = layer / parent.relative_to("/")
        mirrored.mkdir(exist_ok=True)
        live = parent.stat()
        os.chown(mirrored, live.st_uid, live.st_gid)
        mirrored.chmod(live.st_mode & 0o7777)


def normalize(layer: Path) -> None:
    """Modification time 0 on everything under ``layer``, the layer's root included."""
    for path in sorted(layer.rglob("*"), reverse=True):
        os.utime(path, (0, 0), follow_symlinks=False)
    os.utime(layer, (0, 0))


def users_layer(layer: Path) -> None:
    """The runtime user (uid/gid 1000), its home and the writable working directory."""
    subprocess.run(["groupadd", "--gid", str(UID), USER], check=True)
    subprocess.run(
        [
            "useradd",
            "--uid",
            str(UID),
            "--gid",
            str(UID),
            "--create-home",
            "--home-dir",
            f"/home/{USER}",
            "--shell",
            "/bin/bash",
            USER,
        ],
        check=True,
    )
    etc = Path("/etc")
    mirror_parents(layer, etc / "passwd")
    for name in USER_FILES:
        if (etc / name).exists():
            shutil.copy2(etc / name, layer / "etc" / name)
            live = (etc / name).stat()
            os.chown(layer / "etc" / name, live.st_uid, live.st_gid)
    # /etc/shadow records the day of the last password change: blank it, or the layer changes every day.
    shadow = layer / "etc" / "shadow"
    entries = [line.split(":") for line in shadow.read_text().splitlines()]
    for fields in entries:
        if fields[0] == USER:
            fields[2] = ""
    shadow.write_text("".join(":".join(fields) + "\n" for fields in entries))
    place(Path(f"/home/{USER}"), layer, Path(f"/home/{USER}"))
    WORKDIR.mkdir(parents=True, exist_ok=True)
    os.chown(WORKDIR, UID, UID)
    WORKDIR.chmod(0o755)
    mirror_parents(layer, WORKDIR)
    shutil.copytree(WORKDIR, layer / WORKDIR.relative_to("/"), copy_function=shutil.copy2)
    os.chown(layer / WORKDIR.relative_to("/"), UID, UID)


def base(pex: Path, out: Path) -> None:
    users_layer(out / "users")
    tools = out / "tools"
    TOOLS.mkdir(mode=0o755, parents=True, exist_ok=True)
    mirror_parents(tools, TOOLS / "x")
    shutil.copy2(Path(__file__), tools / TOOLS.relative_to("/") / Path(__file__).name)
    run_pex_venv(pex, "deps", VENV)
    run_pex_venv(pex, "srcs", VENV)
    place(VENV, out / "venv", VENV)
    for layer in ("users", "tools", "venv"):
        normalize(out / layer)
    shutil.rmtree(PEX_ROOT, ignore_errors=True)


def site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


def recorded_files(dist_info: Path) -> list[Path]:
    """The files a distribution installed, from its RECORD (paths relative to site-packages)."""
    with (dist_info / "RECORD").open(newline="") as record:
        return [dist_info.parent / row[0] for row in csv.reader(record) if row]


def compiled(source: Path) -> list[Path]:
    """The .pyc files of ``source`` (`pex venv --compile` writes them; RECORD does not list them)."""
    if source.suffix != ".py":
        return []
    return sorted((source.parent / "__pycache__").glob(f"{source.stem}.*.pyc"))


def compile_hash_based(source: Path) -> None:
    """The .pyc `pex venv --compile` writes beside ``source`` (hash-based); none for a file that does not
    compile, which Python then reports at import, as it would without the .pyc."""
    if source.suffix != ".py":
        return
    with contextlib.suppress(py_compile.PyCompileError):
        py_compile.compile(
            str(source), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH
        )


def move_into(layer: Path, path: Path) -> None:
    """Moves an installed file into ``layer`` (a rename: the file's bytes are not written twice)."""
    if path.is_relative_to(VENV) and (path.is_file() or path.is_symlink()):
        target = layer / path.relative_to("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(path, target)


def distribution_key(stem: str) -> tuple[str, str]:
    """(normalized project name, version) of a wheel's file name or a `.dist-info` directory's name."""
    name, version = stem.removesuffix(".dist-info").split("-")[:2]
    return re.sub(r"[-_.]+", "-", name).lower(), version


def keep_lacking_distributions(pex: Path, base_keys: set[tuple[str, str]]) -> None:
    """Rewrites the packed ``pex``'s PEX-INFO so that it holds only the distributions the base lacks.

    `pex venv` then extracts and installs those alone (the base's, Prefect among them, are most of a deps
    pex). Each kept distribution is a root requirement, pinned; what it needs from the base is missing from
    the pex, which `ignore_errors` accepts: the base venv provides it at run time."""
    info_file = pex / "PEX-INFO"
    info = json.loads(info_file.read_text())
    kept = {
        wheel: fingerprint
        for wheel, fingerprint in info["distributions"].items()
        if distribution_key(wheel) not in base_keys
    }
    info["distributions"] = kept
    info["requirements"] = sorted("==".join(distribution_key(wheel)) for wheel in kept)
    info["ignore_errors"] = True
    info_file.write_text(json.dumps(info))


def deps(pex: Path, out: Path) -> None:
    """OUT/deps: the distributions of ``pex`` the base venv lacks, as files under /opt/venv.

    ``pex`` holds no sources (the pipeline's deps pex), so a code change leaves it, this build step and its
    layer as they were."""
    base_dists = {path.name for path in site_packages(VENV).glob("*.dist-info")}
    keep_lacking_distributions(pex, {distribution_key(name) for name in base_dists})
    # Built at the base venv's own path (scripts and .pyc files record it): this throwaway stage deletes the
    # base venv first (overlayfs cannot rename a lower layer's directory).
    shutil.rmtree(VENV)
    # Compiled here only for what the layer keeps (the venv's own files are the base's).
    run_pex_venv(pex, "deps", VENV, compile_all=False)
    layer = out / "deps"
    added = []
    for dist_info in sorted(site_packages(VENV).glob("*.dist-info")):
        if dist_info.name in base_dists:
            continue
        added.append(dist_info.name.removesuffix(".dist-info"))
        for installed in recorded_files(dist_info):
            source = Path(os.path.normpath(installed))
            compile_hash_based(source)
            for path in (source, *compiled(source)):
                move_into(layer, path)
    if (layer / VENV.relative_to("/")).exists():
        for directory in sorted((layer / VENV.relative_to("/")).rglob("*")):
            if directory.is_dir():
                directory.chmod(0o755)
        mirror_parents(layer, site_packages(VENV) / "x")
    mirror_parents(layer, DEPS_RECORD)
    record = layer / DEPS_RECORD.relative_to("/")
    record.write_text("".join(f"{name}\n" for name in added))
    record.chmod(0o644)
    normalize(layer)
    # The stage's own layer then holds the layer directory only: the engine keeps that stage after the build
    # (an untagged image per pipeline), so what the next step does not need is not left in it.
    shutil.rmtree(VENV)
    shutil.rmtree(PEX_ROOT, ignore_errors=True)


def srcs(pex: Path, out: Path) -> None:
    """OUT/srcs: the top-level modules of the packed ``pex`` (the pipeline's and the shared library's
    sources), under /opt/prefect."""
    layer = out / "srcs"
    mirror_parents(layer, WORKDIR / "x")
    for entry in sorted(pex.iterdir()):
        if entry.name.startswith(".") or entry.name in PEX_INTERNALS:
            continue
        copy = shutil.copytree if entry.is_dir() else shutil.copy2
        copy(entry, layer / WORKDIR.relative_to("/") / entry.name)
    normalize(layer)


COMMANDS = {"base": base, "deps": deps, "srcs": srcs}


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in COMMANDS:
        print(__doc__, file=sys.stderr)
        return 2
    command, pex, out = argv[0], Path(argv[1]), Path(argv[2])
    COMMANDS[command](pex, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
