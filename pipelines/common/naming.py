"""Naming rules of the monorepo: the one place that maps a pipeline directory to its names.

Directories are ``rj_<secretaria>__<pipeline>``; deployments are ``rj-<secretaria>--<pipeline>--<env>``
(dashes instead of underscores), as in the city's original repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

ENVIRONMENTS: Final = ("prod", "staging")
WORK_POOLS: Final = ("default-pool", "datario-pool")
SECRET_NAMES: Final = {"prod": "prefect-jobs-secrets", "staging": "prefect-jobs-secrets-staging"}

# Lowercase ASCII letters, digits and single underscores; a secretaria starts with a letter, a pipeline may
# start with a digit (rj_segovi__1746_chamados). templates/hooks/pre_gen_project.py holds a copy.
_SECRETARIA = r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*"
_PIPELINE = r"[a-z0-9]+(?:_[a-z0-9]+)*"
PIPELINE_DIR_PATTERN: Final = re.compile(rf"^rj_(?P<secretaria>{_SECRETARIA})__(?P<pipeline>{_PIPELINE})$")


class NamingError(ValueError):
    """A name that does not follow the repository's conventions."""


@dataclass(frozen=True)
class PipelineName:
    secretaria: str
    pipeline: str

    @classmethod
    def from_dir(cls, dir_name: str) -> PipelineName:
        match = PIPELINE_DIR_PATTERN.match(dir_name)
        if match is None:
            raise NamingError(
                f"{dir_name!r} is not a valid pipeline directory name: use rj_<secretaria>__<pipeline> "
                "with lowercase letters, digits and single underscores, the secretaria starting with a "
                "letter (e.g. rj_segovi__dump_db_1746, rj_segovi__1746_chamados)"
            )
        return cls(match["secretaria"], match["pipeline"])

    @property
    def dir_name(self) -> str:
        return f"rj_{self.secretaria}__{self.pipeline}"

    def deployment_name(self, environment: str) -> str:
        if environment not in ENVIRONMENTS:
            raise NamingError(f"unknown environment {environment!r}: use one of {', '.join(ENVIRONMENTS)}")
        return f"rj-{_dashed(self.secretaria)}--{_dashed(self.pipeline)}--{environment}"

    @property
    def image_name(self) -> str:
        return f"rj-{_dashed(self.secretaria)}--{_dashed(self.pipeline)}"


def _dashed(word: str) -> str:
    return word.replace("_", "-")
