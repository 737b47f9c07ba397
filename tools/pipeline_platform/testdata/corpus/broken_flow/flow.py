"""Corpus flow of rj_corpus__broken_flow."""

from prefect import flow


@flow(name="rj_corpus__broken_flow")
def rj_corpus__broken_flow(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return (1
