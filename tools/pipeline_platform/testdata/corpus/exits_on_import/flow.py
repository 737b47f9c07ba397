"""Corpus flow of rj_corpus__exits_on_import."""

import sys

from prefect import flow


class Settings:
    if True:
        sys.exit(3)


@flow(name="rj_corpus__exits_on_import")
def rj_corpus__exits_on_import(table: str, settings: Settings | None = None) -> int:
    return 1
