"""The contract of prefect_internals.py with the installed Prefect: a Prefect upgrade fails here first.

``CHECKED_WITH`` is the Prefect version these private APIs were last read against. The test resolve installs
the version of 3rdparty/python/pins/prefect.txt, so raising that pin fails ``test_checked_with_the_pinned_
prefect`` until someone reruns the other tests on the new version and updates ``CHECKED_WITH``.
"""

from __future__ import annotations

import asyncio
import datetime
import importlib.metadata
import inspect
from typing import Any, NoReturn

import prefect.client.orchestration
import pytest
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule, RRuleSchedule
from prefect_kubernetes.worker import KubernetesWorkerJobConfiguration

from pipeline_platform.pools import load_pool_templates
from pipeline_platform.prefect_internals import (
    DeploymentConfig,
    OfflineClientError,
    PrefectYamlModel,
    RawScheduleConfig,
    WorkPoolConfig,
    offline_client,
    schedule_config_to_deployment_schedule,
    signature_from_source,
)
from pipeline_platform.repo_root import find_repo_root
from pipeline_platform.validator.fields import fields

CHECKED_WITH = "3.9.1"


def test_checked_with_the_pinned_prefect() -> None:
    installed = importlib.metadata.version("prefect")
    assert installed == CHECKED_WITH, (
        f"Prefect {installed} is pinned, but prefect_internals.py was checked against {CHECKED_WITH}: run "
        "this file's tests on the new version, fix what they name, then set CHECKED_WITH"
    )


def test_prefect_yaml_models_have_the_keys_the_validator_and_importer_read() -> None:
    assert {"name", "prefect-version", "build", "push", "pull", "deployments"} <= set(
        fields(PrefectYamlModel)
    )
    assert {
        "name",
        "description",
        "entrypoint",
        "flow_name",
        "parameters",
        "tags",
        "schedule",
        "schedules",
        "paused",
        "concurrency_limit",
        "enforce_parameter_schema",
        "work_pool",
        "build",
        "push",
        "pull",
        "triggers",
        "sla",
    } <= set(fields(DeploymentConfig))
    assert {"name", "work_queue_name", "job_variables"} <= set(fields(WorkPoolConfig))
    assert {"cron", "interval", "rrule", "timezone", "anchor_date", "active", "parameters", "slug"} <= set(
        fields(RawScheduleConfig)
    )


def test_prefect_yaml_models_parse_a_deployment() -> None:
    config = DeploymentConfig.model_validate(
        {
            "name": "rj-teste--exemplo--prod",
            "entrypoint": "pipelines/rj_teste__exemplo/flow.py:rj_teste__exemplo",
            "tags": "one",
            "work_pool": {"name": "datario-pool", "job_variables": {"image": "x:{{ $IMAGE_TAG }}"}},
        }
    )
    assert config.work_pool is not None and config.work_pool.name == "datario-pool"
    assert config.work_pool.job_variables == {"image": "x:{{ $IMAGE_TAG }}"}
    assert config.work_pool.work_queue_name is None
    assert dict(config.parameters) == {}


def test_schedule_conversion_gives_what_prefect_deploy_registers() -> None:
    cron = DeploymentScheduleCreate(
        **schedule_config_to_deployment_schedule(
            {"cron": "0 3 * * *", "timezone": "America/Sao_Paulo", "active": False, "parameters": {"a": 1}}
        )
    )
    assert isinstance(cron.schedule, CronSchedule)
    assert (cron.schedule.cron, cron.schedule.timezone) == ("0 3 * * *", "America/Sao_Paulo")
    assert cron.active is False and cron.parameters == {"a": 1}

    anchor = datetime.datetime(2026, 1, 1, 6, tzinfo=datetime.UTC)
    interval = DeploymentScheduleCreate(
        **schedule_config_to_deployment_schedule(
            {"interval": 900, "anchor_date": anchor.isoformat(), "timezone": "America/Sao_Paulo"}
        )
    )
    assert isinstance(interval.schedule, IntervalSchedule)
    assert interval.schedule.interval == datetime.timedelta(seconds=900)
    assert interval.schedule.anchor_date == anchor

    rrule = DeploymentScheduleCreate(
        **schedule_config_to_deployment_schedule(
            {"rrule": "FREQ=DAILY;BYHOUR=4", "timezone": "America/Sao_Paulo"}
        )
    )
    assert isinstance(rrule.schedule, RRuleSchedule)


def test_signature_from_source_reads_without_importing() -> None:
    source = (
        "import module_that_does_not_exist\n\n"
        "def dump(table: str, batch_size: int = 10, *, lake: 'Lake | None' = None) -> int:\n"
        "    return 0\n"
    )
    signature = signature_from_source(source, "dump", "flow.py")
    assert list(signature.parameters) == ["table", "batch_size", "lake"]
    assert signature.parameters["batch_size"].default == 10
    assert signature.parameters["lake"].kind is inspect.Parameter.KEYWORD_ONLY


def no_client(*args: object, **kwargs: object) -> NoReturn:
    raise AssertionError("a Prefect client was created (and, with no API URL, an ephemeral server started)")


def configuration(values: dict[str, Any], template: dict[str, Any] | None = None) -> Any:
    template = template or load_pool_templates(find_repo_root())["default-pool"]
    return asyncio.run(
        KubernetesWorkerJobConfiguration.from_template_and_values(template, values, client=offline_client())
    )


def test_a_job_configuration_renders_with_the_offline_client_and_no_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(prefect.client.orchestration, "get_client", no_client)

    rendered = configuration({"image": "rj-teste--exemplo:0a1b2c3", "secretName": "prefect-jobs-secrets"})

    container = rendered.job_manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "rj-teste--exemplo:0a1b2c3"
    assert container["envFrom"] == [{"secretRef": {"name": "prefect-jobs-secrets"}}]


@pytest.mark.parametrize(
    "reference",
    [
        "{{ prefect.variables.secret_name }}",
        "{{ prefect.blocks.secret.name }}",
        {"$ref": {"block_document_id": "x"}},
    ],
)
def test_what_needs_a_server_asks_the_offline_client_and_fails(
    monkeypatch: pytest.MonkeyPatch, reference: Any
) -> None:
    monkeypatch.setattr(prefect.client.orchestration, "get_client", no_client)

    with pytest.raises(OfflineClientError, match="needs one"):
        configuration({"image": "rj-teste--exemplo:0a1b2c3", "secretName": reference})
