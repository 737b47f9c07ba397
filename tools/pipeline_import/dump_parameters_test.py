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
