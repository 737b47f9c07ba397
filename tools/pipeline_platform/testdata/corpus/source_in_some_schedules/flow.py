"""Corpus flow of rj_corpus__source_in_some_schedules: a dump whose database one schedule forgets."""

from prefect import flow


@flow(name="rj_corpus__source_in_some_schedules")
def rj_corpus__source_in_some_schedules(
    table_id: str,
    database_url: str | None = None,
    db_type: str | None = None,
    db_host: str | None = None,
    db_credentials: str | None = None,
) -> int:
    return 1
