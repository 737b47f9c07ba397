"""What a fleet deploy added to the registry, by kind, and which pipeline layers kept their digest
(fleet_rebuild.py).

The registry is read after the deploy: every image it holds (the base, each pipeline's deps image, each
pipeline image) is a manifest, a config and layers. A new blob is:
- a manifest or a config when an image names it so;
- a base layer when it is a layer of a base image (the OS layers included);
- a sources layer when it is the last layer of a pipeline image (the code stage);
- a deps layer otherwise (between the base and the sources: the pipeline's requirements);
- other when no image names it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

KINDS = ("base layers", "deps layers", "sources layers", "configs", "manifests", "other")
BASE, DEPS, PIPELINE = "base", "deps", "pipeline"


@dataclass(frozen=True)
class ImageBlobs:
    repository: str
    tag: str
    kind: str  # BASE, DEPS (a pipeline's deps image) or PIPELINE
    manifest: str  # digests without the "sha256:" prefix, as the registry stores them
    config: str
    layers: tuple[str, ...]  # oldest first


@dataclass(frozen=True)
class KindTotal:
    blobs: int = 0
    bytes: int = 0


def bare(digest: str) -> str:
    return digest.removeprefix("sha256:")


def classify_blobs(new_blobs: Mapping[str, int], images: Iterable[ImageBlobs]) -> dict[str, KindTotal]:
    """Count and bytes of ``new_blobs`` (digest -> stored size) per kind of KINDS."""
    images = list(images)
    roles: dict[str, str] = {}
    base_layers = {layer for image in images if image.kind == BASE for layer in image.layers}
    for image in images:
        roles[image.manifest] = "manifests"
        roles[image.config] = "configs"
    for image in images:
        for index, layer in enumerate(image.layers):
            if layer in roles:
                continue
            if layer in base_layers:
                roles[layer] = "base layers"
            elif image.kind == PIPELINE and index == len(image.layers) - 1:
                roles[layer] = "sources layers"
            else:
                roles[layer] = "deps layers"
    totals = {kind: KindTotal() for kind in KINDS}
    for digest, size in new_blobs.items():
        kind = roles.get(bare(digest), "other")
        totals[kind] = KindTotal(totals[kind].blobs + 1, totals[kind].bytes + size)
    return totals


def pipeline_layers(layers: Sequence[str], base_layers: set[str]) -> list[str]:
    """The layers above the image's base: the leading layers found in a base image are left out."""
    index = 0
    while index < len(layers) and layers[index] in base_layers:
        index += 1
    return list(layers[index:])


def layers_reused(new: Sequence[str], previous: Sequence[str], base_layers: set[str]) -> tuple[int, int]:
    """(kept, total): how many of the new image's pipeline layers (deps, sources) have the digest of the
    layer at the same position above the base in the previous image."""
    above_new = pipeline_layers(new, base_layers)
    above_previous = pipeline_layers(previous, base_layers)
    kept = sum(
        1
        for index, layer in enumerate(above_new)
        if index < len(above_previous) and above_previous[index] == layer
    )
    return kept, len(above_new)
