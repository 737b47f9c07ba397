"""Corpus flow of rj_corpus__source_in_every_schedule: a dump whose database each schedule names."""

from prefect import flow


@flow(name="rj_corpus__source_in_every_schedule")
def rj_corpus__source_in_every_schedule(
    table_id: str,
    database_url: str | None = None,
    db_type: str | None = None,
    db_host: str | None = None,
    db_credentials: str | None = None,
) -> int:
    return 1
