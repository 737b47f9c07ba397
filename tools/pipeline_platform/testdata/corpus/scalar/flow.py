"""Corpus flow of rj_corpus__scalar."""

from prefect import flow


@flow(name="rj_corpus__scalar")
def rj_corpus__scalar(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
