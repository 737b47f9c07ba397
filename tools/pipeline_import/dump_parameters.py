"""The old dump flow's parameters mapped to the generic dump's (pipelines/common/dump.py)."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from pipeline_import.imported import Imported, Note
from pipeline_import.yaml_files import YamlFile

# Old dump parameters -> the generic dump's; DUMP_DROPPED: the ones dropped, with the reason.
DUMP_RENAMED: Final = {
    "db_type": "db_type",
    "db_host": "db_host",
    "db_database": "db_database",
    "dataset_id": "dataset_id",
    "table_id": "table_id",
    "batch_size": "batch_size",
    "lower_bound_date": "lower_bound_date",
    "partition_date_format": "partition_date_format",
}
DUMP_DROPPED: Final = {
    "batch_data_type": "the dump always writes Parquet",
    "biglake_table": "BigQuery/BigLake tables are not made by the dump here",
    "retry_dump_upload_attempts": "use the flow's retries; the dump is rerun whole (it is idempotent)",
    "log_number_of_batches": "the dump logs every run's totals",
    "break_query_end": "the dump streams the whole range in batches: no need to break the query",
    "break_query_frequency": "the dump streams the whole range in batches: no need to break the query",
}
# Parameters whose defaults in the old dump flow's signature name its source and destination (the YAML often
# sets only table_id and execute_query): carried into the deployments when the YAML does not set them.
SOURCE_DEFAULTS: Final = (
    "db_type",
    "db_host",
    "db_port",
    "db_database",
    "db_charset",
    "infisical_secret_path",
    "dataset_id",
)
DB_TYPES: Final = {"sql_server": "sql_server", "mssql": "sql_server", "oracle": "oracle", "mysql": "mysql"}
DB_TYPES_POSTGRES: Final = ("postgres", "postgresql")


class DumpParameterMap:
    """The old dump flow's parameters, as the generic dump's (inline SQL moved to queries/<table_id>.sql)."""

    def __init__(self, source: YamlFile, imported: Imported, queries: dict[str, str], where: str) -> None:
        self.source = source
        self.imported = imported
        # The converter's own dict: the queries of every deployment of the file, shared across them.
        self.queries = queries
        self.where = where

    def convert(self, old: Mapping[str, Any]) -> dict[str, Any]:
        new: dict[str, Any] = {}
        for key, value in old.items():
            if key in DUMP_RENAMED:
                if value not in (None, ""):
                    new[DUMP_RENAMED[key]] = value
                if key == "partition_date_format" and value:
                    self.imported.todo(
                        self.where,
                        f"partition_date_format {value!r} kept: the dump then reads the partition column as "
                        "text dates; remove it if that column is a date or timestamp",
                    )
            elif key in DUMP_DROPPED:
                self._once(f"{key} dropped: {DUMP_DROPPED[key]}")
            elif key not in ("execute_query", "db_port", "db_charset", "infisical_secret_path", "dump_mode"):
                if key not in ("partition_columns", "break_query_start"):
                    self._todo_once(f"parameter {key!r} is not a dump parameter: dropped")
        self._connection(old, new)
        self._partition(old, new)
        self._query(old, new)
        return new

    def _todo_once(self, text: str) -> None:
        """One ``!`` per text and file (one decision): the lines of the repeats join its ``where``."""
        file, _, line = self.where.rpartition(":")
        for index, note in enumerate(self.imported.notes if file else []):
            if note.todo and note.text == text and note.where.rpartition(":")[0] == file:
                self.imported.notes[index] = Note(True, f"{note.where},{line}", text)
                return
        self.imported.todo(self.where, text)

    def _once(self, text: str) -> None:
        note = Note(False, self.source.where(()), text)
        if note not in self.imported.notes:
            self.imported.notes.append(note)

    def _connection(self, old: Mapping[str, Any], new: dict[str, Any]) -> None:
        kind = str(old.get("db_type") or "").strip().lower()
        if kind:
            if kind in DB_TYPES_POSTGRES:
                new["db_type"] = "postgres"
            elif kind in DB_TYPES:
                new["db_type"] = DB_TYPES[kind]
            else:
                self.imported.todo(self.where, f"db_type {kind!r} is not known to the dump: kept, fix it")
        port = old.get("db_port")
        if port not in (None, ""):
            try:
                new["db_port"] = int(str(port))
            except ValueError:
                self.imported.todo(self.where, f"db_port {port!r} is not a number: dropped")
        charset = old.get("db_charset")
        if charset not in (None, "", "NOT_SET"):
            new["db_charset"] = charset
        secret = old.get("infisical_secret_path")
        if secret:
            credentials = str(secret).strip("/").replace("-", "_").replace("/", "_").upper()
            new["db_credentials"] = credentials
            self._once(
                f"infisical_secret_path -> db_credentials (e.g. {secret!r} -> {credentials!r}: the variables "
                f"{credentials}__DB_USERNAME and {credentials}__DB_PASSWORD of the secretName)"
            )

    def _partition(self, old: Mapping[str, Any], new: dict[str, Any]) -> None:
        columns = [
            name.strip() for name in str(old.get("partition_columns") or "").split(",") if name.strip()
        ]
        mode = str(old.get("dump_mode") or "overwrite")
        if columns:
            new["partition_column"] = columns[0]
            if len(columns) > 1:
                self.imported.todo(
                    self.where, f"partition_columns {columns}: the lake is partitioned by {columns[0]!r} only"
                )
            new["dump_mode"] = "incremental"
            self._once(
                f"dump_mode {mode!r} + partition_columns -> 'incremental' (the newest day in the lake is "
                "read again and rewritten: reruns do not duplicate rows)"
            )
        elif mode in ("overwrite", "append"):
            new["dump_mode"] = mode
        else:
            self.imported.todo(self.where, f"dump_mode {mode!r} unknown: set to 'overwrite'")
            new["dump_mode"] = "overwrite"
        start = old.get("break_query_start")
        if start and "lower_bound_date" not in new and columns:
            new["lower_bound_date"] = str(start)
            self._once("break_query_start -> lower_bound_date (the first day ever read)")

    def _query(self, old: Mapping[str, Any], new: dict[str, Any]) -> None:
        sql = old.get("execute_query")
        if not isinstance(sql, str) or not sql.strip():
            if "table_id" in new and not self.queries.get(str(new["table_id"])):
                self.imported.todo(self.where, f"no execute_query for {new['table_id']!r}: write its query")
            return
        sql = sql.strip() + "\n"
        table = str(new.get("table_id") or "query")
        name = table
        number = 1
        while name in self.queries and self.queries[name] != sql:
            number += 1
            name = f"{table}_{number}"
        if name not in self.queries:
            self.queries[name] = sql
            self.imported.changed(self.where, f"execute_query of {table!r} -> queries/{name}.sql")
        if name != table:
            new["query"] = name


def old_flow_defaults(flow_file: Path) -> dict[str, Any]:
    """The defaults of SOURCE_DEFAULTS in the old ``@flow`` function's signature (None ones out): literals, or
    constants of the pipeline's own modules (``Constants.DB_HOST.value`` of an Enum in ``constants.py``)."""
    tree = _parse(flow_file)
    if tree is None:
        return {}
    constants = _imported_constants(tree, flow_file.parent)
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not any(
            "flow" in ast.unparse(decorator) for decorator in node.decorator_list
        ):
            continue
        arguments = [*node.args.posonlyargs, *node.args.args]
        defaults: dict[str, Any] = {}
        pairs = [
            *zip(arguments[len(arguments) - len(node.args.defaults) :], node.args.defaults, strict=True),
            *(
                (a, d)
                for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
                if d is not None
            ),
        ]
        for argument, default in pairs:
            if argument.arg not in SOURCE_DEFAULTS:
                continue
            value = _value(default, constants)
            if value not in (None, ""):
                defaults[argument.arg] = value
        return defaults
    return {}


_UNKNOWN: Final = object()


def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None


def _value(node: ast.expr, constants: Mapping[str, Any]) -> Any:
    """A literal, or a dotted name (``X``, ``Cls.X``, ``Cls.X.value``) found in ``constants``; else None."""
    try:
        return ast.literal_eval(node)
    except ValueError:
        pass
    dotted = ast.unparse(node)
    found = constants.get(dotted.removesuffix(".value"), _UNKNOWN)
    return None if found is _UNKNOWN else found


def _imported_constants(tree: ast.Module, directory: Path) -> dict[str, Any]:
    """``Name`` / ``Enum.MEMBER`` -> literal, for the names the flow imports from its pipeline's modules."""
    found: dict[str, Any] = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        parts = node.module.split(".")
        inside = node.level == 1 or (len(parts) == 3 and parts[:2] == ["pipelines", directory.name])
        module = _parse(directory / f"{parts[-1]}.py") if inside else None
        if module is None:
            continue
        literals = _module_literals(module)
        for alias in node.names:
            local = alias.asname or alias.name
            for name, value in literals.items():
                if name == alias.name or name.startswith(f"{alias.name}."):
                    found[local + name[len(alias.name) :]] = value
    return found


def _module_literals(module: ast.Module) -> dict[str, Any]:
    """Module-level ``NAME = literal`` and the literal members of its classes (``Cls.NAME``)."""
    literals: dict[str, Any] = {}
    for node in module.body:
        scopes: list[tuple[str, list[ast.stmt]]] = [("", [node])]
        if isinstance(node, ast.ClassDef):
            scopes = [(f"{node.name}.", node.body)]
        for prefix, body in scopes:
            for statement in body:
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                    target, value = statement.targets[0], statement.value
                elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                    target, value = statement.target, statement.value
                else:
                    continue
                if isinstance(target, ast.Name):
                    try:
                        literals[prefix + target.id] = ast.literal_eval(value)
                    except ValueError:
                        continue
    return literals
