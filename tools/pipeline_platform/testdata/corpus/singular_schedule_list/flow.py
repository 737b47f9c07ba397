"""Corpus flow of rj_corpus__singular_schedule_list."""

from prefect import flow


@flow(name="rj_corpus__singular_schedule_list")
def rj_corpus__singular_schedule_list(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
