"""Corpus flow of rj_corpus__duplicate_keys."""

from prefect import flow


@flow(name="rj_corpus__duplicate_keys")
def rj_corpus__duplicate_keys(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
