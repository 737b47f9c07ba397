"""Corpus flow of rj_corpus__date_values."""

from prefect import flow


@flow(name="rj_corpus__date_values")
def rj_corpus__date_values(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
