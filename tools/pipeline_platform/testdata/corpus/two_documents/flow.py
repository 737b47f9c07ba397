"""Corpus flow of rj_corpus__two_documents."""

from prefect import flow


@flow(name="rj_corpus__two_documents")
def rj_corpus__two_documents(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
