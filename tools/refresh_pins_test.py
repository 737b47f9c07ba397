"""refresh_pins' resolve against a package directory on this machine (no index): a distribution published
only as an sdist is built, the others stay wheels, and what resolves nowhere fails naming it."""

from __future__ import annotations

import io
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest
import refresh_pins

# A build backend inside the sdist itself (PEP 517 `backend-path`), so pip builds it with nothing to download.
IN_TREE_BACKEND = textwrap.dedent("""
    import os

    METADATA = "Metadata-Version: 2.1\\nName: only-sdist\\nVersion: 1.0.1\\nRequires-Dist: only-wheel>=2\\n"


    def get_requires_for_build_wheel(config_settings=None):
        return []


    def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
        info = os.path.join(metadata_directory, "only_sdist-1.0.1.dist-info")
        os.makedirs(info)
        with open(os.path.join(info, "METADATA"), "w") as metadata:
            metadata.write(METADATA)
        return "only_sdist-1.0.1.dist-info"


    def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
        raise NotImplementedError("a dry run only reads the metadata")
    """)


def write_sdist(directory: Path) -> None:
    files = {
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n',
        "backend.py": IN_TREE_BACKEND,
        "PKG-INFO": "Metadata-Version: 2.1\nName: only-sdist\nVersion: 1.0.1\n",
    }
    with tarfile.open(directory / "only_sdist-1.0.1.tar.gz", "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            member = tarfile.TarInfo(f"only_sdist-1.0.1/{name}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))


def write_wheel(directory: Path) -> None:
    info = "only_wheel-2.0.dist-info"
    with zipfile.ZipFile(directory / "only_wheel-2.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("only_wheel/__init__.py", "")
        wheel.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: only-wheel\nVersion: 2.0\n")
        wheel.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        wheel.writestr(f"{info}/RECORD", "")


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "packages"
    directory.mkdir()
    write_sdist(directory)
    write_wheel(directory)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(directory))
    return directory


def installed(report: dict[str, object]) -> dict[str, str]:
    items = report["install"]
    assert isinstance(items, list)
    return {item["metadata"]["name"]: item["download_info"]["url"].rsplit("/", 1)[-1] for item in items}


def test_a_distribution_published_only_as_an_sdist_is_built_and_the_rest_stay_wheels(
    packages: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("only-sdist>=1\n")

    report = refresh_pins.resolve(requirements)

    assert installed(report) == {
        "only-sdist": "only_sdist-1.0.1.tar.gz",
        "only-wheel": "only_wheel-2.0-py3-none-any.whl",
    }
    assert (
        "No wheel for only-sdist: resolving again, building only these from source."
        in capsys.readouterr().out
    )


def test_a_requirement_that_resolves_nowhere_fails_naming_it(packages: Path, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("only-sdist>=1\nnowhere-to-be-found==1.0\n")

    with pytest.raises(SystemExit, match="pip could not resolve"):
        refresh_pins.resolve(requirements)
