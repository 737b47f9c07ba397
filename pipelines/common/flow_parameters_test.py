"""Flow parameters typed as the city's flows type them load and validate on the pipelines' interpreter.

The city's flows annotate parameters with ``typing.TypedDict``, which pydantic refuses below Python 3.12
("Please use `typing_extensions.TypedDict` instead"): on 3.11 such a flow fails when its module is imported.
"""

import sys
from typing import NotRequired, TypedDict

import pytest
from prefect import flow
from prefect.exceptions import ParameterTypeError


class Table(TypedDict):
    dataset_id: str
    table_id: str
    partitions: NotRequired[list[str]]


@flow
def describe_table(table: Table, dump_mode: str = "append") -> str:
    return f"{table['dataset_id']}.{table['table_id']}/{'/'.join(table.get('partitions', []))}:{dump_mode}"


def test_runs_on_the_citys_interpreter() -> None:
    assert sys.version_info[:2] == (3, 13)


def test_typeddict_parameter_is_in_the_flows_schema() -> None:
    schema = describe_table.parameters.model_dump()
    table = schema["definitions"]["Table"]
    assert table["required"] == ["dataset_id", "table_id"]
    assert set(table["properties"]) == {"dataset_id", "table_id", "partitions"}


@pytest.mark.usefixtures("prefect_harness")
def test_typeddict_parameter_is_validated_and_passed_to_the_flow() -> None:
    table: Table = {"dataset_id": "brt_gps", "table_id": "registros", "partitions": ["ano", "mes"]}
    assert describe_table(table=table) == "brt_gps.registros/ano/mes:append"

    with pytest.raises(ParameterTypeError, match="table_id"):
        describe_table(table={"dataset_id": "brt_gps"})  # type: ignore[call-overload]
