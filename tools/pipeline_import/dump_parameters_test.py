"""A parameter the generic dump does not know, set in every schedule of a dump: one ``!`` (one decision) that
lists every line, per parameter."""

from __future__ import annotations

from pathlib import Path

from pipeline_import.dump_parameters import DumpParameterMap, old_flow_defaults
from pipeline_import.imported import Imported, Note
from pipeline_import.yaml_files import YamlFile


def test_an_unknown_parameter_repeated_across_schedules_is_one_item_with_every_line(tmp_path: Path) -> None:
    source = YamlFile(tmp_path / "rj_x__y" / "prefect.yaml", {}, {})
    imported = Imported(source=tmp_path, name="rj_x__y", kind="dump")
    queries: dict[str, str] = {}
    for line, table in ((57, "a"), (68, "b")):
        where = f"rj_x__y/prefect.yaml:{line}"
        DumpParameterMap(source, imported, queries, where).convert(
            {
                "table_id": table,
                "execute_query": f"SELECT * FROM {table}",
                "dbt_model_name": table,
                "offset": 1,
            }
        )
    todo = [note for note in imported.notes if note.todo]
    assert todo == [
        Note(
            True, "rj_x__y/prefect.yaml:57,68", "parameter 'dbt_model_name' is not a dump parameter: dropped"
        ),
        Note(True, "rj_x__y/prefect.yaml:57,68", "parameter 'offset' is not a dump parameter: dropped"),
    ]
    assert queries == {"a": "SELECT * FROM a\n", "b": "SELECT * FROM b\n"}


OLD_FLOW = """

from prefect import flow


@flow(log_prints=True)
def rj_x__y(db_database="rh", db_host="10.0.0.1", db_port=3306, db_type="mysql", execute_query="q",
            dataset_id="brutos_x", table_id="t", infisical_secret_path="/db-x", db_charset=None,
            *, batch_size: int = 50000) -> None: ...
"""


def test_the_old_flows_source_defaults_are_read_and_the_rest_left(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(OLD_FLOW)
    assert old_flow_defaults(tmp_path / "flow.py") == {
        "db_database": "rh",
        "db_host": "10.0.0.1",
        "db_port": 3306,
        "db_type": "mysql",
        "dataset_id": "brutos_x",
        "infisical_secret_path": "/db-x",
    }
    (tmp_path / "broken.py").write_text("def (:\n")
    assert old_flow_defaults(tmp_path / "broken.py") == {}


def test_defaults_from_the_pipelines_constants_module_are_read(tmp_path: Path) -> None:
    (tmp_path / "constants.py").write_text(
        "from enum import Enum\n\n"
        "class Constants(Enum):\n"
        "    DB_HOST = '10.70.1.34'\n"
        "    DB_PORT = '1433'\n"
        "    DB_TYPE = 'sql_server'\n"
        "    INFISICAL_SECRET_PATH = '/db-porte'\n"
        "    TABLES = build_tables()\n\n"
        "DATASET: str = 'brutos_porte'\n"
    )
    (tmp_path / "flow.py").write_text(
        f"from pipelines.{tmp_path.name}.constants import Constants, DATASET as DATASET_ID\n"
        "from prefect import flow\n\n"
        "@flow\n"
        "def f(table_id: str, db_host: str = Constants.DB_HOST.value,\n"
        "      db_port: str = Constants.DB_PORT.value,\n"
        "      db_type: str = Constants.DB_TYPE, dataset_id: str = DATASET_ID,\n"
        "      infisical_secret_path: str = Constants.INFISICAL_SECRET_PATH.value,\n"
        "      db_database: str = Constants.TABLES.value, db_charset: str = Other.X.value) -> None: ...\n"
    )

    assert old_flow_defaults(tmp_path / "flow.py") == {
        "db_host": "10.70.1.34",
        "db_port": "1433",
        "db_type": "sql_server",
        "dataset_id": "brutos_porte",
        "infisical_secret_path": "/db-porte",
    }
