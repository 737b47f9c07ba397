"""The upload against a real GCS JSON API on 127.0.0.1 (gcp-storage-emulator, through pyarrow's GCS filesystem
and google-cloud-storage), and the table definition the real google-cloud-bigquery client sends to a recording
endpoint on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from pipelines.common.iplanrio.bd import UploadError, create_table_and_upload_to_gcs
from pipelines.common.iplanrio.bigquery_testing import BigQueryRecorder
from pipelines.common.iplanrio.gcs import list_blobs_with_prefix, parse_blobs_to_partition_list
from pipelines.common.iplanrio.google_testing import LAKE_BUCKET as BUCKET
from pipelines.common.iplanrio.pandas import parse_date_columns, to_partitions


def partitioned_csv(directory: Path) -> Path:
    frame = pd.DataFrame(
        {"id": ["1", "2", "3"], "data": ["2024-01-31", "2024-01-31", "2024-02-01"], "nome": ["a", "b", "c"]}
    )
    frame, columns = parse_date_columns(frame, "data")
    to_partitions(frame, columns, directory)
    return directory


def test_files_land_in_the_citys_layout_and_the_staging_table_is_an_external_hive_table(
    tmp_path: Path, gcs: str, bigquery: BigQueryRecorder
) -> None:
    data = partitioned_csv(tmp_path / "data")
    result = create_table_and_upload_to_gcs(
        data_path=data, dataset_id="brutos_teste", table_id="chamado", dump_mode="append"
    )
    assert result == data
    blobs = list_blobs_with_prefix(BUCKET, "staging/brutos_teste/chamado/")
    assert sorted(blob.name for blob in blobs) == [
        "staging/brutos_teste/chamado/ano_particao=2024/mes_particao=1/data_particao=2024-01-31/data.csv",
        "staging/brutos_teste/chamado/ano_particao=2024/mes_particao=2/data_particao=2024-02-01/data.csv",
    ]
    assert sorted(parse_blobs_to_partition_list(blobs)) == ["2024-01-31", "2024-02-01"]
    dataset, insert = bigquery.requests
    assert (dataset.method, dataset.path) == ("POST", "/bigquery/v2/projects/rj-escritorio-dev/datasets")
    assert dataset.body["datasetReference"]["datasetId"] == "brutos_teste_staging"
    assert insert.path == "/bigquery/v2/projects/rj-escritorio-dev/datasets/brutos_teste_staging/tables"
    assert insert.body["tableReference"]["tableId"] == "chamado"
    assert insert.body["schema"]["fields"] == [
        {"name": "id", "type": "STRING", "mode": "NULLABLE"},
        {"name": "data", "type": "STRING", "mode": "NULLABLE"},
        {"name": "nome", "type": "STRING", "mode": "NULLABLE"},
    ]
    external = insert.body["externalDataConfiguration"]
    assert external["sourceFormat"] == "CSV"
    assert external["sourceUris"] == [f"gs://{BUCKET}/staging/brutos_teste/chamado/*"]
    assert external["csvOptions"]["skipLeadingRows"] == "1"
    assert external["hivePartitioningOptions"] == {
        "mode": "STRINGS",
        "sourceUriPrefix": f"gs://{BUCKET}/staging/brutos_teste/chamado/",
    }


def test_overwrite_replaces_the_files_and_updates_the_existing_table(
    tmp_path: Path, gcs: str, bigquery: BigQueryRecorder
) -> None:
    first = partitioned_csv(tmp_path / "first")
    create_table_and_upload_to_gcs(data_path=first, dataset_id="d", table_id="t", dump_mode="append")
    second = tmp_path / "second"
    second.mkdir()
    pd.DataFrame({"id": ["9"]}).to_parquet(second / "lote.parquet")
    create_table_and_upload_to_gcs(
        data_path=second, dataset_id="d", table_id="t", dump_mode="overwrite", source_format="parquet"
    )
    names = [blob.name for blob in list_blobs_with_prefix(BUCKET, "staging/d/t/")]
    assert names == ["staging/d/t/lote.parquet"]
    update = bigquery.requests[-1]
    assert update.method in ("PATCH", "PUT"), [(r.method, r.path) for r in bigquery.requests]
    assert update.path == "/bigquery/v2/projects/rj-escritorio-dev/datasets/d_staging/tables/t"
    external = update.body["externalDataConfiguration"]
    assert external["sourceFormat"] == "PARQUET"
    assert external["autodetect"] is True
    assert "hivePartitioningOptions" not in external


def test_unsupported_arguments_are_refused_before_anything_is_written(
    tmp_path: Path, gcs: str, bigquery: BigQueryRecorder
) -> None:
    data = partitioned_csv(tmp_path / "data")
    with pytest.raises(UploadError, match="dump_mode 'replace' is not supported"):
        create_table_and_upload_to_gcs(data_path=data, dataset_id="d", table_id="t", dump_mode="replace")
    with pytest.raises(UploadError, match="source_format 'avro'"):
        create_table_and_upload_to_gcs(
            data_path=data, dataset_id="d", table_id="t", dump_mode="append", source_format="avro"
        )
    assert list_blobs_with_prefix(BUCKET, "staging/") == []
    assert bigquery.requests == []
