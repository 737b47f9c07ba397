#!/usr/bin/env bash
# The deploy tool (deploy_prefect_flows.py) with Pants started once per deploy: what CI runs (docs/deploy.md).
#
#     tools/deploy_prefect_flows.sh --environment staging --pipeline rj_smtr__gps_brt --dry-run
#
# Same flags and PIPELINES_DEPLOY_* variables as deploy_prefect_flows.py; how Pants is started: run_tool.sh.
exec "$(dirname "${BASH_SOURCE[0]}")/run_tool.sh" deploy_prefect_flows "$@"
