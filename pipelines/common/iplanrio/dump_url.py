"""``pipelines_templates.dump_url``: a CSV file at a URL, a Google Drive file or a Google Sheets range,
dumped to the lake and its staging table (``bd.create_table_and_upload_to_gcs``).

Google Drive and Sheets are read with google-api-python-client and the credentials of
``env.get_credentials_from_env``. ``$PIPELINES_GOOGLE_API_ENDPOINT`` points both APIs at a server on this
machine, for tests (the client's own ``api_endpoint`` option); a deployed run refuses it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import httpx
import pandas as pd
from google.api_core.client_options import ClientOptions
from googleapiclient.discovery import build
from googleapiclient.http import MediaIoBaseDownload
from prefect import flow, task
from prefect.runtime import deployment

from pipelines.common.iplanrio.bd import create_table_and_upload_to_gcs_task
from pipelines.common.iplanrio.env import get_credentials_from_env
from pipelines.common.iplanrio.logging import log
from pipelines.common.iplanrio.pandas import (
    clean_dataframe,
    dataframe_to_csv,
    parse_date_columns,
    remove_columns_accents,
    to_partitions,
)
from pipelines.common.iplanrio.prefect import rename_current_flow_run_task

URL_TYPES: Final = ("direct", "google_drive", "google_sheet")
SHEETS_URL_PREFIX: Final = "https://docs.google.com/spreadsheets/d/"
DRIVE_URL_PREFIX: Final = "https://drive.google.com/file/d/"
SHEETS_SCOPES: Final = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive",
)
DRIVE_SCOPES: Final = ("https://www.googleapis.com/auth/drive",)
GOOGLE_API_ENDPOINT_ENV: Final = "PIPELINES_GOOGLE_API_ENDPOINT"
ZIP_MAGIC: Final = b"PK\x03\x04"


class DumpUrlError(ValueError):
    """An argument or a download the dump cannot serve; the message says what to change."""


@flow(log_prints=True)
def dump_url_flow(
    url: str,
    url_type: str = "direct",
    gsheets_sheet_order: int = 0,
    gsheets_sheet_name: str | None = None,
    gsheets_sheet_range: str | None = None,
    partition_columns: str = "",
    encoding: str = "utf-8",
    on_bad_lines: str = "error",
    separator: str = ",",
    dataset_id: str | None = None,
    table_id: str | None = None,
    dump_mode: str = "overwrite",
    dataframe_key_column: str | None = None,
    build_json_dataframe: bool = False,
    biglake_table: bool = False,
) -> None:
    if not dataset_id or not table_id:
        raise DumpUrlError("dump_url_flow needs dataset_id and table_id: pass both")
    check_url_type(url_type)
    rename_current_flow_run_task(new_name=f"Dump: {dataset_id}.{table_id}")
    work = Path(tempfile.mkdtemp(prefix="dump_url-"))
    try:
        data_file = work / "data.csv"
        chunks = work / "chunks"
        download_url(
            url=url,
            fname=str(data_file),
            url_type=url_type,
            gsheets_sheet_order=gsheets_sheet_order,
            gsheets_sheet_name=gsheets_sheet_name,
            gsheets_sheet_range=gsheets_sheet_range,
        )
        dump_files(
            file_path=str(data_file),
            partition_columns=parse_comma_separated_string_to_list(partition_columns),
            save_path=str(chunks),
            build_json_dataframe=build_json_dataframe,
            dataframe_key_column=dataframe_key_column,
            encoding=encoding,
            on_bad_lines=on_bad_lines,
            separator=separator,
        )
        create_table_and_upload_to_gcs_task(
            data_path=chunks,
            dataset_id=dataset_id,
            table_id=table_id,
            biglake_table=biglake_table,
            dump_mode=dump_mode,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_url_type(url_type: str) -> None:
    if url_type not in URL_TYPES:
        raise DumpUrlError(f"url_type {url_type!r} is not supported: use one of {', '.join(URL_TYPES)}")


def parse_comma_separated_string_to_list(text: str | None) -> list[str]:
    """``"a, b,,c,"`` -> ``["a", "b", "c"]``; line breaks and tabs are dropped."""
    cleaned = (text or "").replace("\n", "").replace("\r", "").replace("\t", "")
    return [item.strip() for item in cleaned.split(",") if item.strip()]


@task
def download_url(
    url: str,
    fname: str,
    url_type: str = "direct",
    gsheets_sheet_order: int = 0,
    gsheets_sheet_name: str | None = None,
    gsheets_sheet_range: str | None = None,
) -> None:
    """Saves the data at ``url`` in ``fname``: the file itself (``direct``, ``google_drive``) or a worksheet's
    values as CSV (``google_sheet``: by name, else by 0-based order; the whole sheet or an A1 range)."""
    check_url_type(url_type)
    filepath = Path(fname)
    filepath.parent.mkdir(parents=True, exist_ok=True)
    log(f"Starting download from URL: {url} (type: {url_type})")
    if url_type == "direct":
        download_direct(url, filepath)
    elif url_type == "google_drive":
        download_google_drive(url, filepath)
    else:
        download_google_sheet(url, filepath, gsheets_sheet_order, gsheets_sheet_name, gsheets_sheet_range)
    log(f"Successfully downloaded data to: {filepath}")


def download_direct(url: str, filepath: Path) -> None:
    with httpx.stream("GET", url, follow_redirects=True, timeout=300) as response:
        if response.is_error:
            raise DumpUrlError(f"{url}: HTTP {response.status_code} {response.reason_phrase}")
        with filepath.open("wb") as file:
            for chunk in response.iter_bytes():
                file.write(chunk)


def google_api(name: str, version: str, scopes: Sequence[str]) -> Any:
    """A google-api-python-client service with the job's credentials (the discovery document is the one
    bundled with the client: nothing is fetched to build it)."""
    endpoint = os.environ.get(GOOGLE_API_ENDPOINT_ENV)
    if endpoint and deployment.id:
        raise DumpUrlError(
            f"{GOOGLE_API_ENDPOINT_ENV} is for tests: unset it in the deployment's environment"
        )
    return build(
        name,
        version,
        credentials=get_credentials_from_env(scopes=list(scopes)),
        client_options=ClientOptions(api_endpoint=endpoint) if endpoint else None,
        cache_discovery=False,
        static_discovery=True,
    )


def _id_after(prefix: str, url: str, kind: str) -> str:
    identifier = url.removeprefix(prefix).split("/")[0] if url.startswith(prefix) else ""
    if not identifier:
        raise DumpUrlError(f"{kind} URL must start with {prefix}<id>. Invalid URL: {url}")
    return identifier


def download_google_drive(url: str, filepath: Path) -> None:
    file_id = _id_after(DRIVE_URL_PREFIX, url, "Google Drive")
    request = google_api("drive", "v3", DRIVE_SCOPES).files().get_media(fileId=file_id)
    with filepath.open("wb") as handle:
        downloader = MediaIoBaseDownload(handle, request)
        done = False
        while not done:
            status, done = downloader.next_chunk()
            if status:
                log(f"Google Drive download progress: {int(status.progress() * 100)}%")


def download_google_sheet(
    url: str, filepath: Path, sheet_order: int, sheet_name: str | None, sheet_range: str | None
) -> None:
    spreadsheet_id = _id_after(SHEETS_URL_PREFIX, url, "Google Sheets")
    spreadsheets = google_api("sheets", "v4", SHEETS_SCOPES).spreadsheets()
    metadata = spreadsheets.get(spreadsheetId=spreadsheet_id, fields="sheets.properties.title").execute()
    titles = [sheet["properties"]["title"] for sheet in metadata.get("sheets", [])]
    if sheet_name:
        if sheet_name not in titles:
            raise DumpUrlError(f"{url}: no worksheet named {sheet_name!r}; the worksheets are {titles}")
        title = sheet_name
    elif 0 <= sheet_order < len(titles):
        title = titles[sheet_order]
    else:
        raise DumpUrlError(f"{url}: no worksheet at order {sheet_order}; the worksheets are {titles}")
    quoted = "'" + title.replace("'", "''") + "'"
    cell_range = f"{quoted}!{sheet_range}" if sheet_range else quoted
    log(f"Getting the values of {cell_range}")
    result = spreadsheets.values().get(spreadsheetId=spreadsheet_id, range=cell_range).execute()
    rows: list[list[Any]] = result.get("values", [])
    if not rows:
        raise DumpUrlError(f"{url}: no data found in {cell_range}")
    width = max(len(row) for row in rows)
    padded = [[*row, *[""] * (width - len(row))] for row in rows]
    dataframe = pd.DataFrame(padded[1:], columns=padded[0])
    dataframe.columns = pd.Index(remove_columns_accents(dataframe))
    dataframe.to_csv(filepath, index=False)
    log(f"Google Sheets data saved to: {filepath} ({len(dataframe)} rows)")


@task
def dump_files(
    file_path: str,
    partition_columns: list[str],
    save_path: str = ".",
    chunksize: int = 1_000_000,
    build_json_dataframe: bool = False,
    dataframe_key_column: str | None = None,
    encoding: str = "utf-8",
    on_bad_lines: str = "error",
    separator: str = ",",
) -> None:
    """Reads the CSV file in chunks of ``chunksize`` rows and writes them under ``save_path``: partitioned by
    the date in ``partition_columns[0]`` (and the other columns listed), else one file per chunk."""
    path = Path(file_path)
    if not path.is_file():
        raise FileNotFoundError(f"Input file not found: {file_path}")
    with path.open("rb") as handle:
        if handle.read(len(ZIP_MAGIC)) == ZIP_MAGIC:
            raise DumpUrlError(
                f"{file_path}: the download is a ZIP or Excel (.xlsx) file, and dump_url reads CSV: "
                "point url at a CSV export"
            )
    Path(save_path).mkdir(parents=True, exist_ok=True)
    event_id = datetime.now().strftime("%Y%m%d-%H%M%S")
    reader = pd.read_csv(
        path, chunksize=chunksize, encoding=encoding, on_bad_lines=on_bad_lines, sep=separator  # type: ignore[call-overload]
    )
    rows = 0
    for index, chunk in enumerate(reader):
        handle_dataframe_chunk(
            chunk, save_path, partition_columns, event_id, index, build_json_dataframe, dataframe_key_column
        )
        rows += len(chunk)
    log(f"{rows:,} rows of {file_path} written under {save_path}")


def handle_dataframe_chunk(
    dataframe: pd.DataFrame,
    save_path: str,
    partition_columns: list[str],
    event_id: str,
    idx: int,
    build_json_dataframe: bool = False,
    dataframe_key_column: str | None = None,
) -> None:
    old_columns = [str(column) for column in dataframe.columns]
    dataframe.columns = pd.Index(remove_columns_accents(dataframe))
    renamed = dict(zip(old_columns, dataframe.columns, strict=True))
    missing = [column for column in partition_columns if column not in renamed]
    if missing:
        raise DumpUrlError(f"partition_columns {missing} are not columns of the file: it has {old_columns}")
    dataframe = clean_dataframe(dataframe)
    if not partition_columns:
        dataframe_to_csv(
            dataframe,
            Path(save_path) / f"{event_id}-{idx}.csv",
            build_json_dataframe=build_json_dataframe,
            dataframe_key_column=dataframe_key_column,
        )
        return
    dataframe, date_columns = parse_date_columns(dataframe, renamed[partition_columns[0]])
    to_partitions(
        data=dataframe,
        partition_columns=[*date_columns, *(renamed[column] for column in partition_columns[1:])],
        savepath=save_path,
        data_type="csv",
        build_json_dataframe=build_json_dataframe,
        dataframe_key_column=dataframe_key_column,
    )
