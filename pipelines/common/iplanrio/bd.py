"""``pipelines_utils.bd``: local data files uploaded to the lake, and the BigQuery staging table over them.

Files go to ``<lake>/staging/<dataset_id>/<table_id>/`` keeping their Hive partition folders
(``ano_particao=/mes_particao=/data_particao=``), as the city's bucket lays them out; the lake is
``$PIPELINES_LAKE_URI`` (``gs://bucket`` in production). The table ``<dataset_id>_staging.<table_id>`` is an
external table over those files with Hive partitioning, created or updated with google-cloud-bigquery.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Final

import pyarrow.fs as pafs
from google.api_core.client_options import ClientOptions
from google.api_core.exceptions import Conflict
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from prefect import task
from prefect.runtime import deployment

from pipelines.common.iplanrio.gcs import STORAGE_EMULATOR_ENV
from pipelines.common.iplanrio.logging import log
from pipelines.common.lake import Lake
from pipelines.common.settings import default_lake_uri

DUMP_MODES: Final = ("append", "overwrite")
SOURCE_FORMATS: Final = ("csv", "parquet")
BIGQUERY_PROJECT_ENV: Final = "PIPELINES_BIGQUERY_PROJECT"
# A BigQuery API on this machine (tests): the client talks to it without credentials.
BIGQUERY_ENDPOINT_ENV: Final = "PIPELINES_BIGQUERY_API_ENDPOINT"
# A BigQuery connection (``project.region.name``): with it, ``biglake_table=True`` makes a BigLake table.
BIGQUERY_CONNECTION_ENV: Final = "PIPELINES_BIGQUERY_CONNECTION"


class UploadError(ValueError):
    """A call or an input the upload cannot serve; the message says what to change."""


@task
def create_table_and_upload_to_gcs_task(
    data_path: str | Path,
    dataset_id: str,
    table_id: str,
    dump_mode: str,
    biglake_table: bool = True,
    source_format: str = "csv",
    only_staging_dataset: bool = False,
) -> str | Path:
    return create_table_and_upload_to_gcs(
        data_path=data_path,
        dataset_id=dataset_id,
        table_id=table_id,
        dump_mode=dump_mode,
        biglake_table=biglake_table,
        source_format=source_format,
        only_staging_dataset=only_staging_dataset,
    )


def create_table_and_upload_to_gcs(
    data_path: str | Path,
    dataset_id: str,
    table_id: str,
    dump_mode: str,
    biglake_table: bool = True,
    source_format: str = "csv",
    only_staging_dataset: bool = False,
) -> str | Path:
    """Uploads the files under ``data_path``; ``overwrite`` first removes the table's files. Only the staging
    dataset is ever written here, so ``only_staging_dataset`` changes nothing."""
    if dump_mode not in DUMP_MODES:
        raise UploadError(f"dump_mode {dump_mode!r} is not supported: use one of {', '.join(DUMP_MODES)}")
    if source_format not in SOURCE_FORMATS:
        raise UploadError(
            f"source_format {source_format!r} is not supported: use one of {', '.join(SOURCE_FORMATS)}"
        )
    files = data_files(Path(data_path), source_format)
    if not files:
        raise UploadError(f"{data_path}: no .{source_format} file to upload")
    lake = lake_from_environment()
    table_dir = f"staging/{dataset_id}/{table_id}"
    if dump_mode == "overwrite":
        lake.filesystem.delete_dir_contents(lake.path(table_dir), missing_dir_ok=True)
        log(f"MODE OVERWRITE: removed the old files of {lake.display(table_dir)}")
    local = pafs.LocalFileSystem()
    for file, relative in files:
        destination = lake.path(f"{table_dir}/{relative}")
        if isinstance(lake.filesystem, pafs.LocalFileSystem):  # object stores have no directories
            lake.filesystem.create_dir(destination.rpartition("/")[0], recursive=True)
        pafs.copy_files(
            str(file), destination, source_filesystem=local, destination_filesystem=lake.filesystem
        )
    log(f"STEP UPLOAD: {len(files)} file(s) of {data_path} uploaded to {lake.display(table_dir)}")
    uri = lake.uri
    if lake.is_local:
        if deployment.id:
            raise UploadError(
                f"the lake is a local directory ({uri}) in a deployed run: set PIPELINES_LAKE_URI=gs://..."
            )
        log("local lake: no BigQuery table is created for it")
        return data_path
    columns = csv_columns(files[0][0]) if source_format == "csv" else None
    client = bigquery_client()
    table = external_table(
        table_ref=f"{client.project}.{dataset_id}_staging.{table_id}",
        source_prefix=f"gs://{lake.path(table_dir)}",
        source_format=source_format,
        csv_columns=columns,
        partitioned=any("=" in part for _, relative in files for part in relative.split("/")[:-1]),
        biglake_table=biglake_table,
    )
    create_or_update_table(client, table)
    return data_path


def lake_from_environment() -> Lake:
    """``$PIPELINES_LAKE_URI``; a ``gs://`` lake goes to ``$STORAGE_EMULATOR_HOST`` when that is set (the
    local GCS server google-cloud-storage's clients also use)."""
    uri = default_lake_uri()
    emulator = os.environ.get(STORAGE_EMULATOR_ENV)
    if not emulator or not uri.startswith("gs://"):
        return Lake.from_uri(uri)
    scheme, _, host = emulator.rpartition("://")
    filesystem = pafs.GcsFileSystem(anonymous=True, scheme=scheme or "http", endpoint_override=host)
    return Lake(filesystem, uri.removeprefix("gs://"), uri)


def data_files(data_path: Path, source_format: str) -> list[tuple[Path, str]]:
    """``(file, path relative to the table)``: a directory's files keep their folders, one file keeps its
    ``key=value`` folders."""
    suffix = f".{source_format}"
    if data_path.is_file():
        partitions = [part for part in data_path.parent.parts if "=" in part]
        return [(data_path, "/".join([*partitions, data_path.name]))]
    return [
        (file, file.relative_to(data_path).as_posix())
        for file in sorted(data_path.rglob(f"*{suffix}"))
        if file.is_file() and not any(part.startswith(".") for part in file.relative_to(data_path).parts)
    ]


def csv_columns(file: Path) -> list[str]:
    with file.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise UploadError(f"{file}: the CSV file has no header line")
    return header


def external_table(
    *,
    table_ref: str,
    source_prefix: str,
    source_format: str,
    csv_columns: list[str] | None,
    partitioned: bool,
    biglake_table: bool,
) -> bigquery.Table:
    """The staging table: an external table over the lake's files, every CSV column a STRING, Hive
    partitions as STRING columns."""
    table = bigquery.Table(table_ref)
    config = bigquery.ExternalConfig(source_format.upper())
    config.source_uris = [f"{source_prefix}/*"]
    if csv_columns is not None:
        table.schema = [bigquery.SchemaField(name, "STRING") for name in csv_columns]
        options = config.options
        if isinstance(options, bigquery.external_config.CSVOptions):
            options.skip_leading_rows = 1
            options.allow_quoted_newlines = True
    else:
        config.autodetect = True
    if partitioned:
        hive = bigquery.HivePartitioningOptions()
        hive.mode = "STRINGS"
        hive.source_uri_prefix = f"{source_prefix}/"
        config.hive_partitioning = hive
    connection = os.environ.get(BIGQUERY_CONNECTION_ENV)
    if biglake_table and connection:
        config.connection_id = connection
    table.external_data_configuration = config
    return table


def bigquery_client() -> bigquery.Client:
    project = os.environ.get(BIGQUERY_PROJECT_ENV)
    endpoint = os.environ.get(BIGQUERY_ENDPOINT_ENV)
    if endpoint:
        return bigquery.Client(
            project=project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=endpoint),
        )
    return bigquery.Client(project=project)


def create_or_update_table(client: bigquery.Client, table: bigquery.Table) -> bigquery.Table:
    client.create_dataset(bigquery.Dataset(f"{table.project}.{table.dataset_id}"), exists_ok=True)
    try:
        created = client.create_table(table)
        log(f"Created the staging table {table.project}.{table.dataset_id}.{table.table_id}")
        return created
    except Conflict:
        updated = client.update_table(table, ["external_data_configuration", "schema"])
        log(f"Updated the staging table {table.project}.{table.dataset_id}.{table.table_id}")
        return updated
