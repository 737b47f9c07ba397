"""Corpus flow of rj_corpus__many_problems."""

from prefect import flow


@flow(name="rj_corpus__many_problems")
def rj_corpus__many_problems(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
