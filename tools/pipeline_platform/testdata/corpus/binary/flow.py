"""Corpus flow of rj_corpus__binary."""

from prefect import flow


@flow(name="rj_corpus__binary")
def rj_corpus__binary(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
