"""detect-secrets over an imported pipeline, with the repository's baseline settings: what it flags is added
to .secrets.baseline (so the pipeline's lint passes) and reported as ``!`` with file:line for review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from detect_secrets.core.secrets_collection import SecretsCollection
from detect_secrets.settings import transient_settings

from pipeline_import.imported import Imported

BASELINE = ".secrets.baseline"


def review_secrets(root: Path, target: Path, imported: Imported) -> None:
    path = root / BASELINE
    if not path.is_file():
        return
    baseline: dict[str, Any] = json.loads(path.read_text())
    files = sorted(
        str(file.relative_to(root))
        for file in target.rglob("*")
        if file.is_file() and "__pycache__" not in file.parts
    )
    settings = {"plugins_used": baseline["plugins_used"], "filters_used": baseline["filters_used"]}
    with transient_settings(settings):
        secrets = SecretsCollection(root=str(root))
        for file in files:
            secrets.scan_file(file)
        found: dict[str, list[dict[str, Any]]] = secrets.json()
    if not found:
        return
    for file, findings in sorted(found.items()):
        # detect-secrets records the path it read; the baseline and the lint name files from the root.
        baseline["results"][file] = [{**finding, "filename": file} for finding in findings]
        for finding in findings:
            imported.todo(
                f"{file}:{finding['line_number']}",
                f"detect-secrets flags a {finding['type']}: added to {BASELINE} so that lint passes; check "
                "it is not a real secret (docs/importar.md)",
            )
    path.write_text(json.dumps(baseline, indent=2) + "\n")
