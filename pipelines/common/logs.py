"""Logging that goes to Prefect's run logger inside a flow or task run, and to standard logging outside."""

from __future__ import annotations

import logging
from typing import Any

from prefect import get_run_logger
from prefect.exceptions import MissingContextError

Logger = logging.Logger | logging.LoggerAdapter[Any]


def run_logger(fallback_name: str = "pipelines") -> Logger:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(fallback_name)
