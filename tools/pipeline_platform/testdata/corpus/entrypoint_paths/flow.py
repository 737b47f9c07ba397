"""Corpus flow of rj_corpus__entrypoint_paths."""

from prefect import flow


@flow(name="rj_corpus__entrypoint_paths")
def rj_corpus__entrypoint_paths(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
