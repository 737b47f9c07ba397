"""Secrets injected as environment variables, named ``<SECRET_PATH>__<KEY>`` (e.g. ``DB_1746__DB_USERNAME``).

In production the Kubernetes secret named by the deployment's ``secretName`` is mounted with ``envFrom``,
so every key of it becomes one such variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


class MissingSecretError(LookupError):
    """A secret whose environment variable is unset or empty."""

    def __init__(self, variable: str) -> None:
        super().__init__(f"secret environment variable {variable} is not set (or is empty)")
        self.variable = variable


def secret_env_var(secret_path: str, key: str) -> str:
    """``("db_1746", "db_username")`` -> ``DB_1746__DB_USERNAME``."""
    return f"{secret_path}__{key}".upper().replace("-", "_")


def get_secret(secret_path: str, key: str, environ: Mapping[str, str] | None = None) -> str:
    variable = secret_env_var(secret_path, key)
    value = (os.environ if environ is None else environ).get(variable, "")
    if not value:
        raise MissingSecretError(variable)
    return value


def get_database_credentials(secret_path: str, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """``(username, password)`` from ``<SECRET_PATH>__DB_USERNAME`` and ``<SECRET_PATH>__DB_PASSWORD``."""
    return (
        get_secret(secret_path, "DB_USERNAME", environ),
        get_secret(secret_path, "DB_PASSWORD", environ),
    )
