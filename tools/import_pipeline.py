"""Import pipelines from the city's old repository layout into this repository (docs/importar.md).

    ./pants run tools/import_pipeline.py -- [--pool-map OLD=NEW ...] [--no-refresh] [--force] DIR...

Each DIR is a pipeline directory of the old layout (flow.py, prefect.yaml, pyproject.toml, Dockerfile, ...).
For each one this writes ``pipelines/<name>/`` in this repository's conventions: the BUILD one-liner and the
Dockerfile (from templates/), the Python sources (subpackages too; or, for a dump, the generic dump's flow and
one ``queries/<table>.sql`` per table), and the prefect.yaml rewritten (no build/push steps, this repo's
pull step and image, pools mapped, ``secretName`` per environment, names ``rj-<sec>--<pipe>--<env>``, one
deployment per environment). The pyproject's third-party requirements go to ``3rdparty/python/`` and the pins
are refreshed. It ends with a report per pipeline: what it changed, and what a person must still do, with file
and line. It never overwrites an existing pipeline without ``--force``, and exits non-zero only when an input
cannot be imported (saying why).

The logic is in tools/pipeline_import/ (one module per step; cli.py is the command line).
"""

import sys

from pipeline_import.cli import main

if __name__ == "__main__":
    sys.exit(main())
