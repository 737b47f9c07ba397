"""The call check of the rewritten helper-library imports: Prefect's own call keywords (``wait_for=``,
``return_state=``, ...) pass on tasks and flows, and what our signatures refuse is reported with its line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pipelines.common.iplanrio.dump_arcgis as real_dump_arcgis
import pipelines.common.iplanrio.dump_url as real_dump_url
import pipelines.common.iplanrio.env as real_env
from pipeline_import.imported import Imported, Note
from pipeline_import.library import API_DIR, read_api, rewrite_library_imports

API = """
import prefect
from prefect import flow, task

MODES = ("prod", "staging")


@task
def inject(environment: str = "prod") -> None: ...


@task(retries=2)
def upload(data_path: str, dump_mode: str) -> None: ...


@prefect.flow(log_prints=True)
def run_all(name: str) -> None: ...


def log(msg: str, level: str = "info") -> None: ...
"""

# Line numbers matter: each flagged call's line is asserted below.
IMPORTED = """\
from iplanrio.pipelines_utils.env import inject, log, run_all, upload
from prefect import flow


@flow
def imported(x: list[object]) -> None:
    a = inject(environment="prod", wait_for=x, return_state=True)
    b = inject.submit(environment="staging", wait_for=[a], return_state=False)
    upload.map(data_path=["a"], dump_mode="append", wait_for=[b], deferred=True)
    run_all(name="x", return_state=True, wait_for=[b])
    inject.fn(wait_for=[a])
    log("x", wait_for=[a])
    log.submit("x")
    inject(environment="dev", wait_for=[a])
    upload.submit("p", "append", wait=[a])
    run_all.map(["x"])
    run_all.fn("x")
"""


def checked(root: Path, source: str) -> list[tuple[str, str]]:
    target = root / "pipelines" / "rj_x__y"
    target.mkdir(parents=True)
    (target / "flow.py").write_text(source)
    imported = Imported(source=target, name="rj_x__y")
    rewrite_library_imports(target, "pipelines/rj_x__y", read_api(root), imported)
    rewritten = "iplanrio.pipelines_utils.env -> pipelines.common.iplanrio.env"
    assert imported.notes[0] == Note(False, "pipelines/rj_x__y/flow.py:1", rewritten), imported.notes
    assert (target / "flow.py").read_text().startswith("from pipelines.common.iplanrio.env import ")
    return [(note.where, note.text) for note in imported.notes if note.todo]


def test_prefect_call_keywords_pass_and_what_our_signatures_refuse_is_reported(tmp_path: Path) -> None:
    api = tmp_path / API_DIR
    api.mkdir(parents=True)
    (api / "env.py").write_text(textwrap.dedent(API))
    where = "pipelines/rj_x__y/flow.py"
    assert checked(tmp_path, IMPORTED) == [
        (f"{where}:11", "inject(): argument 'wait_for' is not supported (docs/importar.md)"),
        (f"{where}:12", "log(): argument 'wait_for' is not supported (docs/importar.md)"),
        (f"{where}:13", "log.submit(): log is a plain function here, without .submit (docs/importar.md)"),
        (f"{where}:14", "inject(): environment='dev' is not supported here: use one of prod, staging"),
        (f"{where}:15", "upload(): argument 'wait' is not supported (docs/importar.md)"),
        (f"{where}:16", "run_all.map(): run_all is a Prefect flow here, without .map (docs/importar.md)"),
    ]


def test_the_real_api_reads_its_tasks_as_tasks(tmp_path: Path) -> None:
    """pipelines/common/iplanrio/env.py as it is: its task takes wait_for=, its plain function does not."""
    root = Path(real_env.__file__).parents[3]
    api = read_api(root)["env"]
    assert api.functions["inject_bd_credentials_task"].decorator == "task"
    assert api.functions["getenv_or_action"].decorator is None
    target = tmp_path / "rj_x__y"
    target.mkdir()
    (target / "flow.py").write_text(
        "from iplanrio.pipelines_utils.env import getenv_or_action, inject_bd_credentials_task\n"
        "a = inject_bd_credentials_task(environment='prod', return_state=True)\n"
        "inject_bd_credentials_task.submit(environment='staging', wait_for=[a])\n"
        "getenv_or_action('KEY', wait_for=[a])\n"
    )
    imported = Imported(source=target, name="rj_x__y")
    rewrite_library_imports(target, "pipelines/rj_x__y", {"env": api}, imported)
    assert [(note.where, note.text) for note in imported.notes if note.todo] == [
        (
            "pipelines/rj_x__y/flow.py:4",
            "getenv_or_action(): argument 'wait_for' is not supported (docs/importar.md)",
        )
    ]


TEMPLATES_IMPORTED = """\
from iplanrio.pipelines_templates.dump_arcgis.tasks import (
    download_data_from_arcgis_task,
)
from iplanrio.pipelines_templates.dump_url.flows import dump_url_flow
from iplanrio.pipelines_templates.dump_url.utils import handle_dataframe_chunk
from iplanrio.pipelines_templates.dump_db.tasks import dump_upload_batch_task

path = download_data_from_arcgis_task(url="u", crs="EPSG:3857", wait_for=[1])
dump_url_flow(url="u", url_type="google_sheet", gsheets_sheet_name="a", return_state=True)
dump_url_flow(url="u", url_type="ftp")
dump_url_flow(url="u", sheet="a")
"""


def test_the_templates_we_provide_are_rewritten_and_checked(tmp_path: Path) -> None:
    """The real pipelines/common/iplanrio: dump_arcgis and dump_url rewritten and their calls checked; other
    template modules stay to do."""
    root = Path(real_dump_url.__file__).parents[3]
    assert Path(real_dump_arcgis.__file__).parents[3] == root
    target = tmp_path / "rj_x__y"
    target.mkdir()
    (target / "flow.py").write_text(TEMPLATES_IMPORTED)
    imported = Imported(source=target, name="rj_x__y")
    rewrite_library_imports(target, "pipelines/rj_x__y", read_api(root), imported)
    lines = (target / "flow.py").read_text().splitlines()
    assert lines[0] == "from pipelines.common.iplanrio.dump_arcgis import ("
    assert lines[3] == "from pipelines.common.iplanrio.dump_url import dump_url_flow"
    where = "pipelines/rj_x__y/flow.py"
    assert [(note.where, note.text) for note in imported.notes if note.todo] == [
        (
            f"{where}:5",
            "from iplanrio.pipelines_templates.dump_url.utils import handle_dataframe_chunk: "
            "no equivalent here (docs/importar.md)",
        ),
        (
            f"{where}:6",
            "from iplanrio.pipelines_templates.dump_db.tasks import dump_upload_batch_task: "
            "no equivalent here (docs/importar.md)",
        ),
        (
            f"{where}:10",
            "dump_url_flow(): url_type='ftp' is not supported here: "
            "use one of direct, google_drive, google_sheet",
        ),
        (f"{where}:11", "dump_url_flow(): argument 'sheet' is not supported (docs/importar.md)"),
    ]
