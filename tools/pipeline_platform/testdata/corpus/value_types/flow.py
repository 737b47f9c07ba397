"""Corpus flow of rj_corpus__value_types."""

from prefect import flow


@flow(name="rj_corpus__value_types")
def rj_corpus__value_types(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
