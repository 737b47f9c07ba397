"""The pipeline's source and validation; pipelines/common/capture.py fetches and writes (see README.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pipelines.common.capture import Capture
from pipelines.common.http import SourceError

DATASET_ID: Final = "brutos_{{ cookiecutter.secretaria }}"
RAW_TABLE_DIR: Final = f"{DATASET_ID}/{{ cookiecutter.pipeline }}"
FILE_PREFIX: Final = "{{ cookiecutter.pipeline }}"


def extract_records(url: str, payload: Any) -> list[Any]:
    """The records in the source's payload: here, a JSON list. Adapt it to the real source's format."""
    if not isinstance(payload, list):
        raise SourceError(url, "unexpected payload: expected a JSON list of records")
    return payload


def sample_records(captured_at: datetime) -> list[dict[str, Any]]:
    """Records shaped like the source's, served on 127.0.0.1 in a local run without a source."""
    return [
        {"id": number, "valor": round(number * 1.5, 2), "atualizado_em": captured_at.isoformat()}
        for number in range(1, 6)
    ]


# One file per capture minute: running the same minute again replaces it instead of duplicating. Give a
# `validate` (and a treated table) to keep validated rows beside the raw records.
CAPTURE: Final = Capture(
    name="{{ cookiecutter.__pipeline_dir }}",
    extract=extract_records,
    validate=None,
    sample=sample_records,
    raw_table_dir=RAW_TABLE_DIR,
    treated_table_dir=None,
    file_prefix=FILE_PREFIX,
    window_minutes=1,
    sample_path="/registros",
)
