"""Corpus flow of rj_corpus__deep_parameters."""

from prefect import flow


@flow(name="rj_corpus__deep_parameters")
def rj_corpus__deep_parameters(table: str, options: dict | None = None) -> int:
    return 1
