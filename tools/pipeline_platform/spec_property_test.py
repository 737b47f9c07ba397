"""Properties of the validator on arbitrary input (hypothesis): whatever a prefect.yaml or a flow file holds,
``validate_pipeline`` returns problems, sorted by file and line, and never raises; ``load_pipeline`` returns
deployments or raises SpecError, nothing else. No problem may be the validator's own failure."""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline_platform.repo_root import find_repo_root
from pipeline_platform.spec import Problem, SpecError, load_pipeline, validate_pipeline
from pipeline_platform.testing import PIPELINE, prefect_yaml, write_pipeline
from pipeline_platform.validator.messages import INTERNAL_ERROR

TEMPLATES = find_repo_root() / "infra" / "work-pools"
SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Values YAML can hold (what yaml.safe_dump writes back), nested.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.dates(),
    st.sampled_from(
        ["{{ $IMAGE_TAG }}", "{{ build-image.tag }}", "prefect-jobs-secrets", "default-pool", "0 3 * * *"]
    ),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Path]:
    """One pipeline directory, rewritten by each example (the flow's schema is cached by content)."""
    repo = Path(tempfile.mkdtemp(prefix="spec-property-"))
    try:
        yield write_pipeline(repo, templates=TEMPLATES)
    finally:
        shutil.rmtree(repo)


def check(directory: Path) -> list[Problem]:
    problems = validate_pipeline(directory)
    assert all(isinstance(problem, Problem) for problem in problems)
    assert problems == sorted(problems)
    assert not [str(problem) for problem in problems if INTERNAL_ERROR in problem.reason]
    try:
        load_pipeline(directory)
    except SpecError as error:
        assert error.problems == problems
    else:
        assert problems == []
    return problems


def mutate(document: Any, path: list[Any], value: Any) -> Any:
    """``document`` with the item at ``path`` (as far as it exists) replaced by ``value``."""
    document = copy.deepcopy(document)
    if not path:
        return value
    target = document
    for step in path[:-1]:
        if isinstance(target, dict) and target:
            target = target[list(target)[step % len(target)]]
        elif isinstance(target, list) and target:
            target = target[step % len(target)]
        else:
            return document
    if isinstance(target, dict) and target:
        target[list(target)[path[-1] % len(target)]] = value
    elif isinstance(target, list) and target:
        target[path[-1] % len(target)] = value
    return document


@SETTINGS
@given(document=values)
def test_any_yaml_document(pipeline: Path, document: Any) -> None:
    (pipeline / "prefect.yaml").write_text(yaml.safe_dump(document))

    assert check(pipeline)


@SETTINGS
@given(path=st.lists(st.integers(min_value=0, max_value=20), max_size=6), value=values)
def test_a_valid_document_with_any_part_replaced(pipeline: Path, path: list[int], value: Any) -> None:
    (pipeline / "prefect.yaml").write_text(
        yaml.safe_dump(mutate(prefect_yaml(), path, value), sort_keys=False)
    )

    check(pipeline)


@SETTINGS
@given(content=st.one_of(st.text(max_size=300).map(str.encode), st.binary(max_size=300)))
def test_any_bytes_as_prefect_yaml(pipeline: Path, content: bytes) -> None:
    (pipeline / "prefect.yaml").write_bytes(content)

    check(pipeline)


ANNOTATIONS = [
    "str",
    "int | None",
    "Buckets",
    "Buckets | None",
    "list[Buckets]",
    "Model",
    "Mode",
    "Literal['a', 'b']",
    "'Later'",
    "'Missing'",
    "Annotated[int, 'x']",
    "dict[str, list[int]]",
    "list[int, str]",
    "Callable[[int], str]",
    "NotAType()",
    "1 / 0",
    "type",
    "object",
    "Any",
]
DEFAULTS = [
    "None",
    "1",
    "'a'",
    "Mode.A",
    "[]",
    "{}",
    "1 / 0",
    "undefined_name",
    "lambda: 1",
    "Model(table='x')",
]
PRELUDE = """\
import enum
from typing import Annotated, Any, Callable, Literal, TypedDict

from prefect import flow
from pydantic import BaseModel


class Buckets(TypedDict):
    prod: str


class Model(BaseModel):
    table: str


class Mode(enum.Enum):
    A = "a"
"""
parameter = st.tuples(
    st.sampled_from(["table", "batch_size", "lake_uri", "x", "self", "flow"]),
    st.one_of(st.none(), st.sampled_from(ANNOTATIONS)),
    st.one_of(st.none(), st.sampled_from(DEFAULTS)),
)


@st.composite
def flow_sources(draw: st.DrawFn) -> str:
    """A flow file: Prefect's @flow over a signature of exotic annotations and defaults, sometimes broken."""
    parameters = draw(st.lists(parameter, max_size=5, unique_by=lambda item: item[0]))
    rendered = ", ".join(
        f"{name}{f': {annotation}' if annotation else ''}{f' = {default}' if default else ''}"
        for name, annotation, default in parameters
    )
    decorator = draw(
        st.sampled_from(["@flow", f'@flow(name="{PIPELINE}")', "@flow(name=NAME)", "", "@other"])
    )
    keyword = draw(st.sampled_from(["def", "async def"]))
    body = draw(st.sampled_from(["    return 1", "    pass", "    return (", "  return 1\n pass"]))
    tail = draw(
        st.sampled_from(
            ["", "NAME = 'x'\n", "class Later(BaseModel):\n    x: int\n", "raise SystemExit(1)\n"]
        )
    )
    return f"{PRELUDE}\n\n{decorator}\n{keyword} {PIPELINE}({rendered}) -> int:\n{body}\n\n\n{tail}"


@SETTINGS
@given(
    source=st.one_of(
        flow_sources().map(str.encode), st.text(max_size=200).map(str.encode), st.binary(max_size=200)
    )
)
def test_any_flow_source(pipeline: Path, source: bytes) -> None:
    (pipeline / "prefect.yaml").write_text(yaml.safe_dump(prefect_yaml(), sort_keys=False))
    (pipeline / "flow.py").write_bytes(source)

    check(pipeline)
