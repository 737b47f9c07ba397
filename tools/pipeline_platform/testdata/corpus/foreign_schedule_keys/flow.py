"""Corpus flow of rj_corpus__foreign_schedule_keys."""

from prefect import flow


@flow(name="rj_corpus__foreign_schedule_keys")
def rj_corpus__foreign_schedule_keys(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
