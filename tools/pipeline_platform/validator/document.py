"""Rules of the file as a whole: it exists and reads as a YAML mapping; its top-level keys (name, no build or
push steps, the one pull step, a list of deployments)."""

from __future__ import annotations

import os
from typing import Any

from pipeline_platform.prefect_internals import PrefectYamlModel
from pipeline_platform.problems import Problem
from pipeline_platform.validator import messages
from pipeline_platform.validator.checker import Checker
from pipeline_platform.validator.conventions import IMAGE_WORKDIR, PULL_STEPS
from pipeline_platform.validator.fields import Section, type_problems
from pipeline_platform.yaml_document import read_yaml


def read_document(checker: Checker) -> dict[Any, Any] | None:
    """The file's mapping, or None (with the problems) when it is missing, unreadable or not a mapping."""
    file = checker.file
    if not os.path.lexists(file):
        checker.problems.append(Problem(str(file), "missing: every pipeline declares its deployments here"))
        return None
    if not file.is_file():  # a directory, a FIFO (reading would block), a link to nothing
        what = "a link to a file that does not exist" if not file.exists() else "not a file"
        checker.problems.append(Problem(str(file), f"cannot be read: it is {what}"))
        return None
    checker.document = read_yaml(file)
    for line, reason in checker.document.problems:
        checker.problems.append(Problem(str(file), reason, line))
    raw = checker.document.data
    if not checker.document.readable:
        return None
    if raw is None:
        checker.problem((), messages.EMPTY_FILE)
        return None
    if not isinstance(raw, dict):
        checker.problem((), f"{messages.NOT_A_MAPPING}, not {messages.kind(raw)}")
        return None
    return raw


def check_top_level(checker: Checker, top: Section) -> None:
    checker.report(type_problems(top, PrefectYamlModel, ["prefect-version"]))
    if top.get("name") != checker.dir_name:
        checker.problem(
            top.at("name"), f"must be the directory name {checker.dir_name!r}, not {top.get('name')!r}"
        )
    for action in ("build", "push"):
        if top.get(action):
            checker.problem(
                top.at(action),
                f"`{action}:` steps are not run here: images are built and pushed by Pants "
                f"(leave `{action}: null`)",
            )
    if top.get("pull") != PULL_STEPS:
        checker.problem(
            top.at("pull"),
            f"must be exactly one set_working_directory step to {IMAGE_WORKDIR} (where the image keeps "
            "the sources)",
        )
    deployments = top.get("deployments")
    if isinstance(deployments, dict):
        checker.problem(top.at("deployments"), messages.MAPPING_NOT_LIST.format(what="deployment"))
    elif not isinstance(deployments, list):
        checker.problem(
            top.at("deployments"),
            "must be a list of deployments (`deployments: []` switches the pipeline off)",
        )
