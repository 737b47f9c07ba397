"""Corpus flow of rj_corpus__entrypoint_functions."""

from prefect import flow


@flow(name="rj_corpus__entrypoint_functions")
def rj_corpus__entrypoint_functions(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1


def helper(table: str) -> None:
    pass
