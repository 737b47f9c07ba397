"""Fluxo de captação of rj_corpus__latin1_flow."""

from prefect import flow


@flow(name="rj_corpus__latin1_flow")
def rj_corpus__latin1_flow(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
