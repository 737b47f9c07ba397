from pathlib import Path

from pipeline_platform.base_image import BaseImage, inputs_hash, inputs_reference


def write(root: Path, files: dict[str, str]) -> list[str]:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return list(files)


def test_the_inputs_hash_follows_contents_paths_and_the_os_image_not_the_order(tmp_path: Path) -> None:
    files = write(tmp_path, {"Dockerfile": "FROM x\n", "3rdparty/python/pins/prefect.txt": "prefect==3\n"})
    key = inputs_hash(tmp_path, files, "os:1")

    assert inputs_hash(tmp_path, list(reversed(files)), "os:1") == key
    assert inputs_hash(tmp_path, files, "os:2") != key
    assert inputs_hash(tmp_path, files[:1], "os:1") != key
    (tmp_path / "Dockerfile").write_text("FROM x\nRUN true\n")  # uncommitted edits count
    assert inputs_hash(tmp_path, files, "os:1") != key
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    assert inputs_hash(tmp_path, files, "os:1") == key


def test_a_published_base_replaces_the_address_in_from_and_none_builds_it() -> None:
    reference = inputs_reference("127.0.0.1:5000/rio", "abc")
    assert reference == "127.0.0.1:5000/rio/rio-pipelines-base:inputs-abc"

    published = BaseImage(reference, published="127.0.0.1:5000/rio/rio-pipelines-base@sha256:00")
    assert published.build_options() == [
        "--docker-build-args=+['BASE_IMAGE=127.0.0.1:5000/rio/rio-pipelines-base@sha256:00']"
    ]
    assert BaseImage(reference, why_not="manifest unknown").build_options() == []
