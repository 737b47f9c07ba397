"""Offline, strict validation of Kubernetes manifests against the schemas bundled in kubernetes-validate.

Strict mode rejects unknown fields (the API server would drop them with a warning, so a typo or a field put
in the wrong object silently does nothing), besides wrong types and missing required fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import kubernetes_validate
from kubernetes_validate.utils import all_versions

# The cluster versions the jobs must be valid for (kubernetes-validate 1.37 bundles 1.25 to 1.37).
KUBERNETES_VERSIONS = ("1.28", "1.29", "1.30", "1.31")


def bundled_versions() -> list[str]:
    """The Kubernetes versions (major.minor) whose schemas the installed kubernetes-validate ships."""
    return sorted({".".join(version.split(".")[:2]) for version in all_versions()}, key=_version_key)


def manifest_problems(
    manifest: Mapping[str, Any], versions: Iterable[str] = KUBERNETES_VERSIONS
) -> list[str]:
    """One line per version the manifest is not valid for (strict mode); empty when valid for all."""
    problems: list[str] = []
    bundled = set(bundled_versions())
    for version in versions:
        if version not in bundled:
            # kubernetes-validate would silently fall back to an older schema: refuse instead.
            problems.append(f"Kubernetes {version}: no schema bundled in kubernetes-validate")
            continue
        try:
            kubernetes_validate.validate(dict(manifest), version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(part) for part in error.path) or "(top level)"
            problems.append(f"Kubernetes {version}: {where}: {error.message}")
    return problems


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
