from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa

from pipelines.common.dump_writer import PartWriter, split_days
from pipelines.common.lake import Lake

DAY_DIR = "ds/t/ano_particao=2024/mes_particao=01/data_particao=2024-01-01"


def rows(*ids: int) -> pa.Table:
    return pa.table({"id": list(ids)})


def test_days_are_cut_into_parts_and_stale_parts_deleted(tmp_path: Path) -> None:
    lake = Lake.from_uri(str(tmp_path))
    writer = PartWriter(lake, "ds/t", "t", rows_per_file=2)
    writer.add(date(2024, 1, 1), rows(1, 2, 3))
    writer.add(date(2024, 1, 1), rows(4, 5))
    writer.add(date(2024, 1, 2), rows(6))
    writer.close()
    assert lake.list_files(DAY_DIR) == [f"{DAY_DIR}/t_2024-01-01_part0000{n}.parquet" for n in range(3)]
    assert (writer.files_written, writer.rows_written, writer.days) == (
        4,
        6,
        [date(2024, 1, 1), date(2024, 1, 2)],
    )

    bigger = PartWriter(lake, "ds/t", "t", rows_per_file=10)
    bigger.add(date(2024, 1, 1), rows(1, 2, 3, 4, 5))
    bigger.close()
    assert lake.list_files(DAY_DIR) == [f"{DAY_DIR}/t_2024-01-01_part00000.parquet"]
    assert bigger.stale_files_deleted == 2
    assert sorted(lake.read_table("ds/t")["id"].to_pylist()) == [1, 2, 3, 4, 5, 6]


def test_a_day_seen_again_continues_its_numbering(tmp_path: Path) -> None:
    lake = Lake.from_uri(str(tmp_path))
    writer = PartWriter(lake, "ds/t", "t", rows_per_file=10)
    writer.add(date(2024, 1, 1), rows(1))
    writer.add(date(2024, 1, 2), rows(2))
    writer.add(date(2024, 1, 1), rows(3))
    writer.close()
    assert writer.reopened == 1
    assert lake.list_files(DAY_DIR) == [f"{DAY_DIR}/t_2024-01-01_part0000{n}.parquet" for n in range(2)]
    assert sorted(lake.read_table("ds/t")["id"].to_pylist()) == [1, 2, 3]


def test_unpartitioned_and_run_keyed_names(tmp_path: Path) -> None:
    lake = Lake.from_uri(str(tmp_path))
    plain = PartWriter(lake, "ds/t", "t", rows_per_file=2)
    plain.add(None, rows(1, 2, 3))
    plain.close()
    keyed = PartWriter(lake, "ds/t", "t", rows_per_file=2, run_key="20240101T030000")
    keyed.add(None, rows(4))
    keyed.close()
    assert lake.list_files("ds/t") == [
        "ds/t/t_20240101T030000_part00000.parquet",
        "ds/t/t_part00000.parquet",
        "ds/t/t_part00001.parquet",
    ]
    assert plain.days == [] and keyed.stale_files_deleted == 0


def test_split_days_slices_sorted_rows_and_groups_unsorted_ones() -> None:
    days = pa.array([date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 3)], type=pa.date32())
    table = pa.table({"v": [1, 2, 3]})
    assert [(day, part["v"].to_pylist()) for day, part in split_days(table, days)] == [
        (date(2024, 1, 1), [1, 2]),
        (date(2024, 1, 3), [3]),
    ]
    mixed = pa.array([date(2024, 1, 3), date(2024, 1, 1), date(2024, 1, 3)], type=pa.date32())
    assert [(day, part["v"].to_pylist()) for day, part in split_days(table, mixed)] == [
        (date(2024, 1, 1), [2]),
        (date(2024, 1, 3), [1, 3]),
    ]
    assert list(split_days(table.slice(0, 0), days.slice(0, 0))) == []
