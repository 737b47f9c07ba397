"""Corpus flow of rj_corpus__misspelt_job_variables."""

from prefect import flow


@flow(name="rj_corpus__misspelt_job_variables")
def rj_corpus__misspelt_job_variables(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
