"""Third-party requirements: the old pyproject.toml's, added to 3rdparty/python/, and the pins refreshed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipeline_import.imported import Imported

# The old repository's helper library, as imported and as a distribution: nothing here provides it
# (pipelines/common replaces it).
HELPER_LIBRARIES: Final = ("iplanrio", "prefeitura_rio")
HELPER_DISTRIBUTIONS: Final = frozenset({"iplanrio", "prefeitura-rio"})


@dataclass
class Requirements:
    """The repository's direct requirements and pins, and what the imports add to them."""

    root: Path
    direct: dict[str, Requirement] = field(default_factory=dict)
    pinned: dict[str, str] = field(default_factory=dict)
    added: list[Requirement] = field(default_factory=list)

    @property
    def requirements_file(self) -> Path:
        return self.root / "3rdparty/python/requirements.txt"

    @property
    def build_file(self) -> Path:
        return self.root / "3rdparty/python/BUILD"

    @classmethod
    def read(cls, root: Path) -> Requirements:
        found = cls(root)
        for line in found.requirements_file.read_text().splitlines():
            text = line.split("#", 1)[0].strip()
            if text:
                requirement = Requirement(text)
                found.direct[canonicalize_name(requirement.name)] = requirement
        constraints = root / "3rdparty/python/constraints.txt"
        for line in constraints.read_text().splitlines() if constraints.is_file() else []:
            name, _, version = line.split("#", 1)[0].strip().partition("==")
            if version:
                found.pinned[canonicalize_name(name)] = version
        return found

    def names(self) -> set[str]:
        return set(self.direct) | {canonicalize_name(item.name) for item in self.added}

    def consider(self, requirement: Requirement, imported: Imported, where: str) -> None:
        name = canonicalize_name(requirement.name)
        pinned = self.pinned.get(name)
        fits = pinned is None or _satisfies(requirement, pinned)
        if name in self.direct or any(canonicalize_name(item.name) == name for item in self.added):
            if fits:
                imported.changed(where, f"{requirement}: already a requirement here ({name}=={pinned})")
            else:
                imported.todo(
                    where,
                    f"version conflict: {requirement} asked, this repository pins {name}=={pinned}: kept",
                )
            return
        if not fits:
            imported.todo(
                where,
                f"version conflict: {requirement} asked, {name}=={pinned} is pinned (a dependency of other "
                "requirements): not added",
            )
            return
        self.added.append(requirement)
        imported.changed(where, f"{requirement}: added to 3rdparty/python/requirements.txt")

    def write(self) -> None:
        """Appends the added requirements to requirements.txt and to the REQUIREMENTS list of the BUILD."""
        if not self.added:
            return
        text = self.requirements_file.read_text()
        section = "# Imported pipelines (tools/import_pipeline.py)"
        if section not in text:
            text = text.rstrip("\n") + f"\n\n{section}\n"
        text += "".join(f"{requirement}\n" for requirement in self.added)
        self.requirements_file.write_text(text)
        build = self.build_file.read_text()
        names = "".join(f'    "{canonicalize_name(item.name)}",\n' for item in self.added)
        start = build.index("REQUIREMENTS = [")
        end = build.index("\n]", start)
        self.build_file.write_text(build[: end + 1] + names + build[end + 1 :])


def _satisfies(requirement: Requirement, version: str) -> bool:
    try:
        return requirement.specifier.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return True


def pyproject_requirements(source: Path, imported: Imported) -> list[tuple[Requirement, str]]:
    path = source / "pyproject.toml"
    label = f"{source.name}/pyproject.toml"
    if not path.is_file():
        imported.todo(label, "no pyproject.toml: no requirements imported")
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        imported.todo(label, f"not valid TOML ({error}): no requirements imported")
        return []
    sources = _table(_table(_table(data, "tool"), "uv"), "sources")
    workspace = {
        canonicalize_name(name)
        for name, spec in sources.items()
        if isinstance(spec, dict) and spec.get("workspace")
    }
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    dependencies = _table(data, "project").get("dependencies", [])
    if not isinstance(dependencies, list):
        imported.todo(label, "[project].dependencies is not a list: no requirements imported")
        return []
    for text in map(str, dependencies):
        where = f"{label}:{_line_of(lines, text)}"
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            imported.todo(where, f"requirement {text!r} is not valid ({error}): skipped")
            continue
        name = canonicalize_name(requirement.name)
        if name in workspace:
            imported.changed(where, f"{requirement.name}: the old workspace's root, not a requirement here")
        elif name in HELPER_DISTRIBUTIONS:
            imported.todo(
                where,
                f"{requirement.name}: the old repository's helper library is not used here (see imports)",
            )
        else:
            found.append((requirement, where))
    return found


def _table(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _line_of(lines: Sequence[str], text: str) -> int:
    for number, line in enumerate(lines, start=1):
        if text in line:
            return number
    return 1


def refresh_pins(root: Path) -> str | None:
    """Runs tools/refresh_pins.py; the error's tail when it fails, else None."""
    python = shutil.which("python3") or sys.executable
    result = subprocess.run(
        [python, "tools/refresh_pins.py"], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode == 0:
        return None
    return (result.stdout + result.stderr).strip()[-2000:]
