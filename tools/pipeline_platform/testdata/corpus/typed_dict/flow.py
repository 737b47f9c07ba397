"""Corpus flow of rj_corpus__typed_dict."""

from typing import TypedDict

from prefect import flow


class Buckets(TypedDict):
    prod: str
    staging: str


@flow(name="rj_corpus__typed_dict")
def rj_corpus__typed_dict(buckets: Buckets | None = None, table: str = 'chamado') -> int:
    return 1
