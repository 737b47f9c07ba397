"""Corpus flow of rj_corpus__anchors."""

from prefect import flow


@flow(name="rj_corpus__anchors")
def rj_corpus__anchors(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
