"""Corpus flow of rj_corpus__entrypoint_files."""

from prefect import flow


@flow(name="rj_corpus__entrypoint_files")
def rj_corpus__entrypoint_files(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
