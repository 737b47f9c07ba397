from pathlib import Path

from pipeline_platform.deps_image import DepsImage, build_arg, build_options, inputs_hash, inputs_reference
from pipelines.common.naming import PipelineName

SMTR = PipelineName.from_dir("rj_smtr__gps_brt")
COR = PipelineName.from_dir("rj_cor__alertario_precipitacao")


def packed_pex(root: Path) -> Path:
    pex = root / "deps-pex.pex"
    (pex / ".deps/prefect-3.0-py3-none-any.whl").mkdir(parents=True)
    (pex / ".deps/prefect-3.0-py3-none-any.whl/prefect.py").write_text("VERSION = 3\n")
    (pex / "PEX-INFO").write_text('{"requirements": ["prefect"]}')
    return pex


def test_the_inputs_hash_follows_the_pex_the_base_and_the_recipe(tmp_path: Path) -> None:
    pex = packed_pex(tmp_path)
    key = inputs_hash(pex, "base1", b"recipe")

    assert inputs_hash(pex, "base1", b"recipe") == key
    assert inputs_hash(pex, "base2", b"recipe") != key
    assert inputs_hash(pex, "base1", b"recipe 2") != key
    wheel = pex / ".deps/prefect-3.0-py3-none-any.whl/prefect.py"
    wheel.write_text("VERSION = 4\n")
    assert inputs_hash(pex, "base1", b"recipe") != key
    wheel.write_text("VERSION = 3\n")
    assert inputs_hash(pex, "base1", b"recipe") == key
    wheel.rename(wheel.with_name("other.py"))  # a path counts, not only contents
    assert inputs_hash(pex, "base1", b"recipe") != key


def test_published_deps_images_replace_their_pipelines_from_address_in_one_option() -> None:
    registry = "127.0.0.1:5000/rio"
    assert inputs_reference(SMTR, registry, "abc") == "127.0.0.1:5000/rio/rj-smtr--gps-brt-deps:inputs-abc"
    assert build_arg(SMTR) == "DEPS_IMAGE_RJ_SMTR__GPS_BRT"

    published = DepsImage(SMTR, "ref", published=f"{registry}/rj-smtr--gps-brt-deps@sha256:00")
    missing = DepsImage(COR, "ref2", why_not="manifest unknown")
    assert build_options([published, missing]) == [
        "--docker-build-args=+['DEPS_IMAGE_RJ_SMTR__GPS_BRT=127.0.0.1:5000/rio/rj-smtr--gps-brt-deps@sha256:00']"
    ]
    assert build_options([missing]) == []
