"""The lake on a real GCS JSON API (gcp-storage-emulator on 127.0.0.1, build-support/ci/start-gcs.sh), through
the same ``GcsFileSystem`` and options production uses; only the endpoint is overridden (docs/lake.md).

Every lake operation: write a partition, replace a window, read the watermark back, list partitions, rerun
idempotently; and what a failed write or a process killed in the middle of replacing a window leaves.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from pipelines.common.dump import DumpParameters, dump_to_lake
from pipelines.common.lake import (
    Lake,
    Partition,
    gcs_options,
    latest_partition_day,
    partition_days,
    write_partitioned,
)
from pipelines.common.settings import GCS_ENDPOINT_ENV
from repo_testing.tcp_relay import TcpRelay

BUCKET = "lake"


@pytest.fixture
def lake_uri(gcs_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh prefix of the test bucket on the GCS server, reached through the endpoint override."""
    monkeypatch.setenv(GCS_ENDPOINT_ENV, gcs_url)
    return f"gs://{BUCKET}/test-{uuid.uuid4().hex[:12]}"


def every_object(lake: Lake) -> list[str]:
    """Every object under the lake's root, hidden ones included, relative to the root."""
    selector = pafs.FileSelector(lake.root, recursive=True, allow_not_found=True)
    infos = lake.filesystem.get_file_info(selector)
    return sorted(info.path[len(lake.root) + 1 :] for info in infos if info.type == pafs.FileType.File)


def window(day: date, values: list[int]) -> pa.Table:
    times = [datetime.combine(day, datetime.min.time()) + timedelta(hours=value) for value in values]
    return pa.table({"t": pa.array(times, type=pa.timestamp("us")), "v": values})


def test_the_production_filesystem_with_only_the_endpoint_overridden(lake_uri: str, gcs_url: str) -> None:
    lake = Lake.from_uri(lake_uri)
    assert isinstance(lake.filesystem, pafs.GcsFileSystem)
    assert not lake.is_local
    assert lake.root == lake_uri.removeprefix("gs://")
    assert gcs_options({}) == {}  # production: Google's endpoint and the job's credentials
    assert gcs_options({GCS_ENDPOINT_ENV: gcs_url}) == {
        "anonymous": True,
        "scheme": "http",
        "endpoint_override": gcs_url.removeprefix("http://"),
    }


def test_write_replace_list_and_read_back_on_gcs(lake_uri: str) -> None:
    lake = Lake.from_uri(lake_uri)
    first = write_partitioned(
        lake, "ds/t", window(date(2024, 5, 1), [1, 30]), time_column="t", file_name="w_1.parquet"
    )
    assert [path.removeprefix(lake.root + "/") for path in first] == [
        f"ds/t/{Partition(date(2024, 5, 1)).path}/w_1.parquet",
        f"ds/t/{Partition(date(2024, 5, 2)).path}/w_1.parquet",
    ]
    # The same window again, other rows: the same objects, replaced; nothing else left behind.
    again = write_partitioned(
        lake, "ds/t", window(date(2024, 5, 1), [2, 3, 31]), time_column="t", file_name="w_1.parquet"
    )
    assert again == first
    assert (
        every_object(lake)
        == lake.list_files("ds/t", recursive=True)
        == sorted(path.removeprefix(lake.root + "/") for path in first)
    )
    assert sorted(lake.read_table("ds/t")["v"].to_pylist()) == [2, 3, 31]
    assert lake.read_schema(lake.list_files("ds/t", recursive=True)[0]).names == ["t", "v"]

    write_partitioned(lake, "ds/t", window(date(2024, 6, 9), [5]), time_column="t", file_name="w_2.parquet")
    assert latest_partition_day(lake, "ds/t") == date(2024, 6, 9)
    assert [day for day, _ in partition_days(lake, "ds/t", since=date(2024, 5, 2))] == [
        date(2024, 6, 9),
        date(2024, 5, 2),
    ]
    lake.delete_file(f"ds/t/{Partition(date(2024, 6, 9)).path}/w_2.parquet")
    assert latest_partition_day(lake, "ds/t") == date(2024, 5, 2)  # no directory object survives it
    assert latest_partition_day(lake, "ds/nothing") is None


def test_a_failed_write_keeps_the_previous_object_and_leaves_no_partial_one(
    lake_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = Lake.from_uri(lake_uri)
    lake.write_parquet(pa.table({"x": [1, 2]}), "t/f.parquet")

    def fail_midway(table: pa.Table, sink: pa.NativeFile) -> None:
        sink.write(b"PAR1 half a file")
        raise OSError("upload interrupted")

    monkeypatch.setattr(pq, "write_table", fail_midway)
    with pytest.raises(OSError, match="upload interrupted"):
        lake.write_parquet(pa.table({"x": [9]}), "t/f.parquet")
    monkeypatch.undo()
    # GCS finalises an upload closed after an error: the half object existed, under the temporary name only.
    assert every_object(lake) == ["t/f.parquet"]
    assert lake.read_table("t")["x"].to_pylist() == [1, 2]


CRASHING_WRITER = """
import sys
from datetime import date, datetime, timedelta
import pyarrow as pa
from pipelines.common.lake import Lake, write_partitioned
days = [date(2024, 5, 1) + timedelta(days=n) for n in range(3)]
times = [datetime.combine(day, datetime.min.time()) for day in days]
table = pa.table({"t": pa.array(times, type=pa.timestamp("us")), "v": [int(sys.argv[2])] * 3})
write_partitioned(Lake.from_uri(sys.argv[1]), "ds/t", table, time_column="t", file_name="w.parquet")
"""


class HoldingRelay(TcpRelay):
    """Holds the request that moves the second day's new file over the old one until released, then drops
    it (the emulator serves one request at a time: the held connection must end for it to go on)."""

    def __init__(self, backend_port: int) -> None:
        super().__init__(backend_port)
        self.holding = threading.Event()
        self.released = threading.Event()

    def on_chunk(self, data: bytes, upstream: bool) -> bool:
        if upstream and b"2024-05-02" in data and (b"rewriteTo" in data or b"copyTo" in data):
            self.holding.set()
            self.released.wait(timeout=300)
            return False
        return True


@pytest.fixture
def relay(gcs_url: str) -> Iterator[HoldingRelay]:
    relay = HoldingRelay(int(gcs_url.rsplit(":", 1)[1]))
    yield relay
    relay.close()


def test_a_process_killed_mid_replace_leaves_whole_files_and_a_rerun_fixes_the_window(
    lake_uri: str, relay: HoldingRelay
) -> None:
    lake = Lake.from_uri(lake_uri)
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def writer(value: int, endpoint: str) -> subprocess.Popen[bytes]:
        env = {**environment, GCS_ENDPOINT_ENV: endpoint}
        return subprocess.Popen([sys.executable, "-c", CRASHING_WRITER, lake_uri, str(value)], env=env)

    assert writer(1, os.environ[GCS_ENDPOINT_ENV]).wait(timeout=120) == 0
    crashing = writer(2, f"http://127.0.0.1:{relay.port}")
    try:
        assert relay.holding.wait(timeout=120), "the writer never reached the second day's move"
        crashing.send_signal(signal.SIGKILL)
    finally:
        crashing.wait(timeout=60)
        relay.released.set()

    # Killed while replacing the window: day 1 new, days 2 and 3 still the old whole files; the new file of
    # day 2 is a hidden temporary that no reader sees.
    table = lake.read_table("ds/t")
    assert sorted(zip(table["t"].to_pylist(), table["v"].to_pylist(), strict=True)) == [
        (datetime(2024, 5, 1), 2),
        (datetime(2024, 5, 2), 1),
        (datetime(2024, 5, 3), 1),
    ]
    leftovers = [path for path in every_object(lake) if Path(path).name.startswith(".")]
    assert len(leftovers) == 1 and "data_particao=2024-05-02" in leftovers[0]

    # The rerun of the window writes it whole and removes what the crash left.
    assert writer(2, os.environ[GCS_ENDPOINT_ENV]).wait(timeout=120) == 0
    assert lake.read_table("ds/t")["v"].to_pylist() == [2, 2, 2]
    assert [path for path in every_object(lake) if Path(path).name.startswith(".")] == []


def test_incremental_dump_reads_its_watermark_back_from_gcs_and_reruns_idempotently(
    lake_uri: str, tmp_path: Path
) -> None:
    source = f"sqlite:///{tmp_path / 'source.sqlite'}"
    engine = sa.create_engine(source)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE evento (id INTEGER PRIMARY KEY, criado_em TIMESTAMP)"))
        connection.execute(
            sa.text("INSERT INTO evento VALUES (:id, :t)"),
            [{"id": n, "t": datetime(2024, 5, 1, 8) + timedelta(hours=10 * n)} for n in range(1, 13)],
        )
    parameters = DumpParameters(
        table_id="evento",
        dataset_id="brutos_teste",
        source_table="evento",
        dump_mode="incremental",
        partition_column="criado_em",
        database_url=source,
        lake_uri=lake_uri,
        batch_size=4,
    )
    lake = Lake.from_uri(lake_uri)

    first = dump_to_lake(parameters, package="pipelines.common")
    assert (first.since, first.rows_written) == (None, 12)
    files = lake.list_files("brutos_teste/evento", recursive=True)
    assert latest_partition_day(lake, "brutos_teste/evento") == date(2024, 5, 6)

    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO evento VALUES (13, '2024-05-07 02:00:00')"))
    rerun = dump_to_lake(parameters, package="pipelines.common")
    assert rerun.since == date(2024, 5, 6)  # the watermark, read back from the objects' names
    assert rerun.rows_written == 2  # the newest day again, and the new one
    assert sorted(lake.read_table("brutos_teste/evento")["id"].to_pylist()) == list(range(1, 14))
    assert set(files) <= set(lake.list_files("brutos_teste/evento", recursive=True))
    assert [path for path in every_object(lake) if Path(path).name.startswith(".")] == []
    engine.dispose()
