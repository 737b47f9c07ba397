"""The contract of prefect_internals.py with the installed Prefect: a Prefect upgrade fails here first.

``CHECKED_WITH`` is the Prefect version these private APIs were last read against. The test resolve installs
the version of 3rdparty/python/pins/prefect.txt, so raising that pin fails ``test_checked_with_the_pinned_
prefect`` until someone reruns the other tests on the new version and updates ``CHECKED_WITH``.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import inspect

from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule, RRuleSchedule

from pipeline_platform.prefect_internals import (
    DeploymentConfig,
    PrefectYamlModel,
    RawScheduleConfig,
    WorkPoolConfig,
    schedule_config_to_deployment_schedule,
    signature_from_source,
)
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
