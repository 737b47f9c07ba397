"""Defaults shared by every pipeline, each overridable by an environment variable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

LAKE_URI_ENV: Final = "PIPELINES_LAKE_URI"
LOCAL_DATA_DIR_ENV: Final = "PIPELINES_LOCAL_DATA_DIR"
# Tests only: the GCS JSON API server to talk to instead of Google's (e.g. http://127.0.0.1:9023).
GCS_ENDPOINT_ENV: Final = "PIPELINES_GCS_ENDPOINT_OVERRIDE"
DEFAULT_LOCAL_DATA_DIR: Final = "data"

RIO_TZ: Final = ZoneInfo("America/Sao_Paulo")


def local_data_dir() -> Path:
    """Directory for local runs' generated files (sample databases, default lake): ``./data``."""
    return Path(os.environ.get(LOCAL_DATA_DIR_ENV) or DEFAULT_LOCAL_DATA_DIR).expanduser().resolve()


def default_lake_uri() -> str:
    """``$PIPELINES_LAKE_URI`` (e.g. ``gs://bucket/prefix`` in production), else ``./data/lake``."""
    return os.environ.get(LAKE_URI_ENV) or str(local_data_dir() / "lake")


def is_local_uri(uri: str | None = None) -> bool:
    """Whether a lake URI (default: the configured one) is a directory of this machine."""
    uri = uri or default_lake_uri()
    return "://" not in uri or uri.startswith("file://")
