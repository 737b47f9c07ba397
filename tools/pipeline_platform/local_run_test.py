from __future__ import annotations

from pipeline_platform.local_run import _docker_job_variables, forwarded_environment
from pipelines.common.settings import GCS_ENDPOINT_ENV, LAKE_URI_ENV


def test_the_local_run_gets_the_lake_and_the_job_secret_variables_only() -> None:
    environ = {
        LAKE_URI_ENV: "gs://lake/x",
        GCS_ENDPOINT_ENV: "http://127.0.0.1:9023",
        "SMTR_BRT_GPS__API_URL": "http://127.0.0.1:8000/veiculos",
        "DB_1746__DB_USERNAME": "leitor",
        "EMPTY__VALUE": "",
        "HOME": "/root",
        "PATH": "/usr/bin",
        "__PRIVATE": "x",
        "TRAILING__": "x",
        "lower__case": "x",
    }
    assert forwarded_environment(environ) == {
        "DB_1746__DB_USERNAME": "leitor",
        GCS_ENDPOINT_ENV: "http://127.0.0.1:9023",
        LAKE_URI_ENV: "gs://lake/x",
        "SMTR_BRT_GPS__API_URL": "http://127.0.0.1:8000/veiculos",
    }
    variables = _docker_job_variables("img:tag", {"HOME": "/root"})
    assert variables["env"] == {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    assert variables["network_mode"] == "host"
