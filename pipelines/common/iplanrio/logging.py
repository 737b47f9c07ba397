"""``pipelines_utils.logging``: messages to Prefect's run logger (standard logging outside a run)."""

from __future__ import annotations

import logging
from typing import Any, Final

from pipelines.common.logs import run_logger

LEVELS: Final = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}


def log(msg: Any, level: str = "info") -> None:
    if level not in LEVELS:
        raise ValueError(f"Invalid log level: {level!r}; use one of {', '.join(LEVELS)}")
    indent = 4 * " "
    text = "\n".join(indent + line for line in f"{indent}----\n{msg}".split("\n")) + "\n\n"
    run_logger("pipelines.iplanrio").log(LEVELS[level], text)


def log_mod(msg: Any, level: str = "info", index: int = 0, mod: int = 1) -> None:
    """Logs only when ``index`` is a multiple of ``mod``."""
    if index % mod == 0:
        log(msg=f"iteration {index}:\n {msg}", level=level)
