"""Corpus flow of rj_sec__1746_tickets."""

from prefect import flow


@flow(name="rj_sec__1746_tickets")
def rj_sec__1746_tickets(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
