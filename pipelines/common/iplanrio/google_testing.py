"""Google test parts: a real service-account key (made by openssl) as the job's secret holds it, and the
lake bucket the GCS server of conftest.py serves."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

LAKE_BUCKET = "datario-lake"


def new_service_account(
    directory: Path, token_uri: str = "https://oauth2.googleapis.com/token"
) -> dict[str, Any]:
    key = directory / "key.pem"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)],
        check=True,
        capture_output=True,
    )
    return {
        "type": "service_account",
        "project_id": "rj-escritorio-dev",
        "private_key_id": "1",
        "private_key": key.read_text(),
        "client_email": "pipelines@rj-escritorio-dev.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": token_uri,
    }


def encoded(info: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(info).encode()).decode()
