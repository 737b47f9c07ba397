"""Corpus flow of rj_corpus__deployment_string."""

from prefect import flow


@flow(name="rj_corpus__deployment_string")
def rj_corpus__deployment_string(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
