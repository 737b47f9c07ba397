"""``pipelines_utils.logging``: inside a flow run the messages reach the run's logs on a real Prefect server;
outside a run they go to standard logging."""

from __future__ import annotations

import logging

import pytest
from prefect import flow, get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogWorker

from pipelines.common.iplanrio.logging import log, log_mod


@flow
def logging_flow() -> None:
    log("mensagem de aviso", level="warning")
    for index in range(4):
        log_mod(f"lote {index}", index=index, mod=2)


def test_messages_reach_the_flow_runs_logs(prefect_harness: None) -> None:
    state = logging_flow(return_state=True)
    assert state.is_completed()
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    APILogWorker.drain_all(timeout=30)
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
    ours = [(entry.level, entry.message) for entry in logs if entry.name == "prefect.flow_runs"]
    warnings = [message for level, message in ours if level == logging.WARNING]
    assert len(warnings) == 1 and "mensagem de aviso" in warnings[0], ours
    batches = [message for level, message in ours if level == logging.INFO and "lote" in message]
    assert len(batches) == 2, ours
    assert "iteration 0:" in batches[0] and "lote 0" in batches[0]
    assert "iteration 2:" in batches[1] and "lote 2" in batches[1]


def test_outside_a_run_messages_go_to_standard_logging(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="pipelines.iplanrio"):
        log("linha 1\nlinha 2", level="debug")
        log_mod("pulado", index=1, mod=2)
    assert [(record.name, record.levelno) for record in caplog.records] == [
        ("pipelines.iplanrio", logging.DEBUG)
    ]
    assert caplog.records[0].getMessage() == "        ----\n    linha 1\n    linha 2\n\n"
    with pytest.raises(ValueError, match="Invalid log level: 'verbose'"):
        log("x", level="verbose")
