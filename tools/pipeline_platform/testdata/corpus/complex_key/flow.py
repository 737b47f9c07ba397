"""Corpus flow of rj_corpus__complex_key."""

from prefect import flow


@flow(name="rj_corpus__complex_key")
def rj_corpus__complex_key(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
