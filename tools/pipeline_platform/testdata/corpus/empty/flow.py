"""Corpus flow of rj_corpus__empty."""

from prefect import flow


@flow(name="rj_corpus__empty")
def rj_corpus__empty(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
