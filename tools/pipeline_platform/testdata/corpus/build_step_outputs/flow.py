"""Corpus flow of rj_corpus__build_step_outputs."""

from prefect import flow


@flow(name="rj_corpus__build_step_outputs")
def rj_corpus__build_step_outputs(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
