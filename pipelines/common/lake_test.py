from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.common.lake import (
    Lake,
    LakeError,
    Partition,
    latest_partition_day,
    partition_days,
    split_by_partition,
    write_partitioned,
)
from pipelines.common.settings import LAKE_URI_ENV, RIO_TZ, is_local_uri


def test_partition_paths_are_hive_and_zero_padded() -> None:
    assert Partition(date(2024, 3, 5)).path == "ano_particao=2024/mes_particao=03/data_particao=2024-03-05"
    assert Partition(date(2024, 12, 25), 7).path.endswith("data_particao=2024-12-25/hora_particao=07")
    assert Partition.of(datetime(2024, 1, 2, 23, 59), hourly=True) == Partition(date(2024, 1, 2), 23)
    with pytest.raises(LakeError):
        _ = Partition(date(2024, 1, 1), 24).path


def test_from_uri_defaults_to_env_then_local_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LAKE_URI_ENV, str(tmp_path / "from-env"))
    assert Lake.from_uri().root == (tmp_path / "from-env").as_posix()
    assert (tmp_path / "from-env").is_dir()
    monkeypatch.chdir(tmp_path)
    assert Lake.from_uri("relative/lake").root == (tmp_path / "relative/lake").as_posix()
    assert Lake.from_uri(f"file://{tmp_path}").root == tmp_path.as_posix()


def test_paths_cannot_escape_the_root(tmp_path: Path) -> None:
    lake = Lake.from_uri(str(tmp_path))
    with pytest.raises(LakeError, match="invalid lake path"):
        lake.path("a/../../etc")


def test_write_is_atomic_and_replaces(tmp_path: Path) -> None:
    lake = Lake.from_uri(str(tmp_path))
    lake.write_parquet(pa.table({"x": [1, 2]}), "t/f.parquet")
    lake.write_parquet(pa.table({"x": [3]}), "t/f.parquet")
    assert pq.read_table(tmp_path / "t/f.parquet")["x"].to_pylist() == [3]
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["f.parquet"]


def test_failed_write_keeps_the_previous_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake.from_uri(str(tmp_path))
    lake.write_parquet(pa.table({"x": [1, 2]}), "t/f.parquet")

    def crash_midway(table: pa.Table, sink: pa.NativeFile) -> None:
        sink.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        lake.write_parquet(pa.table({"x": [9]}), "t/f.parquet")
    monkeypatch.undo()
    assert pq.read_table(tmp_path / "t/f.parquet")["x"].to_pylist() == [1, 2]
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["f.parquet"]


def test_split_by_partition_uses_local_time_of_zoned_timestamps() -> None:
    moments = [
        datetime(2024, 1, 1, 2, 30, tzinfo=RIO_TZ),
        datetime(2024, 1, 1, 2, 59, tzinfo=RIO_TZ),
        datetime(2023, 12, 31, 23, 0, tzinfo=RIO_TZ),
    ]
    table = pa.table(
        {"t": pa.array(moments, type=pa.timestamp("us", tz="America/Sao_Paulo")), "v": [1, 2, 3]}
    )
    groups = split_by_partition(table, "t", hourly=True)
    assert [(p, t["v"].to_pylist()) for p, t in groups] == [
        (Partition(date(2023, 12, 31), 23), [3]),
        (Partition(date(2024, 1, 1), 2), [1, 2]),
    ]
    assert [p for p, _ in split_by_partition(table, "t")] == [
        Partition(date(2023, 12, 31)),
        Partition(date(2024, 1, 1)),
    ]


def test_split_by_partition_refuses_null_times() -> None:
    table = pa.table({"t": pa.array([datetime(2024, 1, 1), None], type=pa.timestamp("us"))})
    with pytest.raises(LakeError, match="null"):
        split_by_partition(table, "t")


def test_write_partitioned_same_window_twice_gives_the_same_files(tmp_path: Path) -> None:
    lake = Lake.from_uri(str(tmp_path))
    table = pa.table(
        {"t": pa.array([datetime(2024, 5, 1, 10), datetime(2024, 5, 2, 11)], type=pa.timestamp("us"))}
    )
    first = write_partitioned(lake, "ds/t", table, time_column="t", file_name="w_20240502T1100.parquet")
    second = write_partitioned(lake, "ds/t", table, time_column="t", file_name="w_20240502T1100.parquet")
    assert first == second
    assert lake.list_files("ds/t", recursive=True) == [
        "ds/t/ano_particao=2024/mes_particao=05/data_particao=2024-05-01/w_20240502T1100.parquet",
        "ds/t/ano_particao=2024/mes_particao=05/data_particao=2024-05-02/w_20240502T1100.parquet",
    ]
    assert lake.read_table("ds/t").num_rows == 2


def test_latest_partition_day_skips_empty_hidden_and_foreign_dirs(tmp_path: Path) -> None:
    lake = Lake.from_uri(str(tmp_path))
    assert latest_partition_day(lake, "ds/t") is None
    lake.write_parquet(pa.table({"x": [1]}), f"ds/t/{Partition(date(2024, 2, 9)).path}/a.parquet")
    lake.write_parquet(pa.table({"x": [1]}), f"ds/t/{Partition(date(2024, 10, 1), 5).path}/a.parquet")
    (tmp_path / f"ds/t/{Partition(date(2024, 11, 30)).path}").mkdir(parents=True)
    (tmp_path / f"ds/t/{Partition(date(2024, 12, 1)).path}").mkdir(parents=True)
    (tmp_path / f"ds/t/{Partition(date(2024, 12, 1)).path}/.x.parquet.123.tmp").write_bytes(b"partial")
    (tmp_path / "ds/t/ano_particao=2025/not_a_partition").mkdir(parents=True)
    assert latest_partition_day(lake, "ds/t") == date(2024, 10, 1)


def test_partition_days_newest_first_down_to_since(tmp_path: Path) -> None:
    lake = Lake.from_uri(str(tmp_path))
    for day in (date(2023, 12, 31), date(2024, 1, 2), date(2024, 1, 10), date(2024, 2, 1)):
        lake.write_parquet(pa.table({"x": [1]}), f"ds/t/{Partition(day).path}/a.parquet")
    (tmp_path / "ds/t/ano_particao=2024/mes_particao=01/data_particao=2024-01-99").mkdir()
    assert [day for day, _ in partition_days(lake, "ds/t")] == [
        date(2024, 2, 1),
        date(2024, 1, 10),
        date(2024, 1, 2),
        date(2023, 12, 31),
    ]
    assert list(partition_days(lake, "ds/t", since=date(2024, 1, 5))) == [
        (date(2024, 2, 1), f"ds/t/{Partition(date(2024, 2, 1)).path}"),
        (date(2024, 1, 10), f"ds/t/{Partition(date(2024, 1, 10)).path}"),
    ]


def test_read_schema_and_local_uris(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lake = Lake.from_uri(str(tmp_path))
    lake.write_parquet(pa.table({"x": [1], "y": ["a"]}), "t/f.parquet")
    assert lake.read_schema("t/f.parquet").names == ["x", "y"]
    assert is_local_uri(str(tmp_path)) and is_local_uri(f"file://{tmp_path}")
    assert not is_local_uri("gs://bucket/lake")
    monkeypatch.setenv(LAKE_URI_ENV, "gs://bucket/lake")
    assert not is_local_uri()
