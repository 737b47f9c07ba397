"""Third-party requirements: the old pyproject.toml's, added to 3rdparty/python/, and the pins refreshed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipeline_import.imported import Imported
from pipeline_import.module_names import modules_of

# The old repository's helper library, as imported and as a distribution: nothing here provides it
# (pipelines/common replaces it).
HELPER_LIBRARIES: Final = ("iplanrio", "prefeitura_rio")
HELPER_DISTRIBUTIONS: Final = frozenset({"iplanrio", "prefeitura-rio"})
# What the helper library's pyproject.toml requires (prefeitura-rio/iplanrio), and what its and the old root's
# requirements bring along that the pipelines import directly: an imported module no requirement of the
# pipeline
# names is looked up here, only then reported.
LIBRARY_DEPENDENCIES: Final = (
    "basedosdados[upload]==2.0.3",
    "croniter>=6.0.0",
    "oracledb>=2.0.0",
    "dbt-bigquery>=1.10.3",
    "geopandas>=1.1.1",
    "gitpython==3.1.44",
    "google-api-python-client>=2.179.0",
    "gspread>=6.2.1",
    "pandas>=2.3.1",
    "prefect-dbt==0.7.5",
    "psycopg2-binary>=2.9.10",
    "pymysql>=1.1.1",
    "pyodbc>=5.2.0",
    "pytz>=2025.2",
    "requests>=2.32.4",
)
# Packages on the index that only install another one: two requirements would then provide one module, and
# Pants could not tell which to depend on.
DISTRIBUTION_ALIASES: Final = {"bs4": "beautifulsoup4", "sklearn": "scikit-learn"}
# Top-level import names whose distribution cannot be told from the name (namespace packages).
UNGUESSABLE: Final = frozenset({"google"})
TRANSITIVE_DEPENDENCIES: Final = {
    "numpy": "pandas",
    "python-dateutil": "pandas",
    "pydantic": "prefect",
    "jinja2": "prefect",
    "urllib3": "requests",
    "google-auth": "basedosdados",
    "google-api-core": "basedosdados",
    "google-cloud-bigquery": "basedosdados",
    "google-cloud-storage": "basedosdados",
    "dbt-core": "dbt-bigquery",
    "google-cloud-core": "google-cloud-storage",
    "langchain-core": "langchain",
    "aiohttp": "discord-py",
}


@dataclass
class Requirements:
    """The repository's direct requirements and pins, and what the imports add to them."""

    root: Path
    direct: dict[str, Requirement] = field(default_factory=dict)
    pinned: dict[str, str] = field(default_factory=dict)
    added: list[Requirement] = field(default_factory=list)
    # Requirements of the old workspace's root and of the helper library: name -> (requirement, where).
    available: dict[str, tuple[Requirement, str]] = field(default_factory=dict)
    # Where each added requirement was asked (file:line), for the report when it does not resolve.
    asked: dict[str, tuple[Imported, str]] = field(default_factory=dict)

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

    def read_old_workspace(self, source: Path) -> None:
        """The old root's requirements (``<root>/pipelines/<p>`` -> ``<root>/pyproject.toml``) and the
        library's, for the imports no requirement of the pipeline names."""
        self.available = {}
        for text in LIBRARY_DEPENDENCIES:
            requirement = Requirement(text)
            self.available[canonicalize_name(requirement.name)] = (
                requirement,
                f"{text} (a requirement of the helper library iplanrio)",
            )
        root = source.parent.parent / "pyproject.toml"
        if root.is_file():
            try:
                data = tomllib.loads(root.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError):
                return
            lines = root.read_text(encoding="utf-8").splitlines()
            for text in map(str, _table(data, "project").get("dependencies", []) or []):
                try:
                    requirement = Requirement(text)
                except InvalidRequirement:
                    continue
                where = f"{source.parent.parent.name}/pyproject.toml:{_line_of(lines, text)}"
                self.available[canonicalize_name(requirement.name)] = (
                    requirement,
                    f"{text} (a requirement of the old workspace's root, {where})",
                )
        for name, via in TRANSITIVE_DEPENDENCIES.items():
            if name not in self.available and via in self.available | {n: () for n in self.direct}:
                self.available[name] = (Requirement(name), f"{name} (a dependency of {via})")

    def bring(self, distributions: set[str], imported: Imported, where: str) -> bool:
        """Adds the old workspace's requirement for one of ``distributions``, if it has one."""
        for name in sorted(distributions):
            if name in self.available:
                requirement, origin = self.available[name]
                imported.changed(where, f"imported here; brought from {origin}")
                self.consider(requirement, imported, where)
                return True
        for name in sorted(distributions):
            via = TRANSITIVE_DEPENDENCIES.get(name)
            if via is not None and via in self.names():
                imported.changed(where, f"imported here; {name} (a dependency of {via}) made a requirement")
                self.consider(Requirement(name), imported, where)
                return True
        return False

    def guess(self, module: str, distributions: set[str], imported: Imported, where: str) -> bool:
        """Adds the distribution named like ``module`` (or mapped to it) when no pyproject.toml declares one:
        the old image had it from somewhere. A ``!`` to confirm; one that does not resolve is dropped later,
        with a ``!`` here too."""
        top = module.split(".")[0]
        named = sorted(distributions - {canonicalize_name(top)}) or [canonicalize_name(top)]
        if top in UNGUESSABLE or len(named) > 1:
            return False
        imported.todo(
            where,
            f"import {module}: no pyproject.toml of the old repository declares it; {named[0]} (the "
            "distribution of that name) added: confirm it is the one the code means",
        )
        self.consider(Requirement(named[0]), imported, where)
        return True

    def consider(self, requirement: Requirement, imported: Imported, where: str) -> None:
        real = DISTRIBUTION_ALIASES.get(canonicalize_name(requirement.name))
        if real is not None:
            imported.changed(
                where, f"{requirement}: a package that only installs {real}; {real} required instead"
            )
            requirement = Requirement(real)
        name = canonicalize_name(requirement.name)
        pinned = self.pinned.get(name)
        fits = pinned is None or _satisfies(requirement, pinned)
        if name in self.direct or any(canonicalize_name(item.name) == name for item in self.added):
            if fits:
                imported.changed(where, f"{requirement}: already a requirement here ({name}=={pinned})")
            elif _same_major(requirement, pinned):
                imported.changed(where, f"{requirement} asked, {name}=={pinned} kept (same major version)")
            else:
                imported.todo(
                    where,
                    f"version conflict: {requirement} asked, this repository pins {name}=={pinned}: kept",
                )
            return
        if not fits:
            if _same_major(requirement, pinned):
                imported.changed(where, f"{requirement} asked, {name}=={pinned} kept (same major version)")
                requirement = Requirement(
                    name + (f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else "")
                )
            else:
                imported.todo(
                    where,
                    f"version conflict: {requirement} asked, {name}=={pinned} is pinned (a dependency of "
                    "other requirements): not added",
                )
                return
        relaxed = _within_major(requirement)
        if str(relaxed) != str(requirement):
            imported.changed(
                where, f"{requirement} asked: {relaxed} required (one resolve for all pipelines)"
            )
        self.added.append(relaxed)
        self.asked[name] = (imported, where)
        imported.changed(where, f"{relaxed}: added to 3rdparty/python/requirements.txt")

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
        build = build[: end + 1] + names + build[end + 1 :]
        mappings = "".join(
            f'    "{canonicalize_name(item.name)}": {modules_of(item.name)!r},\n'.replace("'", '"')
            for item in self.added
            if modules_of(item.name) and f'"{canonicalize_name(item.name)}":' not in build
        )
        if mappings:
            start = build.index("MODULE_MAPPING = {")
            end = build.index("\n}", start)
            build = build[: end + 1] + mappings + build[end + 1 :]
        self.build_file.write_text(build)


def _major(requirement: Requirement) -> int | None:
    for specifier in requirement.specifier:
        if specifier.operator in ("==", ">=", "~=", "==="):
            try:
                return Version(specifier.version.rstrip(".*")).major
            except InvalidVersion:
                return None
    return None


def _same_major(requirement: Requirement, pinned: str | None) -> bool:
    major = _major(requirement)
    try:
        return pinned is not None and (major is None or Version(pinned).major == major)
    except InvalidVersion:
        return False


def _within_major(requirement: Requirement) -> Requirement:
    """``x==1.2.3`` -> ``x>=1.2.3,<2``: one exact pin per pipeline would split the shared resolve."""
    specifiers = list(requirement.specifier)
    if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
        return requirement
    try:
        version = Version(specifiers[0].version)
    except InvalidVersion:
        return requirement
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    marker = f"; {requirement.marker}" if requirement.marker else ""
    return Requirement(f"{requirement.name}{extras}>={version},<{version.major + 1}{marker}")


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
            imported.changed(
                where,
                f"{requirement.name}: the old helper library; its API is pipelines/common/iplanrio here",
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


UNRESOLVED: Final = re.compile(
    r"(?:No matching distribution found for|Could not find a version that satisfies the requirement) "
    r"([A-Za-z0-9_.\-]+)"
)
PIN_FILES: Final = ("requirements.txt", "BUILD", "constraints.txt", "pins")


def write_and_refresh(requirements: Requirements) -> str | None:
    """Writes the added requirements and refreshes the pins. A requirement that does not resolve is taken out
    (reported where it was asked) and the rest refreshed again; the committed files are restored whenever a
    refresh fails, so the repository never has requirements without pins."""
    saved = Path(tempfile.mkdtemp(prefix="pins-"))
    here = requirements.root / "3rdparty/python"
    for name in PIN_FILES:
        if (here / name).is_dir():
            shutil.copytree(here / name, saved / name)
        elif (here / name).exists():
            shutil.copy2(here / name, saved / name)
    try:
        for _ in range(len(requirements.added) + 1):
            if not requirements.added:
                return None
            requirements.write()
            error = refresh_pins(requirements.root)
            if error is None:
                return None
            _restore(saved, here)
            names = {canonicalize_name(name) for name in UNRESOLVED.findall(error)}
            dropped = [item for item in requirements.added if canonicalize_name(item.name) in names]
            if not dropped:
                dropped = list(requirements.added)
            for item in dropped:
                requirements.added.remove(item)
                imported, where = requirements.asked[canonicalize_name(item.name)]
                imported.todo(
                    where,
                    f"{item}: does not resolve here (no distribution of it for CPython 3.13 on the index, "
                    f"or a conflict): not added. pip: {_last_line(error)}",
                )
        return None
    finally:
        shutil.rmtree(saved, ignore_errors=True)


def _restore(saved: Path, here: Path) -> None:
    for name in PIN_FILES:
        if (saved / name).is_dir():
            shutil.rmtree(here / name, ignore_errors=True)
            shutil.copytree(saved / name, here / name)
        elif (saved / name).exists():
            shutil.copy2(saved / name, here / name)


def _last_line(error: str) -> str:
    lines = [line.strip() for line in error.splitlines() if line.strip().startswith("ERROR")]
    return (lines or [error.strip().splitlines()[-1] if error.strip() else "?"])[-1][:300]


def refresh_pins(root: Path) -> str | None:
    """Runs tools/refresh_pins.py; the error's tail when it fails, else None."""
    python = shutil.which("python3") or sys.executable
    result = subprocess.run(
        [python, "tools/refresh_pins.py"], cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode == 0:
        return None
    return (result.stdout + result.stderr).strip()[-2000:]
