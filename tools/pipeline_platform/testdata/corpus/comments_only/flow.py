"""Corpus flow of rj_corpus__comments_only."""

from prefect import flow


@flow(name="rj_corpus__comments_only")
def rj_corpus__comments_only(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
