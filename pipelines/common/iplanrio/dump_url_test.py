"""``pipelines_templates.dump_url`` as the city's flows call it, on real parts: files and the Google Sheets
and Drive REST APIs served on 127.0.0.1 (reached by google-api-python-client through its ``api_endpoint``
option, with a real service-account key exchanged for a token there), the lake on a real GCS JSON API and the
table defined through the real BigQuery client."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect import flow, get_client, task

from pipelines.common.iplanrio.bigquery_testing import BigQueryRecorder
from pipelines.common.iplanrio.dump_url import DumpUrlError, download_url, dump_files, dump_url_flow
from pipelines.common.iplanrio.gcs import list_blobs_with_prefix
from pipelines.common.iplanrio.google_testing import LAKE_BUCKET, encoded, new_service_account
from pipelines.common.iplanrio.web_testing import Response, WebServer, web_server

SHEET_ID = "1AbCdEf"
SHEET_URL = f"https://docs.google.com/spreadsheets/d/{SHEET_ID}/edit#gid=0"
TOKEN = "ya29.token-do-teste"
CHAMADOS = (
    "Código,Data de abertura,Bairro,Descrição\n"
    '1,2024-01-31,Centro,"linha 1\nlinha 2"\n'
    "2,2024-01-31,Tijuca,None\n"
    "3,2024-02-01,Centro,ok\n"
)


def json_response(body: object) -> Response:
    return Response(json.dumps(body).encode())


@pytest.fixture
def google(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebServer]:
    """Sheets, Drive and the OAuth token endpoint on one loopback server, and the job's credentials."""
    with web_server() as server:
        server.routes["POST /token"] = lambda _: json_response(
            {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"}
        )
        server.routes[f"GET /v4/spreadsheets/{SHEET_ID}"] = lambda _: json_response(
            {"sheets": [{"properties": {"title": "Resumo"}}, {"properties": {"title": "Fluxo 2024"}}]}
        )
        server.routes[f"GET /v4/spreadsheets/{SHEET_ID}/values/'Fluxo 2024'!A1:C4"] = lambda _: json_response(
            {"values": [["Mês", "Visitantes", "Origem"], ["janeiro", "1200", "Brasil"], ["fevereiro", "900"]]}
        )
        info = new_service_account(tmp_path, token_uri=f"{server.url}/token")
        monkeypatch.setenv("BASEDOSDADOS_CREDENTIALS_PROD", encoded(info))
        monkeypatch.setenv("PIPELINES_GOOGLE_API_ENDPOINT", server.url)
        yield server


@task
def extract_range_to_bigquery(worksheet_index: int) -> None:
    """The city's tourism flow calls the dump flow from a task."""
    dump_url_flow(
        url=SHEET_URL,
        url_type="google_sheet",
        gsheets_sheet_order=worksheet_index,
        gsheets_sheet_name="Fluxo 2024",
        gsheets_sheet_range="A1:C4",
        dataset_id="brutos_turismo",
        table_id="fluxo_2024",
        dump_mode="overwrite",
        partition_columns="",
        biglake_table=False,
    )


@flow
def turismo() -> None:
    extract_range_to_bigquery(1)


def lake_rows(prefix: str) -> dict[str, list[dict[str, str]]]:
    return {
        blob.name.removeprefix(prefix): list(csv.DictReader(io.StringIO(blob.download_as_text())))
        for blob in list_blobs_with_prefix(LAKE_BUCKET, prefix)
    }


def test_a_sheet_range_read_with_the_jobs_credentials_lands_in_the_lake(
    prefect_harness: None, google: WebServer, gcs: str, bigquery: BigQueryRecorder
) -> None:
    state = turismo(return_state=True)
    assert state.is_completed(), state
    token_requests = [request for request in google.requests if request.path == "/token"]
    assert len(token_requests) >= 1
    api_requests = [request for request in google.requests if request.path != "/token"]
    assert [request.path for request in api_requests] == [
        f"/v4/spreadsheets/{SHEET_ID}",
        f"/v4/spreadsheets/{SHEET_ID}/values/'Fluxo 2024'!A1:C4",
    ]
    assert {request.headers["authorization"] for request in api_requests} == {f"Bearer {TOKEN}"}
    # An empty cell is written as "nan", as the city's clean_dataframe writes it (its tables hold that text).
    files = lake_rows("staging/brutos_turismo/fluxo_2024/")
    assert list(files.values()) == [
        [
            {"mes": "janeiro", "visitantes": "1200", "origem": "Brasil"},
            {"mes": "fevereiro", "visitantes": "900", "origem": "nan"},
        ]
    ]
    insert = bigquery.requests[-1]
    assert insert.path.endswith("/datasets/brutos_turismo_staging/tables")
    assert "hivePartitioningOptions" not in insert.body["externalDataConfiguration"]
    with get_client(sync_client=True) as client:
        names = {run.name for run in client.read_flow_runs()}
    assert "Dump: brutos_turismo.fluxo_2024" in names


def test_a_csv_url_is_partitioned_by_its_date_column(
    prefect_harness: None, gcs: str, bigquery: BigQueryRecorder
) -> None:
    with web_server() as files:
        files.routes["GET /chamados.csv"] = lambda _: Response(CHAMADOS.encode(), content_type="text/csv")
        state = dump_url_flow(
            url=f"{files.url}/chamados.csv",
            partition_columns="Data de abertura, Bairro",
            dataset_id="brutos_1746",
            table_id="chamado",
            dump_mode="append",
            return_state=True,
        )
    assert state.is_completed(), state
    assert lake_rows("staging/brutos_1746/chamado/") == {
        "ano_particao=2024/mes_particao=1/data_particao=2024-01-31/bairro=Centro/data.csv": [
            {"codigo": "1", "data_de_abertura": "2024-01-31", "descricao": "linha 1 linha 2"}
        ],
        "ano_particao=2024/mes_particao=1/data_particao=2024-01-31/bairro=Tijuca/data.csv": [
            {"codigo": "2", "data_de_abertura": "2024-01-31", "descricao": "nan"}
        ],
        "ano_particao=2024/mes_particao=2/data_particao=2024-02-01/bairro=Centro/data.csv": [
            {"codigo": "3", "data_de_abertura": "2024-02-01", "descricao": "ok"}
        ],
    }
    external = bigquery.requests[-1].body["externalDataConfiguration"]
    assert external["hivePartitioningOptions"]["mode"] == "STRINGS"


def test_a_google_drive_file_is_downloaded_as_it_is(google: WebServer, tmp_path: Path) -> None:
    google.routes["GET /files/arquivo-9"] = lambda _: Response(CHAMADOS.encode(), content_type="text/csv")
    target = tmp_path / "drive" / "data.csv"
    download_url.fn(
        url="https://drive.google.com/file/d/arquivo-9/view", fname=str(target), url_type="google_drive"
    )
    assert target.read_text() == CHAMADOS
    media = google.requests[-1]
    assert (media.query["alt"], media.headers["authorization"]) == ("media", f"Bearer {TOKEN}")


def test_bad_input_is_refused_with_what_to_change(google: WebServer, tmp_path: Path) -> None:
    fname = str(tmp_path / "data.csv")
    with pytest.raises(
        DumpUrlError, match="url_type 'ftp' is not supported: use one of direct, google_drive"
    ):
        download_url.fn(url="ftp://x", fname=fname, url_type="ftp")
    with pytest.raises(DumpUrlError, match="needs dataset_id and table_id"):
        dump_url_flow.fn(url="http://127.0.0.1/x.csv", dataset_id="d")
    with pytest.raises(DumpUrlError, match="Google Sheets URL must start with https://docs.google.com/"):
        download_url.fn(url="https://example.com/planilha", fname=fname, url_type="google_sheet")
    with pytest.raises(DumpUrlError, match=r"no worksheet named 'Fluxo'; the worksheets are \['Resumo'"):
        download_url.fn(url=SHEET_URL, fname=fname, url_type="google_sheet", gsheets_sheet_name="Fluxo")
    with pytest.raises(DumpUrlError, match="no worksheet at order 5"):
        download_url.fn(url=SHEET_URL, fname=fname, url_type="google_sheet", gsheets_sheet_order=5)
    with pytest.raises(DumpUrlError, match="/ausente.csv: HTTP 404"):
        download_url.fn(url=f"{google.url}/ausente.csv", fname=fname)
    workbook = io.BytesIO()
    with zipfile.ZipFile(workbook, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    google.routes["GET /planilha.xlsx"] = lambda _: Response(
        workbook.getvalue(), content_type="application/zip"
    )
    download_url.fn(url=f"{google.url}/planilha.xlsx", fname=fname)
    with pytest.raises(DumpUrlError, match=r"ZIP or Excel \(.xlsx\) file, and dump_url reads CSV"):
        dump_files.fn(file_path=fname, partition_columns=[], save_path=str(tmp_path / "out"))
    Path(fname).write_text(CHAMADOS)
    with pytest.raises(DumpUrlError, match=r"partition_columns \['Data'\] are not columns of the file"):
        dump_files.fn(file_path=fname, partition_columns=["Data"], save_path=str(tmp_path / "out"))
