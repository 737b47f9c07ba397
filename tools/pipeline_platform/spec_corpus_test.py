"""The validator on a corpus of bad and odd pipelines, written the ways the city's engineers write them.

Each ``testdata/corpus/<case>/`` holds the pipeline's files and a ``case.yaml``: its class (1 crashed the
old validator, 2 one problem hid others, 3 a valid file was rejected, 4 the messages were poor, 5 odd input),
what it is about, its directory name and every problem expected (file, line, words of the reason). Each
problem must be found once, nothing else, in file and line order, and nothing may raise.
"""

from __future__ import annotations

import copy
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline_platform.pools import POOLS_DIR
from pipeline_platform.repo_root import find_repo_root
from pipeline_platform.spec import Problem, SpecError, load_pipeline, validate_pipeline
from pipeline_platform.validator.messages import INTERNAL_ERROR

CORPUS = Path(__file__).parent / "testdata" / "corpus"
TEMPLATES = find_repo_root() / "infra" / "work-pools"
CASES = sorted(path.name for path in CORPUS.iterdir() if (path / "case.yaml").is_file())


def case_of(name: str) -> dict[str, Any]:
    meta: dict[str, Any] = yaml.safe_load((CORPUS / name / "case.yaml").read_text())
    return meta


def install(name: str, repo: Path) -> Path:
    """The case as ``repo/pipelines/<directory>``, with the committed work pool templates."""
    directory = repo / "pipelines" / str(case_of(name)["directory"])
    shutil.copytree(CORPUS / name, directory, ignore=shutil.ignore_patterns("case.yaml"))
    shutil.copytree(TEMPLATES, repo / POOLS_DIR)
    return directory


def relative(problem: Problem, directory: Path) -> str:
    """The problem's file relative to the pipeline ('' for the directory itself)."""
    path = problem.path.rstrip("/")
    return "" if path == str(directory) else str(Path(path).relative_to(directory))


def test_the_corpus_covers_every_class() -> None:
    classes = [case_of(name)["class"] for name in CASES]
    assert set(classes) == {1, 2, 3, 4, 5}
    assert all(classes.count(cls) >= 5 for cls in range(1, 6)), classes


@pytest.mark.parametrize("name", CASES)
def test_every_expected_problem_once_and_nothing_else(tmp_path: Path, name: str) -> None:
    directory = install(name, tmp_path)

    problems = validate_pipeline(directory)

    assert problems == sorted(problems), "problems must come by file, then line"
    assert not [problem for problem in problems if INTERNAL_ERROR in problem.reason]
    found = [(relative(problem, directory), problem.line, problem.reason) for problem in problems]
    unmatched = list(found)
    for expected in case_of(name)["problems"]:
        match = next(
            (
                item
                for item in unmatched
                if item[:2] == (expected["file"], expected["line"]) and expected["says"] in item[2]
            ),
            None,
        )
        assert match is not None, f"expected {expected} among {found}"
        unmatched.remove(match)
    assert unmatched == [], "reported but not expected"


@pytest.mark.parametrize("name", [name for name in CASES if not case_of(name)["problems"]])
def test_valid_cases_load_into_deployments(tmp_path: Path, name: str) -> None:
    spec = load_pipeline(install(name, tmp_path))

    assert {deployment.environment for deployment in spec.deployments} == {"prod", "staging"}
    for deployment in spec.deployments:
        assert deployment.rendered_job_variables("abc1234")["image"].endswith(":abc1234")
        assert deployment.schedule_objects()


@pytest.mark.parametrize("name", [name for name in CASES if case_of(name)["problems"]])
def test_broken_cases_do_not_load(tmp_path: Path, name: str) -> None:
    with pytest.raises(SpecError) as raised:
        load_pipeline(install(name, tmp_path))
    assert raised.value.problems


def test_a_required_parameter_given_by_every_schedule_reaches_each_schedule(tmp_path: Path) -> None:
    spec = load_pipeline(install("required_in_schedules", tmp_path))

    staging = spec.for_environment("staging")[0]
    assert staging.parameters == {}
    assert [schedule.parameters for schedule in staging.schedule_objects()] == [
        {"table": "chamado"},
        {"table": "bairro", "batch_size": 5000},
    ]


def test_anchors_and_merge_keys_give_each_deployment_its_values(tmp_path: Path) -> None:
    spec = load_pipeline(install("anchors", tmp_path))

    prod, staging = spec.for_environment("prod")[0], spec.for_environment("staging")[0]
    assert prod.job_variables["secretName"] == "prefect-jobs-secrets"
    assert staging.job_variables["secretName"] == "prefect-jobs-secrets-staging"
    assert staging.job_variables["image"] == prod.job_variables["image"]
    assert staging.parameters == prod.parameters == {"table": "chamado"}


def big_pipeline(repo: Path, schedules: int, description_bytes: int, flow_lines: int) -> Path:
    """The digit_pipeline case grown: many schedules, a long description, a long flow file."""
    directory = install("digit_pipeline", repo)
    document = yaml.safe_load((directory / "prefect.yaml").read_text())
    for deployment in document["deployments"]:
        deployment["description"] = "x" * description_bytes
        deployment["schedules"] = [
            {"cron": f"{minute % 60} {minute // 60 % 24} * * *", "timezone": "America/Sao_Paulo"}
            for minute in range(schedules)
        ]
    (directory / "prefect.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    helpers = "".join(
        f"\n\ndef helper_{index}(value: int) -> int:\n    return value + {index}\n"
        for index in range(flow_lines // 4)
    )
    flow = directory / "flow.py"
    flow.write_text(flow.read_text() + helpers)
    return directory


def test_a_very_large_pipeline_is_validated_in_seconds(tmp_path: Path) -> None:
    directory = big_pipeline(tmp_path, schedules=2_000, description_bytes=2_000_000, flow_lines=10_000)
    assert (directory / "prefect.yaml").stat().st_size > 4_000_000

    started = time.perf_counter()
    spec = load_pipeline(directory)
    elapsed = time.perf_counter() - started

    assert len(spec.for_environment("staging")[0].schedules) == 2_000
    assert elapsed < 60, f"{elapsed:.1f} s"


def test_thousands_of_problems_are_each_reported(tmp_path: Path) -> None:
    directory = install("digit_pipeline", tmp_path)
    document = yaml.safe_load((directory / "prefect.yaml").read_text())
    staging = document["deployments"][1]
    staging["work_pool"]["job_variables"]["secretName"] = "prefect-jobs-secrets"
    document["deployments"] = [copy.deepcopy(staging) for _ in range(1_000)]
    (directory / "prefect.yaml").write_text(yaml.safe_dump(document, sort_keys=False))

    reasons = [problem.reason for problem in validate_pipeline(directory)]

    assert sum("secretName must be 'prefect-jobs-secrets-staging'" in reason for reason in reasons) == 1_000
    assert sum("a second deployment for 'staging'" in reason for reason in reasons) == 999
    assert len(reasons) == 1_999
