"""Corpus flow of rj_corpus__python_tag."""

from prefect import flow


@flow(name="rj_corpus__python_tag")
def rj_corpus__python_tag(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
