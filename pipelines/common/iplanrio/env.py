"""``pipelines_utils.env``: settings and Google credentials from the environment the job's secret provides.

The Kubernetes secret named by the deployment's ``secretName`` is mounted as environment variables; Google
credentials are a base64-encoded service-account JSON in ``BASEDOSDADOS_CREDENTIALS_<PROD|STAGING>``, as in
the city's secrets.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Final, cast

from google.oauth2 import service_account
from prefect import task

from pipelines.common.iplanrio.logging import log
from pipelines.common.secrets import MissingSecretError, get_database_credentials

ACTIONS: Final = ("raise", "warn", "ignore")
MODES: Final = ("prod", "staging")
DEFAULT_SCOPES: Final = (
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/cloud-platform",
)


def getenv_or_action(key: str, default: str | None = None, action: str = "raise") -> str | None:
    if action not in ACTIONS:
        raise ValueError(f"Invalid action {action!r}. Must be one of {', '.join(ACTIONS)}.")
    value = os.environ.get(key, default)
    if value is None:
        if action == "raise":
            raise ValueError(f"Environment variable '{key}' not found.")
        if action == "warn":
            log(f"Environment variable '{key}' not found.", level="warning")
    return value


def credentials_variable(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"Mode must be 'prod' or 'staging', not {mode!r}")
    return f"BASEDOSDADOS_CREDENTIALS_{mode.upper()}"


def service_account_info(mode: str) -> dict[str, Any]:
    """The service account JSON of ``BASEDOSDADOS_CREDENTIALS_<MODE>``, decoded."""
    variable = credentials_variable(mode)
    encoded = os.environ.get(variable, "")
    if not encoded:
        raise MissingSecretError(variable)
    try:
        info = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"{variable} is not a base64-encoded service account JSON: {error}") from None
    if not isinstance(info, dict):
        raise ValueError(f"{variable} does not hold a JSON object")
    return info


def _credentials(mode: str) -> service_account.Credentials:
    info = service_account_info(mode)
    return cast(
        service_account.Credentials,
        service_account.Credentials.from_service_account_info(info),  # type: ignore[no-untyped-call]
    )


def get_bd_credentials_from_env(mode: str, scopes: list[str] | None = None) -> service_account.Credentials:
    return cast(service_account.Credentials, _credentials(mode).with_scopes(list(scopes or DEFAULT_SCOPES)))


def get_credentials_from_env(
    mode: str = "prod", scopes: list[str] | None = None
) -> service_account.Credentials:
    credentials = _credentials(mode)
    return cast(service_account.Credentials, credentials.with_scopes(scopes)) if scopes else credentials


def inject_bd_credentials(environment: str = "prod") -> None:
    """Writes the service account to a private file named by ``GOOGLE_APPLICATION_CREDENTIALS``."""
    variable = credentials_variable(environment)
    info = service_account_info(environment)
    handle, name = tempfile.mkstemp(prefix="google-credentials-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        json.dump(info, file)
    Path(name).chmod(0o600)
    os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = name
    log(f"INJECTED: {variable}")


@task
def inject_bd_credentials_task(environment: str = "prod") -> None:
    inject_bd_credentials(environment=environment)


def get_database_username_and_password_from_secret_env(secret_path: str) -> dict[str, str]:
    username, password = get_database_credentials(secret_path.replace("/", ""))
    return {"DB_USERNAME": username, "DB_PASSWORD": password}


def get_database_username_and_password_from_secret(infisical_secret_path: str) -> dict[str, str]:
    return get_database_username_and_password_from_secret_env(secret_path=infisical_secret_path)
