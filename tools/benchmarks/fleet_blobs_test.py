from __future__ import annotations

from benchmarks.fleet_blobs import (
    BASE,
    DEPS,
    PIPELINE,
    ImageBlobs,
    KindTotal,
    classify_blobs,
    layers_reused,
    pipeline_layers,
)

BASE_IMAGE = ImageBlobs("rio/rio-pipelines-base", "inputs-1", BASE, "m-base", "c-base", ("os", "b1", "b2"))
DEPS_IMAGE = ImageBlobs("rio/a-deps", "inputs-2", DEPS, "m-deps", "c-deps", ("os", "b1", "b2", "d1"))
PIPELINE_A = ImageBlobs("rio/a", "t1", PIPELINE, "m-a", "c-a", ("os", "b1", "b2", "d1", "s-a"))
# A pipeline whose requirements the base holds: no deps layer, its code right on the base.
PIPELINE_B = ImageBlobs("rio/b", "t1", PIPELINE, "m-b", "c-b", ("os", "b1", "b2", "s-b"))


def test_new_blobs_are_counted_by_the_role_an_image_gives_them() -> None:
    new = {
        "sha256:b2": 1000,
        "d1": 300,
        "s-a": 20,
        "s-b": 10,
        "c-a": 5,
        "c-b": 5,
        "c-deps": 5,
        "m-a": 2,
        "m-b": 2,
        "stray": 7,
    }
    totals = classify_blobs(new, [BASE_IMAGE, DEPS_IMAGE, PIPELINE_A, PIPELINE_B])
    assert totals == {
        "base layers": KindTotal(1, 1000),
        "deps layers": KindTotal(1, 300),
        "sources layers": KindTotal(2, 30),
        "configs": KindTotal(3, 15),
        "manifests": KindTotal(2, 4),
        "other": KindTotal(1, 7),
    }


def test_a_layer_shared_with_a_base_is_a_base_layer_even_as_a_pipeline_image_s_last() -> None:
    bare_image = ImageBlobs("rio/c", "t1", PIPELINE, "m-c", "c-c", ("os", "b1", "b2"))
    totals = classify_blobs({"b2": 9}, [bare_image, BASE_IMAGE])
    assert totals["base layers"] == KindTotal(1, 9)
    assert totals["sources layers"] == KindTotal()


def test_pipeline_layers_are_those_above_the_leading_base_layers() -> None:
    base = {"os", "b1", "b2", "old-b2"}
    assert pipeline_layers(PIPELINE_A.layers, base) == ["d1", "s-a"]
    assert pipeline_layers(("os", "old-b2", "d1", "s-a"), base) == ["d1", "s-a"]
    assert pipeline_layers(("os",), base) == []


def test_layers_reused_compares_positions_above_each_image_s_own_base() -> None:
    base = {"os", "b1", "b2", "new-b2"}
    previous = ("os", "b1", "b2", "d1", "s-a")
    assert layers_reused(("os", "b1", "new-b2", "d1", "s-a"), previous, base) == (2, 2)
    assert layers_reused(("os", "b1", "new-b2", "d1-new", "s-a"), previous, base) == (1, 2)
    # No previous image (a new pipeline): nothing kept.
    assert layers_reused(("os", "b1", "b2", "d1", "s-a"), (), base) == (0, 2)
