"""Corpus flow of rj_corpus__name_off_pattern."""

from prefect import flow


@flow(name="rj_corpus__name_off_pattern")
def rj_corpus__name_off_pattern(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
