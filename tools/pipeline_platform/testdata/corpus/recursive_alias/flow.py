"""Corpus flow of rj_corpus__recursive_alias."""

from prefect import flow


@flow(name="rj_corpus__recursive_alias")
def rj_corpus__recursive_alias(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
