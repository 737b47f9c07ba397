"""Corpus flow of rj_corpus__exotic_annotations: annotations as the city's engineers write them."""

from __future__ import annotations

import enum
from typing import Annotated, Literal, Optional

from prefect import flow
from pydantic import BaseModel, Field
from typing_extensions import TypedDict


class Mode(enum.Enum):
    FULL = "full"
    INCREMENTAL = "incremental"


class Query(BaseModel):
    table: str
    batch_size: int = 1000


class Buckets(TypedDict):
    prod: str
    staging: str


@flow(name="rj_corpus__exotic_annotations")
async def rj_corpus__exotic_annotations(
    mode: Mode = Mode.FULL,
    query: Query | None = None,
    kind: Literal["csv", "parquet"] = "parquet",
    buckets: Optional[Buckets] = None,
    later: "Later | None" = None,
    size: Annotated[int, Field(ge=1)] = 10,
    *,
    table: str,
) -> int:
    return size


class Later(BaseModel):
    x: int
