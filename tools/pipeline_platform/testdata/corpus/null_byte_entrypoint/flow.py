"""Corpus flow of rj_corpus__null_byte_entrypoint."""

from prefect import flow


@flow(name="rj_corpus__null_byte_entrypoint")
def rj_corpus__null_byte_entrypoint(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
