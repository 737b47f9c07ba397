"""``pipelines_utils.pandas``: data frames written as Hive partitions on local disk, ready for the upload."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

PARTITION_COLUMNS = ("ano_particao", "mes_particao", "data_particao")
# Characters of a column name that become ``_`` (the city's list: blanks, control characters, / - ( )).
COLUMN_SEPARATORS = re.compile(r"[ /\-\a\b\n\t\v\f\r()]")
# Text cleaned by clean_dataframe (regular expressions -> replacements); the text ``None`` becomes missing.
TEXT_CLEANUP: dict[str, Any] = {"\x00": "", "None": float("nan"), "\n": " ", "\r": " "}


def parse_date_columns(dataframe: pd.DataFrame, partition_date_column: str) -> tuple[pd.DataFrame, list[str]]:
    """Adds ``ano_particao``, ``mes_particao`` and ``data_particao`` from a date column."""
    for column in PARTITION_COLUMNS:
        if column in dataframe.columns:
            raise ValueError(f"Column {column} already exists, please review your model.")
    dataframe[partition_date_column] = dataframe[partition_date_column].astype(str)
    dates = pd.to_datetime(dataframe[partition_date_column], errors="coerce")
    dataframe["ano_particao"] = [_number_text(value) for value in dates.dt.year]
    dataframe["mes_particao"] = [_number_text(value) for value in dates.dt.month]
    dataframe["data_particao"] = dates.dt.date
    return dataframe, list(PARTITION_COLUMNS)


def _number_text(value: float) -> str | None:
    """``2024.0`` -> ``"2024"``; a date that did not parse -> ``None`` (no partition)."""
    return None if pd.isna(value) else str(int(value))


def to_json_dataframe(dataframe: pd.DataFrame, key_column: str | None = None) -> pd.DataFrame:
    """Every column but ``key_column`` moved into one ``content`` column of records."""
    if key_column:
        dataframe["content"] = dataframe.drop(columns=[key_column]).to_dict(  # type: ignore[assignment]
            orient="records"
        )
        return dataframe[[key_column, "content"]]
    dataframe["content"] = dataframe.to_dict(orient="records")  # type: ignore[assignment]
    return dataframe[["content"]]


def to_partitions(
    data: pd.DataFrame,
    partition_columns: list[str],
    savepath: str | Path,
    data_type: str = "csv",
    suffix: str | None = None,
    build_json_dataframe: bool = False,
    dataframe_key_column: str | None = None,
) -> list[Path]:
    """Writes ``data`` under ``savepath/<col>=<value>/.../data[_<suffix>].<csv|parquet>``, one file per
    combination of the partition columns' values (CSV files are appended to)."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError("Data need to be a pandas DataFrame")
    if data_type not in ("csv", "parquet"):
        raise ValueError(f"Invalid data type: {data_type}")
    saved: list[Path] = []
    combinations: list[dict[str, Any]] = (
        data[partition_columns].drop_duplicates().to_dict(orient="records")  # type: ignore[assignment]
    )
    for combination in combinations:
        selected = pd.concat(
            [data[column].isin([value]) for column, value in combination.items()], axis=1
        ).all(axis=1)
        part = data.loc[selected].drop(columns=partition_columns).reset_index(drop=True)
        directory = Path(savepath).joinpath(*(f"{column}={value}" for column, value in combination.items()))
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / (f"data_{suffix}.{data_type}" if suffix is not None else f"data.{data_type}")
        if build_json_dataframe:
            part = to_json_dataframe(part, key_column=dataframe_key_column)
        if data_type == "csv":
            part.to_csv(path, index=False, mode="a", header=not path.exists())
        else:
            part.to_parquet(path, index=False)
        saved.append(path)
    return saved


def final_column_treatment(column: str) -> str:
    """A column that reads as a number gets a leading ``_``; other columns lose every non-word character."""
    try:
        int(column)
    except ValueError:
        return re.sub(r"[\W]+", "", column)
    return f"_{column}"


def remove_columns_accents(dataframe: pd.DataFrame) -> list[str]:
    """The column names in ASCII, lower case, separators as ``_`` (the frame's columns become strings)."""
    dataframe.columns = pd.Index([str(column) for column in dataframe.columns])
    names = []
    for column in dataframe.columns:
        ascii_name = unicodedata.normalize("NFKD", column).encode("ascii", errors="ignore").decode()
        names.append(final_column_treatment(COLUMN_SEPARATORS.sub("_", ascii_name.strip()).lower()))
    return names


def clean_dataframe(dataframe: pd.DataFrame) -> pd.DataFrame:
    """Text columns without NUL bytes and line breaks; the text ``None`` becomes a missing value."""
    for column in dataframe.columns:
        if dataframe[column].dtype == object:
            dataframe[column] = dataframe[column].astype(str).replace(TEXT_CLEANUP, regex=True)
    return dataframe


def dataframe_to_csv(
    dataframe: pd.DataFrame,
    filepath: str | Path,
    build_json_dataframe: bool = False,
    dataframe_key_column: str | None = None,
) -> None:
    if build_json_dataframe:
        dataframe = to_json_dataframe(dataframe, key_column=dataframe_key_column)
    Path(filepath).parent.mkdir(parents=True, exist_ok=True)
    dataframe.to_csv(filepath, index=False, encoding="utf-8")
