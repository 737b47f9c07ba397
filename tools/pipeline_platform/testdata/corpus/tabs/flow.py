"""Corpus flow of rj_corpus__tabs."""

from prefect import flow


@flow(name="rj_corpus__tabs")
def rj_corpus__tabs(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
