"""Corpus flow of rj_corpus__invalid_yaml."""

from prefect import flow


@flow(name="rj_corpus__invalid_yaml")
def rj_corpus__invalid_yaml(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
