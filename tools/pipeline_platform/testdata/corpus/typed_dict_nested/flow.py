"""Corpus flow of rj_corpus__typed_dict_nested."""

import typing

from prefect import flow


class Buckets(typing.TypedDict):
    name: str


@flow(name="rj_corpus__typed_dict_nested")
def rj_corpus__typed_dict_nested(table: str, *, buckets: list[Buckets] | None = None) -> int:
    return 1
