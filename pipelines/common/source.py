"""Where a pipeline reads from: its configured source, or sample data in an explicitly local run only.

A pipeline's real source is configuration: a flow parameter that names it (``api_url``, ``database_url``,
``db_host``), or ``api_credentials`` / ``db_credentials`` naming the job secret whose variable
``<CREDENTIALS>__<PARAMETER>`` holds it, like the databases' credentials. Sample data (a sample server, a
sample database) is allowed only when the process says it is a local run: ``python flow.py``, ``python -m``
and ``./pants run`` go through the flow's ``__main__``, which calls :func:`run_locally`. A deployed run
(prod or staging) with no source fails before writing anything, naming what to set.

The validator (tools/pipeline_platform/validator/source.py) applies the same names to every deployment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from pipelines.common.secrets import get_secret, secret_env_var
from pipelines.common.settings import is_local_uri

LOCAL_RUN_ENV: Final = "PIPELINES_LOCAL_RUN"
# Flow parameters that name the source itself, and those that name the job secret holding it.
SOURCE_PARAMETERS: Final = ("api_url", "database_url", "db_host")
SECRET_PATH_PARAMETERS: Final = ("api_credentials", "db_credentials")
_TRUE: Final = frozenset({"1", "true", "yes"})


class SourceNotConfigured(RuntimeError):
    """A run outside a local run with no source: the message names the parameter and secret variable."""

    def __init__(self, what: str, parameter: str, secret_parameter: str = "api_credentials") -> None:
        variable = secret_env_var(f"<{secret_parameter}>", parameter)
        super().__init__(
            f"{what} has no source configured: set the deployment parameter {parameter!r}, or "
            f"{secret_parameter!r} naming the job secret that holds {variable}. Sample data is only for "
            f"explicitly local runs (python flow.py, ./pants run, {LOCAL_RUN_ENV}=1 on a local lake); "
            "nothing was written."
        )
        self.parameter = parameter
        self.secret_variable = variable


def is_local_run(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this process was started by a local entry point (see :func:`run_locally`)."""
    value = (os.environ if environ is None else environ).get(LOCAL_RUN_ENV, "")
    return value.strip().lower() in _TRUE


def run_locally() -> None:
    """Marks this process's runs as local: sample data may stand in for an unconfigured source.

    Called by the flows' ``__main__`` (``python flow.py``, ``python -m``, ``./pants run``) only; a worker
    imports the flow and never runs its ``__main__``.
    """
    os.environ[LOCAL_RUN_ENV] = "1"


def samples_allowed(lake_uri: str | None) -> bool:
    """Sample data only in a local run writing to a local lake: never into a real lake."""
    return is_local_run() and is_local_uri(lake_uri)


def configured_source(
    parameter: str,
    value: str | None,
    secret_path: str | None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """``value`` if given; else the secret variable ``<secret_path>__<PARAMETER>`` (which must be set when
    ``secret_path`` is given: :class:`~pipelines.common.secrets.MissingSecretError` names it); else None."""
    if value:
        return value
    if secret_path:
        return get_secret(secret_path, parameter, environ)
    return None
