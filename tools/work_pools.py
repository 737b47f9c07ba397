"""Create or update the Kubernetes work pools from their committed base job templates (docs/deploy.md).

    PREFECT_API_URL=https://.../api ./pants run tools/work_pools.py [-- --pool datario-pool]

Idempotent: an unchanged template is left alone. The embedded server of the deploy tool gets its pools from
the same files without this command.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from prefect.client.orchestration import get_client
from prefect.settings import get_current_settings
from rich.console import Console

from pipeline_platform.pools import POOLS_DIR, PoolChange, apply_pools, load_pool_templates
from pipeline_platform.repo_root import find_repo_root
from pipelines.common.naming import WORK_POOLS


async def _apply(names: Sequence[str]) -> list[PoolChange]:
    templates = load_pool_templates(find_repo_root())
    missing = [name for name in names if name not in templates]
    if missing:
        raise SystemExit(f"no base job template for {', '.join(missing)} in {POOLS_DIR}/")
    async with get_client() as client:
        return await apply_pools(client, templates, names)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="work_pools.py", description=__doc__.splitlines()[0])
    parser.add_argument("--pool", action="append", choices=WORK_POOLS, help="only this pool (repeatable)")
    args = parser.parse_args(argv)
    console = Console()
    api_url = get_current_settings().api.url
    if not api_url:
        console.print(
            "[bold red]error:[/] set PREFECT_API_URL to the server whose work pools to create or update"
        )
        return 2
    changes = asyncio.run(_apply(args.pool or WORK_POOLS))
    for change in changes:
        console.print(f"{change.name}: {change.action} on {api_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
