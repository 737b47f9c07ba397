"""What every rule of the prefect.yaml validator shares: the file, the problems found so far, and the guard
that turns a rule's own bug into a problem of the part it was checking."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from pipeline_platform.flow_source import FlowFile
from pipeline_platform.pools import POOLS_DIR, PoolTemplates, load_pool_templates
from pipeline_platform.problems import Problem
from pipeline_platform.repo import DEPLOYMENTS_FILE
from pipeline_platform.validator import messages
from pipeline_platform.validator.fields import Found, format_location
from pipeline_platform.yaml_document import Location, YamlDocument


class Checker:
    """The problems of one pipeline's prefect.yaml, collected while its rules run."""

    def __init__(self, pipeline_dir: Path, pool_templates: PoolTemplates | None) -> None:
        self.pipeline_dir = pipeline_dir
        self.file = pipeline_dir / DEPLOYMENTS_FILE
        # Not resolve(): a symlink loop must be a problem, not an error; entrypoints are relative to the root.
        absolute = Path(os.path.abspath(pipeline_dir))
        self.dir_name = absolute.name
        self.repo_root = absolute.parent.parent
        self._pool_templates = pool_templates
        self.problems: list[Problem] = []
        self.document = YamlDocument()
        self.flow_files: dict[Path, FlowFile] = {}

    def problem(self, location: Location, reason: str) -> None:
        """A problem at ``location`` of the document (its line when known)."""
        where = format_location(location)
        self.problems.append(
            Problem(str(self.file), f"{where}: {reason}" if where else reason, self.document.line(location))
        )

    def report(self, found: Found) -> None:
        for location, reason in found:
            self.problem(location, reason)

    @contextlib.contextmanager
    def guard(self, location: Location, part: str) -> Iterator[None]:
        """A bug of a rule becomes a problem of the part it was checking; the other rules still run."""
        try:
            yield
        except Exception as error:  # the validator must never raise on what users write
            self.problem(location, messages.internal_error(part, error))

    @property
    def pool_templates(self) -> PoolTemplates:
        if self._pool_templates is None:
            try:
                self._pool_templates = load_pool_templates(self.repo_root)
            except (OSError, ValueError) as error:
                self.problems.append(
                    Problem(str(self.repo_root / POOLS_DIR), f"cannot read the work pool templates: {error}")
                )
                self._pool_templates = {}
        return self._pool_templates
