"""``pipelines_templates.dump_arcgis`` as the city's flows call it: a layer served in pages by an
ArcGIS-REST-shaped server on 127.0.0.1, its CSV uploaded to a real GCS JSON API and its table defined through
the real BigQuery client."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect import flow

from pipelines.common.iplanrio.bd import create_table_and_upload_to_gcs_task
from pipelines.common.iplanrio.bigquery_testing import BigQueryRecorder
from pipelines.common.iplanrio.dump_arcgis import (
    ArcGISError,
    download_data_from_arcgis,
    download_data_from_arcgis_task,
)
from pipelines.common.iplanrio.gcs import list_blobs_with_prefix
from pipelines.common.iplanrio.google_testing import LAKE_BUCKET
from pipelines.common.iplanrio.web_testing import Request, Response, WebServer, web_server

LAYER = "/arcgis/rest/services/OSA2/FeatureServer/1"
WGS84 = {"wkid": 4326, "latestWkid": 4326}
# Clockwise outer rings, a counter-clockwise hole: a polygon with a hole, then a second polygon.
SQUARE = [[0, 0], [0, 10], [10, 10], [10, 0], [0, 0]]
HOLE = [[2, 2], [4, 2], [4, 4], [2, 4], [2, 2]]
ISLAND = [[20, 20], [20, 21], [21, 21], [20, 20]]
FEATURES = [
    {"attributes": {"OBJECTID": 1, "Nome da Unidade": "Clínica A"}, "geometry": {"rings": [SQUARE, HOLE]}},
    {"attributes": {"OBJECTID": 2, "Nome da Unidade": "Ilhas"}, "geometry": {"rings": [SQUARE, ISLAND]}},
    {"attributes": {"OBJECTID": 3, "Nome da Unidade": "Posto"}, "geometry": {"x": -43.5, "y": -22.25}},
    {
        "attributes": {"OBJECTID": 4, "Nome da Unidade": "Via"},
        "geometry": {"paths": [[[0, 0], [1.5, 2]], [[3, 3], [4, 4]]]},
    },
    {"attributes": {"OBJECTID": 5, "Nome da Unidade": "Sem geometria"}},
]


def json_response(body: Any) -> Response:
    return Response(json.dumps(body).encode())


def paged_layer(request: Request) -> Response:
    """Two features per page, as a server with ``maxRecordCount`` 2 answers."""
    offset = int(request.query["resultOffset"])
    page = FEATURES[offset : offset + 2]
    more = offset + 2 < len(FEATURES)
    return json_response({"spatialReference": WGS84, "features": page, "exceededTransferLimit": more})


@pytest.fixture
def arcgis() -> Iterator[WebServer]:
    with web_server() as server:
        server.routes[f"GET {LAYER}/query"] = paged_layer
        yield server


@flow
def equipamentos(url: str, crs: str) -> None:
    """The city's flow as it calls the template."""
    path = download_data_from_arcgis_task(url=url, crs=crs, wait_for=[])
    create_table_and_upload_to_gcs_task(
        data_path=path,
        dataset_id="brutos_equipamentos",
        table_id="unidades",
        dump_mode="overwrite",
        biglake_table=True,
        source_format="csv",
    )


def test_every_page_lands_in_the_lake_with_wkt_geometries(
    prefect_harness: None, arcgis: WebServer, gcs: str, bigquery: BigQueryRecorder
) -> None:
    state = equipamentos(f"{arcgis.url}{LAYER}/", "EPSG:3857", return_state=True)
    assert state.is_completed(), state
    assert [request.query["resultOffset"] for request in arcgis.requests] == ["0", "2", "4"]
    assert {(request.query["outSR"], request.query["f"]) for request in arcgis.requests} == {("4326", "json")}
    blobs = list_blobs_with_prefix(LAKE_BUCKET, "staging/brutos_equipamentos/unidades/")
    assert [blob.name for blob in blobs] == ["staging/brutos_equipamentos/unidades/data.csv"]
    rows = list(csv.DictReader(blobs[0].download_as_text().splitlines()))
    assert list(rows[0]) == ["objectid", "nome_da_unidade", "geometry", "latitude", "longitude"]
    assert [(row["objectid"], row["nome_da_unidade"], row["geometry"]) for row in rows] == [
        ("1", "Clínica A", "POLYGON ((0 0, 0 10, 10 10, 10 0, 0 0), (2 2, 4 2, 4 4, 2 4, 2 2))"),
        ("2", "Ilhas", "MULTIPOLYGON (((0 0, 0 10, 10 10, 10 0, 0 0)), ((20 20, 20 21, 21 21, 20 20)))"),
        ("3", "Posto", "POINT (-43.5 -22.25)"),
        ("4", "Via", "MULTILINESTRING ((0 0, 1.5 2), (3 3, 4 4))"),
        ("5", "Sem geometria", ""),
    ]
    assert (rows[2]["latitude"], rows[2]["longitude"]) == ("-22.25", "-43.5")
    insert = bigquery.requests[-1]
    assert insert.path.endswith("/datasets/brutos_equipamentos_staging/tables")
    assert [field["name"] for field in insert.body["schema"]["fields"]] == list(rows[0])


def test_bad_crs_and_refusals_of_the_server_are_clear(arcgis: WebServer, tmp_path: Path) -> None:
    url = f"{arcgis.url}{LAYER}"
    with pytest.raises(ArcGISError, match="crs 'UTM 23S' is not an EPSG code: write it as 'EPSG:<number>'"):
        download_data_from_arcgis(url, "UTM 23S")
    assert arcgis.requests == []
    arcgis.routes[f"GET {LAYER}/query"] = lambda _: json_response(
        {"error": {"code": 400, "message": "Invalid or missing input parameters."}}
    )
    with pytest.raises(
        ArcGISError, match="the server refused the query: Invalid or missing input parameters"
    ):
        download_data_from_arcgis(url, "EPSG:3857")
    arcgis.routes[f"GET {LAYER}/query"] = lambda _: json_response({"spatialReference": WGS84, "features": []})
    with pytest.raises(ArcGISError, match="the layer returned no feature"):
        download_data_from_arcgis(url, "EPSG:3857")
    arcgis.routes[f"GET {LAYER}/query"] = lambda _: json_response(
        {"spatialReference": {"wkid": 102100, "latestWkid": 3857}, "features": FEATURES[:1]}
    )
    with pytest.raises(ArcGISError, match="the server did not project to EPSG:4326"):
        download_data_from_arcgis(url, "3857")
