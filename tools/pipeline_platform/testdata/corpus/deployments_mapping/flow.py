"""Corpus flow of rj_corpus__deployments_mapping."""

from prefect import flow


@flow(name="rj_corpus__deployments_mapping")
def rj_corpus__deployments_mapping(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
