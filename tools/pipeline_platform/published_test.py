import json
from pathlib import Path

from pipeline_platform.published import (
    Published,
    base_inputs_hash,
    base_inputs_reference,
    build_options,
    deps_build_arg,
    deps_inputs_hash,
    deps_inputs_reference,
)
from pipelines.common.naming import PipelineName

SMTR = PipelineName.from_dir("rj_smtr__gps_brt")
COR = PipelineName.from_dir("rj_cor__alertario_precipitacao")
REGISTRY = "127.0.0.1:5000/rio"


def write(root: Path, files: dict[str, str]) -> list[str]:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return list(files)


def packed_pex(root: Path, **info: object) -> Path:
    pex = root / "deps-pex.pex"
    (pex / ".deps/prefect-3.0-py3-none-any.whl").mkdir(parents=True, exist_ok=True)
    fields = {
        "distributions": {"prefect-3.0-py3-none-any.whl": "aa"},
        "requirements": ["prefect"],
        "entry_point": "pipelines.rj_smtr__gps_brt.flow",
        "code_hash": "c1",
        "pex_hash": "p1",
        "venv_hermetic_scripts": True,
        **info,
    }
    (pex / "PEX-INFO").write_text(json.dumps(fields))
    return pex


def test_the_base_inputs_hash_follows_contents_paths_and_the_os_image_not_the_order(tmp_path: Path) -> None:
    files = write(tmp_path, {"Dockerfile": "FROM x\n", "3rdparty/python/pins/prefect.txt": "prefect==3\n"})
    key = base_inputs_hash(tmp_path, files, "os:1")

    assert base_inputs_hash(tmp_path, list(reversed(files)), "os:1") == key
    assert base_inputs_hash(tmp_path, files, "os:2") != key
    assert base_inputs_hash(tmp_path, files[:1], "os:1") != key
    (tmp_path / "Dockerfile").write_text("FROM x\nRUN true\n")  # uncommitted edits count
    assert base_inputs_hash(tmp_path, files, "os:1") != key
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    assert base_inputs_hash(tmp_path, files, "os:1") == key


def test_the_deps_inputs_hash_follows_the_distributions_the_base_layers_and_the_recipe(
    tmp_path: Path,
) -> None:
    key = deps_inputs_hash(packed_pex(tmp_path), "base1", b"recipe")

    assert deps_inputs_hash(packed_pex(tmp_path), "base2", b"recipe") != key
    assert deps_inputs_hash(packed_pex(tmp_path), "base1", b"recipe 2") != key
    assert (
        deps_inputs_hash(
            packed_pex(tmp_path, distributions={"prefect-3.0-py3-none-any.whl": "bb"}), "base1", b"recipe"
        )
        != key
    )
    assert deps_inputs_hash(packed_pex(tmp_path, venv_hermetic_scripts=False), "base1", b"recipe") != key
    # Another pipeline whose requirements resolve alike: its own entry point and hashes, the same deps image.
    other = packed_pex(tmp_path, entry_point="pipelines.rj_cor__x.flow", code_hash="c2", pex_hash="p2")
    assert deps_inputs_hash(other, "base1", b"recipe") == key


def test_inputs_references_name_the_image_and_the_key() -> None:
    assert base_inputs_reference(REGISTRY, "abc") == "127.0.0.1:5000/rio/rio-pipelines-base:inputs-abc"
    assert deps_inputs_reference(REGISTRY, "abc") == "127.0.0.1:5000/rio/rio-pipelines-deps:inputs-abc"
    assert Published(base_inputs_reference(REGISTRY, "abc")).inputs_key == "abc"
    assert deps_build_arg(SMTR) == "DEPS_IMAGE_RJ_SMTR__GPS_BRT"


def test_published_images_replace_the_addresses_in_from_in_one_option_and_missing_ones_are_built() -> None:
    base = f"{REGISTRY}/rio-pipelines-base@sha256:00"
    deps = Published("ref2", published=f"{REGISTRY}/rj-smtr--gps-brt-deps@sha256:01", pipeline=SMTR)
    missing = Published("ref3", why_not="manifest unknown", pipeline=COR)

    assert build_options(base) == [f"--docker-build-args=+['BASE_IMAGE={base}']"]
    assert build_options(base, [deps, missing]) == [
        f"--docker-build-args=+['BASE_IMAGE={base}', "
        f"'DEPS_IMAGE_RJ_SMTR__GPS_BRT={REGISTRY}/rj-smtr--gps-brt-deps@sha256:01']"
    ]
    assert build_options(None, [missing]) == []
    assert build_options(None, [deps]) == [
        f"--docker-build-args=+['DEPS_IMAGE_RJ_SMTR__GPS_BRT={REGISTRY}/rj-smtr--gps-brt-deps@sha256:01']"
    ]
