"""Corpus flow of rj_SMTR__Onibus."""

from prefect import flow


@flow(name="rj_SMTR__Onibus")
def rj_SMTR__Onibus(table: str, batch_size: int = 10, lake_uri: str | None = None) -> int:
    return 1
